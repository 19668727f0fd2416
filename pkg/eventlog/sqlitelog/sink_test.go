package sqlitelog_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/eventlog/sqlitelog"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// readAll reads src to its end, keeping copies of the records.
func readAll(t *testing.T, src eventlog.Source) []*eventlog.Record {
	t.Helper()
	var recs []*eventlog.Record
	for {
		rec, err := src.Next()
		if err == io.EOF {
			return recs
		}
		if err != nil {
			t.Fatalf("Next after %d records: %v", len(recs), err)
		}
		recs = append(recs, rec.Clone())
	}
}

// openAll opens path and reads all its records.
func openAll(t *testing.T, path string) ([]*eventlog.Record, []string) {
	t.Helper()
	src, err := sqlitelog.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	recs := readAll(t, src)
	warnings := src.Warnings()
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	return recs, warnings
}

// checkOrder fails unless recs are ordered by time, then node, then seq.
func checkOrder(t *testing.T, recs []*eventlog.Record) {
	t.Helper()
	for i := 1; i < len(recs); i++ {
		a, b := recs[i-1], recs[i]
		if b.Time.Before(a.Time) || (b.Time.Equal(a.Time) && (b.Node < a.Node || (b.Node == a.Node && b.Seq < a.Seq))) {
			t.Fatalf("records %d and %d out of order: %s/%d at %v, then %s/%d at %v", i-1, i, a.Node, a.Seq, a.Time, b.Node, b.Seq, b.Time)
		}
	}
}

func TestRoundTripRecorder(t *testing.T) {
	path := dbPath(t)
	meta := map[string]string{"replay": "pingpong", "params": `{"n":3}`}
	rec, err := sqlitelog.NewRecorder(path, "n1", sqlitelog.Options{Meta: meta}, eventlog.RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var want []stdtypes.Event
	var wantInputs []bool
	for i := range 50 {
		evs := []stdtypes.Event{
			newPing("app", uint64(i)),
			&pong{Header: stdtypes.NewHeader("net/tcp"), From: "n2", Data: []byte{byte(i), 0xff}},
		}
		if i%10 == 0 {
			evs = append(evs, &unregistered{Header: stdtypes.NewHeader("app"), X: i})
		}
		inputs := make([]bool, len(evs))
		inputs[0] = true
		if err := rec.InterceptInputs(stdtypes.ListOf(evs...), inputs); err != nil {
			t.Fatal(err)
		}
		want = append(want, evs...)
		wantInputs = append(wantInputs, inputs...)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if !sqlitelog.IsLog(path) {
		t.Errorf("IsLog(%s) = false", path)
	}

	recs, warnings := openAll(t, path)
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warnings)
	}
	if len(recs) != len(want) {
		t.Fatalf("read %d records, recorded %d", len(recs), len(want))
	}
	checkOrder(t, recs)
	var batch uint64
	for i, r := range recs {
		if r.Node != "n1" || r.Seq != uint64(i) || r.File != path || r.Input != wantInputs[i] || r.Dest != want[i].Dest() {
			t.Errorf("record %d: %+v", i, r)
		}
		if i > 0 && r.Batch != recs[i-1].Batch {
			batch++
		}
		if r.Batch != batch {
			t.Errorf("record %d: batch %d, want %d", i, r.Batch, batch)
		}
		if u, ok := want[i].(*unregistered); ok {
			if !r.Unencodable || r.Type != "sqlitelog_test.unregistered" {
				t.Errorf("record %d: unencodable %v, type %q", i, r.Unencodable, r.Type)
			}
			if _, err := r.Decode(); !errors.Is(err, eventlog.ErrUnencodable) {
				t.Errorf("record %d (%v): Decode = %v, want ErrUnencodable", i, u, err)
			}
			continue
		}
		ev, err := r.Decode()
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if !reflect.DeepEqual(ev, want[i]) {
			t.Errorf("record %d: decoded %+v, recorded %+v", i, ev, want[i])
		}
	}

	runs, err := sqlitelog.Runs(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].Node != "n1" || !runs[0].Closed || runs[0].Events != uint64(len(want)) ||
		!reflect.DeepEqual(runs[0].Meta, meta) || runs[0].Format != sqlitelog.FormatVersion {
		t.Errorf("runs: %+v", runs)
	}
}

// counter is a passive module that sends itself pings up to n, then tells
// the done module.
type counter struct{ n uint64 }

