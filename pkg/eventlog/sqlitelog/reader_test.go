package sqlitelog_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/eventlog/sqlitelog"
	"github.com/mirframework/mir/stdtypes"
)

func TestOpenQuery(t *testing.T) {
	path := dbPath(t)
	writeRun(t, path, "a", 40, sqlitelog.Options{})
	writeRun(t, path, "b", 40, sqlitelog.Options{})
	writeRun(t, path, "a", 20, sqlitelog.Options{})
	all, _ := openAll(t, path)
	mid := all[len(all)/2].Time

	for _, tc := range []struct {
		name string
		q    eventlog.Query
	}{
		{"all", eventlog.Query{}},
		{"node", eventlog.Query{Nodes: []stdtypes.NodeID{"b"}}},
		{"nodes", eventlog.Query{Nodes: []stdtypes.NodeID{"b", "a"}}},
		{"no such node", eventlog.Query{Nodes: []stdtypes.NodeID{"z"}}},
		{"seq range", eventlog.Query{FromSeq: 5, ToSeq: 12}},
		{"from seq", eventlog.Query{FromSeq: 30}},
		{"module", eventlog.Query{Filter: eventlog.Filter{Modules: []stdtypes.ModuleID{"m1"}}}},
		{"submodule", eventlog.Query{Filter: eventlog.Filter{Modules: []stdtypes.ModuleID{"m2/sub", "m3"}}}},
		{"module prefix is not a parent", eventlog.Query{Filter: eventlog.Filter{Modules: []stdtypes.ModuleID{"m"}}}},
		{"type", eventlog.Query{Filter: eventlog.Filter{Types: []string{"sqlitelog_test.Ping"}}}},
		{"other type", eventlog.Query{Filter: eventlog.Filter{Types: []string{"mir.Init"}}}},
		{"from", eventlog.Query{From: mid}},
		{"to", eventlog.Query{To: mid}},
		{"all conditions", eventlog.Query{Nodes: []stdtypes.NodeID{"a"}, FromSeq: 2, ToSeq: 30, To: mid,
			Filter: eventlog.Filter{Modules: []stdtypes.ModuleID{"m0", "m1"}, Types: []string{"sqlitelog_test.Ping"}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var want []*eventlog.Record
			for _, r := range all {
				if tc.q.Match(r) {
					want = append(want, r)
				}
			}
			src, err := sqlitelog.OpenQuery(path, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			got := readAll(t, src)
			if len(got) != len(want) {
				t.Fatalf("OpenQuery read %d records, Query.Match selects %d", len(got), len(want))
			}
			for i := range got {
				if got[i].Node != want[i].Node || got[i].Seq != want[i].Seq || !got[i].Time.Equal(want[i].Time) {
					t.Fatalf("record %d: %s/%d, want %s/%d", i, got[i].Node, got[i].Seq, want[i].Node, want[i].Seq)
				}
			}
		})
	}
}

// TestSQL checks that users can query the log with plain SQL, including the
// event's fields through SQLite's JSON functions.
func TestSQL(t *testing.T) {
	path := dbPath(t)
	writeRun(t, path, "a", 10, sqlitelog.Options{Meta: map[string]string{"replay": "pingpong"}})
	db := openSQL(t, path)

	var n int
	if err := db.QueryRow(`SELECT count(*) FROM events WHERE type = 'sqlitelog_test.Ping' AND json_extract(event, '$.N') >= 7`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("%d pings with N >= 7, want 3", n)
	}
	var text, dest string
	if err := db.QueryRow(`SELECT json_extract(event, '$.Text'), json_extract(event, '$.DestModule') FROM events WHERE seq = 4`).Scan(&text, &dest); err != nil {
		t.Fatal(err)
	}
	if text != "hello" || dest != "m0/sub" {
		t.Errorf("event 4: Text %q, DestModule %q", text, dest)
	}
	var timeText string
	var nanos int64
	if err := db.QueryRow(`SELECT time_text, time FROM events_view WHERE seq = 0`).Scan(&timeText, &nanos); err != nil {
		t.Fatal(err)
	}
	parsed, err := time.Parse(time.RFC3339Nano, timeText)
	if err != nil || parsed.UnixNano() != nanos {
		t.Errorf("time_text %q (%v) is not time %d", timeText, err, nanos)
	}
	var replay string
	if err := db.QueryRow(`SELECT value FROM meta JOIN runs USING (run) WHERE node = 'a' AND key = 'replay'`).Scan(&replay); err != nil || replay != "pingpong" {
		t.Errorf("meta replay = %q, %v", replay, err)
	}
	// The indexes are used for what users filter by.
	for _, q := range []string{
		`SELECT * FROM events WHERE type = 'x'`,
		`SELECT * FROM events WHERE dest = 'x'`,
		`SELECT * FROM events WHERE node = 'a' AND run = 1 AND seq = 3`,
	} {
		var plan strings.Builder
		rows, err := db.Query(`EXPLAIN QUERY PLAN ` + q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan.WriteString(detail)
		}
		rows.Close()
		if !strings.Contains(plan.String(), "USING INDEX") && !strings.Contains(plan.String(), "PRIMARY KEY") {
			t.Errorf("%s: plan %q uses no index", q, plan.String())
		}
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A SQLite database of someone else's.
	other := filepath.Join(dir, "other.db")
	db := openSQL(t, other)
	if _, err := db.Exec(`CREATE TABLE events (x); INSERT INTO events VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	for _, tc := range []struct {
		name  string
		path  string
		want  error
		isLog bool
	}{
		{"missing", filepath.Join(dir, "missing.db"), os.ErrNotExist, false},
		{"empty", write("empty.db", nil), eventlog.ErrNotLog, false},
		{"text", write("text.db", []byte("hello, world\n")), eventlog.ErrNotLog, false},
		{"short", write("short.db", []byte("SQLite")), eventlog.ErrNotLog, false},
		{"stream log", write("x.mirlog", []byte("MIRLOG\x00\x01rest")), eventlog.ErrNotLog, false},
		{"header only", write("header.db", []byte("SQLite format 3\x00")), nil, true},
		{"garbage after header", write("garbage.db", append([]byte("SQLite format 3\x00"), make([]byte, 5000)...)), nil, true},
		{"other database", other, eventlog.ErrNotLog, true},
		{"directory", dir, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sqlitelog.IsLog(tc.path); got != tc.isLog {
				t.Errorf("IsLog = %v, want %v", got, tc.isLog)
			}
			src, err := sqlitelog.Open(tc.path)
			if err == nil {
				src.Close()
				t.Fatal("Open succeeded")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("Open: %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.path) {
				t.Errorf("error %q does not name the file", err)
			}
			if _, err := sqlitelog.Runs(tc.path); err == nil {
				t.Error("Runs succeeded")
			}
			t.Log(err)
		})
	}
	// Opening did not create or change anything.
	if _, err := os.Stat(filepath.Join(dir, "missing.db")); !os.IsNotExist(err) {
		t.Errorf("Open created the missing file: %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "empty.db")); len(data) != 0 {
		t.Errorf("Open wrote to the empty file")
	}
}

func TestCorruptRows(t *testing.T) {
	for _, tc := range []struct {
		name, update string
	}{
		{"negative seq", `UPDATE events SET seq = -5 WHERE seq = 3`},
		{"text seq", `UPDATE events SET seq = 'three' WHERE seq = 3`},
		{"bad input flag", `UPDATE events SET input = 7 WHERE seq = 3`},
		{"null dest", `UPDATE events SET dest = '' WHERE seq = 3`},
		{"text time", `UPDATE events SET time = 'noon' WHERE seq = 3`},
		{"bad run format", `UPDATE runs SET format = 99`},
		{"text run start", `UPDATE runs SET start = 'x'`},
		{"malformed data", `UPDATE events SET data = x'ff' WHERE seq = 3`},
		{"data cut short", `UPDATE events SET data = substr(data, 1, length(data) - 1) WHERE seq = 3`},
		{"data with more after it", `UPDATE events SET data = data || x'00' WHERE seq = 3`},
		{"missing column", `ALTER TABLE events DROP COLUMN data`},
		{"missing table", `DROP TABLE gaps`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := dbPath(t)
			writeRun(t, path, "a", 6, sqlitelog.Options{})
			db := openSQL(t, path)
			if _, err := db.Exec(tc.update); err != nil {
				t.Fatal(err)
			}
			db.Close()
			src, err := sqlitelog.Open(path)
			if err == nil {
				defer src.Close()
				for err == nil {
					_, err = src.Next()
				}
			}
			if err == nil || errors.Is(err, os.ErrNotExist) || err.Error() == "EOF" {
				t.Fatalf("read without an error: %v", err)
			}
			if !errors.Is(err, eventlog.ErrCorrupt) && !errors.Is(err, eventlog.ErrNotLog) {
				t.Errorf("error %v is neither ErrCorrupt nor ErrNotLog", err)
			}
			t.Log(err)
		})
	}
}

// TestTruncated cuts a log short, as a copy that stopped half way would: an
// error or fewer records, never a panic.
func TestTruncated(t *testing.T) {
	path := dbPath(t)
	writeRun(t, path, "a", 3000, sqlitelog.Options{})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{100, 4096, len(data) / 2, len(data) - 4096} {
		cut := filepath.Join(t.TempDir(), "cut.db")
		if err := os.WriteFile(cut, data[:size], 0o644); err != nil {
			t.Fatal(err)
		}
		src, err := sqlitelog.Open(cut)
		if err != nil {
			t.Logf("%d bytes: %v", size, err)
			continue
		}
		n := 0
		for {
			_, err = src.Next()
			if err != nil {
				break
			}
			n++
		}
		src.Close()
		t.Logf("%d bytes: %d records, then %v", size, n, err)
		if err.Error() != "EOF" && !errors.Is(err, eventlog.ErrCorrupt) {
			t.Errorf("%d bytes: %v is not ErrCorrupt", size, err)
		}
	}
}

func TestEmptyLog(t *testing.T) {
	path := dbPath(t)
	writeRun(t, path, "a", 0, sqlitelog.Options{})
	recs, warnings := openAll(t, path)
	if len(recs) != 0 || len(warnings) != 0 {
		t.Errorf("read %d records, warnings %q", len(recs), warnings)
	}
}

// A log with very many gaps keeps a bounded number of warnings: a damaged or
// hostile file must not make the reader's memory grow with its size.
func TestWarningsBounded(t *testing.T) {
	path := dbPath(t)
	sink, err := sqlitelog.NewSink(path, "a", sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1, 0)
	for i := range uint64(500) {
		if err := sink.WriteBatch(batchOf("a", i, 2*i, at, newPing("m", i))); err != nil {
			t.Fatal(err)
		}
		if err := sink.WriteGap(1); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	src, err := sqlitelog.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	w := src.Warnings()
	if len(w) < 100 || len(w) > 101 {
		t.Fatalf("%d warnings for 500 gaps, want 100 and one saying more are not shown", len(w))
	}
	if !strings.Contains(w[len(w)-1], "more warnings not shown") {
		t.Errorf("last warning %q does not say that more are not shown", w[len(w)-1])
	}
}
