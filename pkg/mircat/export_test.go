package mircat

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
)

func TestExportToSQLite(t *testing.T) {
	dir := streamPingPong(t)
	db := filepath.Join(t.TempDir(), "run.db")
	r := mircat(t, "", "export", "--sqlite", db, dir)
	r.wantCode(t, exitOK)
	if !strings.HasPrefix(r.stdout, "exported ") || !strings.Contains(r.stdout, " events of 2 runs to ") {
		t.Errorf("export output:\n%s", r.stdout)
	}
	// The database holds the same events: list agrees, and the runs
	// replay from it.
	fromStream := mircat(t, "", "list", dir)
	fromDB := mircat(t, "", "list", db)
	fromDB.wantCode(t, exitOK)
	first := func(s string) string { return strings.SplitN(s, "\n", 2)[0] }
	if a, b := strings.Fields(first(fromStream.stdout)), strings.Fields(first(fromDB.stdout)); a[0] != b[0] {
		t.Errorf("the stream log has %s events, the export %s", a[0], b[0])
	}
	rp := mircat(t, "", "replay", db)
	rp.wantCode(t, exitOK)
	if m := identicalLine.FindAllStringSubmatch(rp.stdout, -1); len(m) != 2 {
		t.Errorf("replay of the export:\n%s%s", rp.stdout, rp.stderr)
	}

	r = mircat(t, "", "export", "--sqlite", db, dir)
	if r.code != exitUsage || !strings.Contains(r.stderr, "exists") {
		t.Errorf("export over an existing database: exit %d, %s", r.code, r.stderr)
	}
	r = mircat(t, "", "export", dir)
	if r.code != exitUsage || !strings.Contains(r.stderr, "--sqlite") {
		t.Errorf("export without --sqlite: exit %d, %s", r.code, r.stderr)
	}
}

// The exported database answers SQL on messages by their type.
func TestExportedMessagesQueryableByType(t *testing.T) {
	dir := streamPingPong(t)
	path := filepath.Join(t.TempDir(), "run.db")
	mircat(t, "", "export", "--sqlite", path, dir).wantCode(t, exitOK)
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var pongs, pings int
	q := `SELECT count(*) FROM events WHERE node = ? AND type = 'mir.SendMessage' AND json_extract(event, '$.Msg."$type"') = ?`
	if err := db.QueryRow(q, "1", "pingpong.Pong").Scan(&pongs); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(q, "0", "pingpong.Ping").Scan(&pings); err != nil {
		t.Fatal(err)
	}
	if pongs < 5 || pings < 5 {
		t.Errorf("%d pongs sent by node 1 and %d pings by node 0, want at least 5 each", pongs, pings)
	}
}

// Export says what it could not read: a log cut off by a crash is
// exported up to where it ends, with a warning; an input that cannot be
// opened stops it.
func TestExportReportsProblems(t *testing.T) {
	dir := streamPingPong(t)
	cutDir := t.TempDir()
	cutLog := cut(t, bigLog(t, t.TempDir(), 20000), -20)
	r := mircat(t, "", "export", "--sqlite", filepath.Join(cutDir, "a.db"), cutLog)
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stderr, "warning:") {
		t.Errorf("export of a cut-off log gave no warning; stderr:\n%s", r.stderr)
	}
	r = mircat(t, "", "export", "--sqlite", filepath.Join(cutDir, "b.db"), dir, filepath.Join(dir, "missing.mirlog"))
	if r.code != exitPartial || !strings.Contains(r.stderr, "missing.mirlog") {
		t.Errorf("export with a missing input: exit %d, stderr:\n%s", r.code, r.stderr)
	}
}
