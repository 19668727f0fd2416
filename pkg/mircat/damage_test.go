package mircat

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/eventlog"
)

// blockyLog writes pingBatches three times over as node "0"'s stream log,
// flushing after each batch so that the log has many blocks. It returns
// the file's path and the size it had when created, which is its header.
func blockyLog(t *testing.T) (path string, headerBytes int) {
	t.Helper()
	sink, err := eventlog.NewStreamSink(t.TempDir(), "0", eventlog.StreamOptions{})
	if err != nil {
		t.Fatal(err)
	}
	path = sink.Files()[0]
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	var seq, number uint64
	for range 3 {
		for _, b := range pingBatches() {
			// The batches' times are left zero: show prints them alike.
			eb := eventlog.Batch{Node: "0", Number: number}
			for i, ev := range b.events {
				eb.Entries = append(eb.Entries, eventlog.Entry{Seq: seq, Input: b.inputs[i], Event: ev})
				seq++
			}
			number++
			if err := sink.WriteBatch(&eb); err != nil {
				t.Fatal(err)
			}
			if err := sink.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	return path, int(info.Size())
}

// writeFlipped writes data with bit (off%8) of byte off flipped to a new
// file and returns its path.
func writeFlipped(t *testing.T, data []byte, off int) string {
	t.Helper()
	flipped := append([]byte(nil), data...)
	flipped[off] ^= 1 << (off % 8)
	path := filepath.Join(t.TempDir(), "flipped.mirlog")
	if err := os.WriteFile(path, flipped, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A log with a bit flipped anywhere after its header: show exits 3, names
// the file and the damaged block's offset, and prints only events that
// the intact log holds, in order, before the damage.
func TestShowFlippedLog(t *testing.T) {
	path, headerBytes := blockyLog(t)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	intact := mircat(t, "", "show", path)
	intact.wantCode(t, exitOK)
	want := lines(intact.stdout)
	if len(want) != 27 {
		t.Fatalf("the intact log shows %d events, want 27:\n%s", len(want), intact.stdout)
	}
	for off := headerBytes; off < len(data); off += 3 {
		flipped := writeFlipped(t, data, off)
		r := mircat(t, "", "show", flipped)
		if r.code != exitPartial {
			t.Fatalf("bit %d of byte %d flipped: exit %d, want %d\nstderr:\n%s", off%8, off, r.code, exitPartial, r.stderr)
		}
		if !strings.Contains(r.stderr, "mircat: "+flipped+": ") || !strings.Contains(r.stderr, "offset") ||
			!strings.Contains(r.stderr, eventlog.ErrCorrupt.Error()) {
			t.Fatalf("bit %d of byte %d flipped: stderr does not name the file, the offset and the damage:\n%s", off%8, off, r.stderr)
		}
		// A flip in the last block, which holds only the log's end, comes
		// after all the events.
		got := lines(r.stdout)
		if len(got) > len(want) {
			t.Fatalf("bit %d of byte %d flipped: %d events shown", off%8, off, len(got))
		}
		for i, l := range got {
			if l != want[i] {
				t.Fatalf("bit %d of byte %d flipped: event %d shown as\n%s\nthe intact log shows\n%s", off%8, off, i, l, want[i])
			}
		}
	}
}

// Every command that reads logs exits 3 on a run's logs with one damaged
// in its middle, naming the file and the offset; the other log is read.
func TestCommandsOnFlippedLog(t *testing.T) {
	dir := streamPingPong(t)
	path := filepath.Join(dir, "0.000000.mirlog")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	flipped := writeFlipped(t, data, len(data)/2)
	if err := os.Rename(flipped, path); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range [][]string{
		{"list"}, {"show"}, {"show", "--json"}, {"debug"},
		{"export", "--sqlite", filepath.Join(t.TempDir(), "out.db")},
		{"replay"},
	} {
		r := mircat(t, toEnd, append(cmd, dir)...)
		if r.code != exitPartial || !strings.Contains(r.stderr, path+": ") || !strings.Contains(r.stderr, "offset") {
			t.Errorf("%q: exit %d, want %d naming the file and the offset; stderr:\n%s", cmd, r.code, exitPartial, r.stderr)
		}
	}
}

// A SQLite log with a row whose data are not an encoded event: show exits
// 3 and shows the events before it, not the row as one that cannot be
// decoded.
func TestShowMalformedSQLiteRow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run.db")
	writeSQLiteLog(t, path, "0", pingBatches())
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`UPDATE events SET data = substr(data, 1, length(data) - 1) WHERE seq = 4`)
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	r := mircat(t, "", "show", path)
	r.wantCode(t, exitPartial)
	if n := len(lines(r.stdout)); n != 4 || strings.Contains(r.stdout, "cannot decode") {
		t.Errorf("%d events shown, want the 4 before the damaged row:\n%s", n, r.stdout)
	}
	if !strings.Contains(r.stderr, path+": node 0, run 1, after seq 3: "+eventlog.ErrCorrupt.Error()) {
		t.Errorf("stderr does not name the file, the node, the run and the seq:\n%s", r.stderr)
	}
}