func (c *counter) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	out := stdtypes.EmptyList()
	for _, ev := range evs.Slice() {
		switch ev := ev.(type) {
		case *stdevents.Init:
			out.PushBack(newPing("app", 1))
		case *ping:
			if ev.N < c.n {
				out.PushBack(newPing("app", ev.N+1))
			} else {
				out.PushBack(&pong{Header: stdtypes.NewHeader("done"), From: "n1"})
			}
		}
	}
	return out, nil
}

// doneModule closes its channel when it receives a pong.
type doneModule struct {
	once sync.Once
	ch   chan struct{}
}

func (d *doneModule) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	for _, ev := range evs.Slice() {
		if _, ok := ev.(*pong); ok {
			d.once.Do(func() { close(d.ch) })
		}
	}
	return stdtypes.EmptyList(), nil
}

func TestRoundTripNode(t *testing.T) {
	path := dbPath(t)
	rec, err := sqlitelog.NewRecorder(path, "n1", sqlitelog.Options{}, eventlog.RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const count = 300
	done := &doneModule{ch: make(chan struct{})}
	node, err := mir.NewNode("n1", mir.DefaultNodeConfig(), modules.Modules{"app": &counter{n: count}, "done": done}, rec)
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- node.Run(context.Background()) }()
	select {
	case <-done.ch:
	case <-time.After(20 * time.Second):
		t.Fatal("the node did not finish")
	}
	node.Stop()
	if err := <-ran; !errors.Is(err, mir.ErrStopped) {
		t.Fatalf("Run: %v", err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	stats := rec.Stats()

	recs, _ := openAll(t, path)
	if uint64(len(recs)) != stats.Written || stats.Dropped != 0 {
		t.Fatalf("read %d records, recorder stats %+v", len(recs), stats)
	}
	checkOrder(t, recs)
	pings := 0
	for i, r := range recs {
		if r.Seq != uint64(i) {
			t.Fatalf("record %d has seq %d", i, r.Seq)
		}
		ev, err := r.Decode()
		if err != nil {
			t.Fatal(err)
		}
		switch ev := ev.(type) {
		case *stdevents.Init:
			if !r.Input || r.Type != "mir.Init" {
				t.Errorf("Init record: %+v", r)
			}
		case *ping:
			pings++
			if r.Input || ev.N != uint64(pings) {
				t.Errorf("ping record %d: input %v, N %d", i, r.Input, ev.N)
			}
		}
	}
	if pings != count {
		t.Errorf("read %d pings, want %d", pings, count)
	}
}

// writeRun records n events of node through a sink, in batches of 3, and
// returns the sink's run.
func writeRun(t *testing.T, path string, node stdtypes.NodeID, n int, opts sqlitelog.Options) int64 {
	t.Helper()
	sink, err := sqlitelog.NewSink(path, node, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i += 3 {
		var evs []stdtypes.Event
		for j := i; j < min(n, i+3); j++ {
			evs = append(evs, newPing(stdtypes.ModuleID(fmt.Sprintf("m%d/sub", j%4)), uint64(j)))
		}
		if err := sink.WriteBatch(batchOf(node, uint64(i/3), uint64(i), time.Now(), evs...)); err != nil {
			t.Fatal(err)
		}
		if i%30 == 0 {
			if err := sink.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	return sink.Run()
}

func TestConcurrentNodes(t *testing.T) {
	path := dbPath(t)
	const nodes, events = 4, 3000
	var wg sync.WaitGroup
	errs := make(chan error, nodes)
	for i := range nodes {
		node := stdtypes.NodeID(fmt.Sprint(i))
		wg.Go(func() {
			rec, err := sqlitelog.NewRecorder(path, node, sqlitelog.Options{TxEvents: 500},
				eventlog.RecorderOptions{FlushInterval: 5 * time.Millisecond})
			if err != nil {
				errs <- err
				return
			}
			for j := range events {
				if err := rec.Intercept(stdtypes.ListOf(newPing("app", uint64(j)))); err != nil {
					errs <- err
					break
				}
				if j%100 == 0 {
					time.Sleep(time.Millisecond) // let the flushes interleave
				}
			}
			if err := rec.Close(); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	recs, warnings := openAll(t, path)
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warnings)
	}
	if len(recs) != nodes*events {
		t.Fatalf("read %d records, want %d", len(recs), nodes*events)
	}
	checkOrder(t, recs)
	next := make(map[stdtypes.NodeID]uint64)
	for _, r := range recs {
		if r.Seq != next[r.Node] {
			t.Fatalf("node %s: seq %d, want %d", r.Node, r.Seq, next[r.Node])
		}
		next[r.Node]++
	}
}

func TestRestartedNode(t *testing.T) {
	path := dbPath(t)
	run1 := writeRun(t, path, "a", 10, sqlitelog.Options{Meta: map[string]string{"try": "1"}})
	run2 := writeRun(t, path, "a", 7, sqlitelog.Options{Meta: map[string]string{"try": "2"}})
	writeRun(t, path, "b", 5, sqlitelog.Options{})
	if run1 == run2 {
		t.Fatalf("both runs are %d", run1)
	}
	runs, err := sqlitelog.Runs(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 3 || runs[0].ID != run1 || runs[1].ID != run2 || runs[0].Meta["try"] != "1" || runs[1].Meta["try"] != "2" ||
		runs[0].Events != 10 || runs[1].Events != 7 || runs[2].Node != "b" || runs[2].Meta != nil {
		t.Errorf("runs: %+v", runs)
	}
	if !runs[1].Start.After(runs[0].Start) || runs[0].Stop.Before(runs[0].Start) {
		t.Errorf("run times: %+v", runs)
	}
	recs, _ := openAll(t, path)
	if len(recs) != 22 {
		t.Fatalf("read %d records, want 22", len(recs))
	}
	checkOrder(t, recs)
	// The second run's events follow the first's, numbered from 0 again.
	var seqs []uint64
	for _, r := range recs {
		if r.Node == "a" {
			seqs = append(seqs, r.Seq)
		}
	}
	want := []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6}
	if !slices.Equal(seqs, want) {
		t.Errorf("node a's seqs %v, want %v", seqs, want)
	}
}

// slowSink holds back the first WriteBatch until released, so that the
// recorder's buffer fills.
type slowSink struct {
	*sqlitelog.Sink
	once    sync.Once
	started chan struct{}
	release chan struct{}
}

func (s *slowSink) WriteBatch(b *eventlog.Batch) error {
	s.once.Do(func() {
		close(s.started)
		<-s.release
	})
	return s.Sink.WriteBatch(b)
}

func TestGaps(t *testing.T) {
	path := dbPath(t)
	inner, err := sqlitelog.NewSink(path, "n", sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sink := &slowSink{Sink: inner, started: make(chan struct{}), release: make(chan struct{})}
	rec, err := eventlog.NewRecorder("n", sink, eventlog.RecorderOptions{BufferEvents: 1024, OnFull: eventlog.Drop, FlushInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	intercept := func(n int) {
		for range n {
			if err := rec.Intercept(stdtypes.ListOf(newPing("app", 0))); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The first chunk goes to the writer, which blocks in WriteBatch; the
	// second fills the queue; what follows is dropped.
	intercept(1024)
	<-sink.started
	intercept(1024)
	intercept(500)
	close(sink.release)
	for deadline := time.Now().Add(20 * time.Second); rec.Stats().Written < 2048; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the writer did not catch up: %+v", rec.Stats())
		}
	}
	intercept(10) // after the drop: written again
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	stats := rec.Stats()
	if stats.Dropped != 500 {
		t.Fatalf("dropped %d, want 500: %+v", stats.Dropped, stats)
	}
	runs, err := sqlitelog.Runs(path)
	if err != nil {
		t.Fatal(err)
	}
	if runs[0].Dropped != stats.Dropped || runs[0].Events != stats.Written {
		t.Errorf("run %+v, recorder stats %+v", runs[0], stats)
	}
	recs, warnings := openAll(t, path)
	if uint64(len(recs)) != stats.Written {
		t.Errorf("read %d records, recorder wrote %d", len(recs), stats.Written)
	}
	if len(warnings) == 0 {
		t.Fatal("no warning about the dropped events")
	}
	t.Log(warnings)

	// The gaps table says where events are missing: after the last one
	// written before them.
	db := openSQL(t, path)
	var total uint64
	rows, err := db.Query(`SELECT after_seq, dropped FROM gaps`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var after sql.NullInt64
		var dropped uint64
		if err := rows.Scan(&after, &dropped); err != nil {
			t.Fatal(err)
		}
		total += dropped
		if !after.Valid || after.Int64 != 2047 {
			t.Errorf("gap after %v, want 2047", after)
		}
		// The next event written is numbered after the gap.
		var next uint64
		if err := db.QueryRow(`SELECT min(seq) FROM events WHERE seq > ?`, after.Int64).Scan(&next); err != nil {
			t.Fatal(err)
		}
		if next != uint64(after.Int64)+dropped+1 {
			t.Errorf("first event after the gap is %d, want %d", next, uint64(after.Int64)+dropped+1)
		}
	}
	if total != stats.Dropped {
		t.Errorf("gaps count %d dropped events, the recorder %d", total, stats.Dropped)
	}
}

// openSQL opens path with database/sql, as a user would.
func openSQL(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestCloseTwice(t *testing.T) {
	path := dbPath(t)
	sink, err := sqlitelog.NewSink(path, "n", sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.WriteBatch(batchOf("n", 0, 0, time.Now(), newPing("app", 1))); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := sink.WriteBatch(batchOf("n", 1, 1, time.Now(), newPing("app", 2))); err == nil {
		t.Error("WriteBatch after Close succeeded")
	}
	if err := sink.Flush(); err == nil {
		t.Error("Flush after Close succeeded")
	}
	if err := sink.WriteGap(3); err == nil {
		t.Error("WriteGap after Close succeeded")
	}

	src, err := sqlitelog.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if recs := readAll(t, src); len(recs) != 1 {
		t.Errorf("read %d records, want 1", len(recs))
	}
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if err := src.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := src.Next(); err == nil {
		t.Error("Next after Close succeeded")
	}
}

func TestReadWhileRecording(t *testing.T) {
	path := dbPath(t)
	sink, err := sqlitelog.NewSink(path, "n", sqlitelog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	for i := range 5 {
		if err := sink.WriteBatch(batchOf("n", uint64(i), uint64(i), time.Now(), newPing("app", uint64(i)))); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Flush(); err != nil {
		t.Fatal(err)
	}
	// Written but not flushed: not visible yet.
	if err := sink.WriteBatch(batchOf("n", 5, 5, time.Now(), newPing("app", 5))); err != nil {
		t.Fatal(err)
	}
	recs, warnings := openAll(t, path)
	if len(recs) != 5 {
		t.Errorf("read %d records while recording, want the 5 flushed", len(recs))
	}
	if len(warnings) != 1 {
		t.Errorf("warnings %q, want one about the run not closed", warnings)
	}
	// The reader does not disturb the writer.
	if err := sink.Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestOptions(t *testing.T) {
	if _, err := sqlitelog.NewSink(dbPath(t), "", sqlitelog.Options{}); err == nil {
		t.Error("NewSink without a node succeeded")
	}
	if _, err := sqlitelog.NewSink(dbPath(t), "n", sqlitelog.Options{TxEvents: -1}); err == nil {
		t.Error("NewSink with TxEvents -1 succeeded")
	}
	if _, err := sqlitelog.NewRecorder(dbPath(t), "n", sqlitelog.Options{}, eventlog.RecorderOptions{BufferEvents: -1}); err == nil {
		t.Error("NewRecorder with BufferEvents -1 succeeded")
	}
	if _, err := sqlitelog.NewSink(t.TempDir()+"/no/such/dir/x.db", "n", sqlitelog.Options{}); err == nil {
		t.Error("NewSink in a missing directory succeeded")
	}
	// Meta with keys that need no escaping and a path that needs it.
	path := t.TempDir() + "/odd ?#%name.db"
	writeRun(t, path, "n", 4, sqlitelog.Options{TxEvents: 1, Meta: map[string]string{"k": "v"}})
	runs, err := sqlitelog.Runs(path)
	if err != nil || len(runs) != 1 || runs[0].Meta["k"] != "v" || runs[0].Events != 4 {
		t.Errorf("Runs = %+v, %v", runs, err)
	}
}

// Sinks opening a new file at once must wait for one another, not fail:
// switching the file to WAL could return SQLITE_BUSY without the busy
// handler (about once in 150 rounds of 8 before the fix).
func TestConcurrentOpenOfNewFile(t *testing.T) {
	for round := range 60 {
		path := filepath.Join(t.TempDir(), "run.db")
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for i := range 8 {
			wg.Go(func() {
				s, err := sqlitelog.NewSink(path, stdtypes.NodeID(fmt.Sprint(i)), sqlitelog.Options{})
				if err == nil {
					err = s.Close()
				}
				if err != nil {
					errs <- fmt.Errorf("round %d, node %d: %w", round, i, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
}
