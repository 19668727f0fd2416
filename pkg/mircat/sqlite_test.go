package mircat

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // For the test's own database.

	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/eventlog/sqlitelog"
	"github.com/mirframework/mir/stdtypes"
)

// writeSQLiteLog records batches as node's events into the SQLite log at
// path (several nodes may share one file).
func writeSQLiteLog(t *testing.T, path string, node stdtypes.NodeID, batches []batch) {
	t.Helper()
	rec, err := sqlitelog.NewRecorder(path, node, sqlitelog.Options{Meta: map[string]string{"replay": "test"}}, eventlog.RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	record(t, rec, batches)
}

func TestSQLiteLogs(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "run.db")
	writeSQLiteLog(t, db, "0", pingBatches())
	writeSQLiteLog(t, db, "1", unencodableBatches())

	r := mircat(t, "", "list", db)
	r.wantCode(t, exitOK)
	if !strings.HasPrefix(r.stdout, "12 events, 2 nodes, 8 modules, 7 event types in 1 file\n") ||
		!tableRow("0", 9).MatchString(r.stdout) || !tableRow("1", 3).MatchString(r.stdout) {
		t.Errorf("list:\n%s", r.stdout)
	}
	// The same lines as from a stream log of the same events.
	stream := writeLog(t, t.TempDir(), "0", pingBatches())
	fromDB := mircat(t, "", "show", "--node", "0", db)
	fromStream := mircat(t, "", "show", stream)
	if stripTimes(fromDB.stdout) != stripTimes(fromStream.stdout) {
		t.Errorf("SQLite:\n%s\nstream:\n%s", fromDB.stdout, fromStream.stdout)
	}
	r = mircat(t, "", "show", "--node", "1", db)
	if got := lines(r.stdout); len(got) != 3 || !strings.Contains(got[1], "mircat.unregistered  (not encodable when recorded: ") {
		t.Errorf("unencodable from SQLite:\n%s", r.stdout)
	}

	// A directory with a SQLite log and a stream log, merged.
	writeLog(t, dir, "2", pingBatches())
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a log"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = mircat(t, "", "list", dir)
	r.wantCode(t, exitOK)
	if !strings.HasPrefix(r.stdout, "21 events, 3 nodes,") || !strings.Contains(r.stdout, " in 2 files\n") {
		t.Errorf("list of a directory:\n%s", r.stdout)
	}
	r = mircat(t, "e Unknown\ne unregistered\np\n", "debug", dir)
	r.wantCode(t, exitOK)
	if !strings.Contains(r.stdout, "no event of type Unknown after this one") || !strings.Contains(r.stdout, "file   "+db+"\n") {
		t.Errorf("debug:\n%s", r.stdout)
	}

	set, err := openLogs([]string{db})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	files := set.Files()
	if len(files) != 1 || files[0].Kind != kindSQLite || len(files[0].Runs) != 2 || files[0].Runs[0].Meta["replay"] != "test" {
		t.Errorf("files: %+v", files)
	}
}

// stripTimes removes the times that start show's lines.
func stripTimes(out string) string {
	var b strings.Builder
	for _, l := range lines(out) {
		_, rest, _ := strings.Cut(l, "  ")
		b.WriteString(rest + "\n")
	}
	return b.String()
}

func TestBadSQLiteLogs(t *testing.T) {
	dir := t.TempDir()
	// A SQLite database that is no event log.
	other := filepath.Join(dir, "other.db")
	sdb, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdb.Exec("CREATE TABLE t (x INTEGER)"); err != nil {
		t.Fatal(err)
	}
	sdb.Close()
	garbage := filepath.Join(dir, "garbage.db")
	if err := os.WriteFile(garbage, []byte(sqliteMagic+strings.Repeat("\x01", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.db")
	writeSQLiteLog(t, good, "0", pingBatches())
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.db")
	if err := os.WriteFile(truncated, data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{other, garbage, truncated} {
		for _, cmd := range commands {
			r := mircat(t, toEnd, append(cmd, path)...)
			if r.code == exitOK || len(lines(r.stderr)) == 0 || !strings.HasPrefix(r.stderr, "mircat: "+path+": ") {
				t.Errorf("%s, %q: exit %d, stderr %q", filepath.Base(path), cmd, r.code, r.stderr)
			}
		}
	}
}
