package sqlitelog_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/eventlog/sqlitelog"
	"github.com/mirframework/mir/stdtypes"
)

// flushEvery is how many events the benchmarks write between flushes. A
// busy node dispatches more than this in the recorder's default
// FlushInterval (200 ms), so the figures err on the side of small
// transactions.
const flushEvery = 4096

// BenchmarkSink measures the cost per event of writing through the sink,
// for a small event: b.N counts events.
func BenchmarkSink(b *testing.B) {
	for _, size := range []int{1, 16} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			sink, err := sqlitelog.NewSink(dbPath(b), "1", sqlitelog.Options{})
			if err != nil {
				b.Fatal(err)
			}
			evs := make([]stdtypes.Event, size)
			for i := range evs {
				evs[i] = newPing("app", uint64(i))
			}
			batch := batchOf("1", 0, 0, time.Now(), evs...)
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			var seq uint64
			for seq < uint64(b.N) {
				for i := range batch.Entries {
					batch.Entries[i].Seq = seq + uint64(i)
				}
				if err := sink.WriteBatch(batch); err != nil {
					b.Fatal(err)
				}
				batch.Number++
				seq += uint64(size)
				if seq%flushEvery < uint64(size) {
					if err := sink.Flush(); err != nil {
						b.Fatal(err)
					}
				}
			}
			if err := sink.Close(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(seq), "cpu-ns/event")
			b.ReportMetric(float64(seq)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(seq), "ns/event")
		})
	}
}

// BenchmarkBareInsert is the floor: inserting a row like the sink's into the
// same table with modernc.org/sqlite and database/sql, the values computed
// in advance (no encoding, no JSON), in transactions of flushEvery rows.
// b.N counts rows.
func BenchmarkBareInsert(b *testing.B) {
	ev := newPing("app", 7)
	data, err := codec.EncodeEvent(ev)
	if err != nil {
		b.Fatal(err)
	}
	json := string(eventlog.EventJSON(ev))
	for _, bc := range []struct {
		name    string
		rows    int
		indexes bool
	}{
		{"rows=1", 1, true},
		{"rows=32", 32, true},
		{"rows=32/noindex", 32, false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			// The sink's file settings, and its table.
			path := dbPath(b)
			db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			ddl := `CREATE TABLE events (node TEXT NOT NULL, run INTEGER NOT NULL, seq INTEGER NOT NULL,
				batch INTEGER NOT NULL, time INTEGER NOT NULL, dest TEXT NOT NULL, type TEXT NOT NULL,
				input INTEGER NOT NULL, unencodable INTEGER NOT NULL, event TEXT NOT NULL, data BLOB NOT NULL,
				PRIMARY KEY (node, run, seq))`
			if _, err := db.Exec(ddl); err != nil {
				b.Fatal(err)
			}
			if bc.indexes {
				if _, err := db.Exec(`CREATE INDEX events_type ON events (type); CREATE INDEX events_dest ON events (dest)`); err != nil {
					b.Fatal(err)
				}
			}
			row := "(?,?,?,?,?,?,?,?,?,?,?)"
			stmt, err := db.Prepare("INSERT INTO events VALUES " + strings.TrimSuffix(strings.Repeat(row+",", bc.rows), ","))
			if err != nil {
				b.Fatal(err)
			}
			defer stmt.Close()
			args := make([]any, 0, 11*bc.rows)
			now := time.Now().UnixNano()
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			var tx *sql.Tx
			var txStmt *sql.Stmt
			for seq := 0; seq < b.N; seq += bc.rows {
				if tx == nil {
					if tx, err = db.Begin(); err != nil {
						b.Fatal(err)
					}
					txStmt = tx.StmtContext(ctx, stmt)
				}
				args = args[:0]
				for i := range bc.rows {
					args = append(args, "1", int64(1), int64(seq+i), int64(seq+i), now, "app", "sqlitelog_test.Ping",
						true, false, json, data)
				}
				if _, err := txStmt.ExecContext(ctx, args...); err != nil {
					b.Fatal(err)
				}
				if (seq+bc.rows)%flushEvery < bc.rows {
					if err := tx.Commit(); err != nil {
						b.Fatal(err)
					}
					tx = nil
				}
			}
			if tx != nil {
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			rows := (b.N + bc.rows - 1) / bc.rows * bc.rows
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(rows), "cpu-ns/row")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rows), "ns/row")
		})
	}
}

// cpuTime returns the CPU time the process has used (user and system).
// The benchmarks report it per event beside the wall time because the
// machines they run on are shared: CPU time is what the process itself
// spent, whatever the others do, though it leaves out waiting for the disk.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRead measures reading a log back through Open (two runs merged):
// b.N counts records.
func BenchmarkRead(b *testing.B) {
	path := dbPath(b)
	const perRun = 20000
	for _, node := range []stdtypes.NodeID{"1", "2"} {
		sink, err := sqlitelog.NewSink(path, node, sqlitelog.Options{})
		if err != nil {
			b.Fatal(err)
		}
		for i := range perRun {
			if err := sink.WriteBatch(batchOf(node, uint64(i), uint64(i), time.Now(), newPing("app", uint64(i)))); err != nil {
				b.Fatal(err)
			}
		}
		if err := sink.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	read := 0
	for read < b.N {
		src, err := sqlitelog.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		for read < b.N {
			if _, err := src.Next(); err != nil {
				break
			}
			read++
		}
		if err := src.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(read), "cpu-ns/record")
	b.ReportMetric(float64(read)/b.Elapsed().Seconds(), "records/s")
}
