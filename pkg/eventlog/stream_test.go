package eventlog_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// hop is the event the tests record.
type hop struct {
	stdtypes.Header
	N    int
	Note string
}

// unregistered is an event type the codec does not know.
type unregistered struct {
	stdtypes.Header
}

var _ = codec.Register[hop]("eventlogtest.Hop")

func newHop(dest stdtypes.ModuleID, n int) *hop {
	return &hop{Header: stdtypes.NewHeader(dest), N: n}
}

// list makes an EventList of evs.
func list(evs ...stdtypes.Event) *stdtypes.EventList { return stdtypes.ListOf(evs...) }

// readAll reads every record of src, cloned.
func readAll(t *testing.T, src eventlog.Source) []*eventlog.Record {
	t.Helper()
	var recs []*eventlog.Record
	for {
		rec, err := src.Next()
		if err == io.EOF {
			return recs
		}
		if err != nil {
			t.Fatalf("after %d records: %v", len(recs), err)
		}
		recs = append(recs, rec.Clone())
	}
}

// summary renders records as "seq:batch:dest:type:in" for comparison.
func summary(recs []*eventlog.Record) string {
	var b strings.Builder
	for _, r := range recs {
		in := "out"
		if r.Input {
			in = "in"
		}
		fmt.Fprintf(&b, "%d:%d:%s:%s:%s ", r.Seq, r.Batch, r.Dest, r.Type, in)
	}
	return strings.TrimSpace(b.String())
}

func TestStreamRoundTrip(t *testing.T) {
	dir := t.TempDir()
	rec, err := eventlog.NewStreamRecorder(dir, "n1", eventlog.StreamOptions{Meta: map[string]string{"k": "v"}}, eventlog.RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.InterceptInputs(list(newHop("a", 1), newHop("a/sub", 2)), []bool{true, false}); err != nil {
		t.Fatal(err)
	}
	if err := rec.Intercept(list(stdevents.NewInit("b"))); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if s := rec.Stats(); s.Events != 3 || s.Written != 3 || s.Dropped != 0 {
		t.Errorf("stats %+v", s)
	}
	src, err := eventlog.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	r := src.(*eventlog.StreamReader)
	if h := r.Header(); h.Node != "n1" || h.Meta["k"] != "v" || h.Format != eventlog.StreamFormatVersion {
		t.Errorf("header %+v", h)
	}
	recs := readAll(t, src)
	want := "0:0:a:eventlogtest.Hop:in 1:0:a/sub:eventlogtest.Hop:out 2:1:b:mir.Init:out"
	if got := summary(recs); got != want {
		t.Errorf("records\n got %s\nwant %s", got, want)
	}
	if w := src.Warnings(); len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}
	ev, err := recs[1].Decode()
	if err != nil {
		t.Fatal(err)
	}
	if h, ok := ev.(*hop); !ok || h.N != 2 || h.Dest() != "a/sub" {
		t.Errorf("decoded %#v", ev)
	}
	if recs[0].Node != "n1" || recs[0].Time.IsZero() || recs[2].Time.Before(recs[0].Time) {
		t.Errorf("node or times wrong: %+v %+v", recs[0], recs[2])
	}
}

func TestStreamThroughNode(t *testing.T) {
	dir := t.TempDir()
	rec, err := eventlog.NewStreamRecorder(dir, "n", eventlog.StreamOptions{}, eventlog.RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// a answers every hop with the next one for b, up to 5000 hops; b
	// returns them; a MockActive source injects the first hop.
	const hops = 5000
	done := make(chan struct{})
	bounce := func(peer stdtypes.ModuleID) modules.PassiveModule {
		return modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
			h, ok := ev.(*hop)
			if !ok {
				return nil, nil
			}
			if h.N == hops {
				close(done)
				return nil, nil
			}
			return list(newHop(peer, h.N+1)), nil
		})
	}
	source := modules.NewMockActive(1, nil)
	cfg := mir.DefaultNodeConfig().WithLogger(logging.NilLogger)
	node, err := mir.NewNode("n", cfg, modules.Modules{"a": bounce("b"), "b": bounce("a"), "src": source}, rec)
	if err != nil {
		t.Fatal(err)
	}
	errCh := make(chan error, 1)
	go func() { errCh <- node.Run(context.Background()) }()
	if !source.Emit(context.Background(), list(newHop("a", 1))) {
		t.Fatal("emit failed")
	}
	<-done
	node.Stop()
	if err := <-errCh; !errors.Is(err, mir.ErrStopped) {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	src, err := eventlog.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	recs := readAll(t, src)
	// 3 Inits, then hops 1..5000; only hop 1 (from the source) is an input.
	var hopsSeen, inputs int
	for i, r := range recs {
		if r.Seq != uint64(i) {
			t.Fatalf("record %d has seq %d", i, r.Seq)
		}
		if r.Type == "eventlogtest.Hop" {
			hopsSeen++
			if r.Input {
				inputs++
			}
		}
	}
	if hopsSeen != hops || inputs != 1 {
		t.Errorf("%d hops recorded (%d inputs), want %d (1)", hopsSeen, inputs, hops)
	}
}

func TestStreamFilterAtRecordTime(t *testing.T) {
	dir := t.TempDir()
	rec, err := eventlog.NewStreamRecorder(dir, "n", eventlog.StreamOptions{}, eventlog.RecorderOptions{
		Filter: eventlog.Filter{Modules: []stdtypes.ModuleID{"a"}, Types: []string{"eventlogtest.Hop"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []*stdtypes.EventList{
		list(newHop("a", 1), stdevents.NewInit("a"), newHop("a/x", 2)),
		list(newHop("b", 3)),
		list(newHop("ab", 4)), // "ab" is not a submodule of "a"
	} {
		if err := rec.Intercept(l); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	src, err := eventlog.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if got, want := summary(readAll(t, src)), "0:0:a:eventlogtest.Hop:out 2:0:a/x:eventlogtest.Hop:out"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestStreamRotation(t *testing.T) {
	dir := t.TempDir()
	rec, err := eventlog.NewStreamRecorder(dir, "n", eventlog.StreamOptions{MaxFileSize: 4 << 10}, eventlog.RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const total = 50000
	for i := range total {
		h := newHop("a", i)
		h.Note = fmt.Sprintf("incompressible-ish %x", uint64(i)*0x9e3779b97f4a7c15)
		if err := rec.Intercept(list(h)); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := eventlog.StreamFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("%d files after %d events with a 4 KiB limit", len(files), total)
	}
	src, err := eventlog.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	recs := readAll(t, src)
	if len(recs) != total {
		t.Fatalf("read %d records, want %d", len(recs), total)
	}
	for i, r := range recs {
		if r.Seq != uint64(i) {
			t.Fatalf("record %d has seq %d: merging rotated files lost the order", i, r.Seq)
		}
	}
	if w := src.Warnings(); len(w) != 0 {
		t.Errorf("warnings: %v", w)
	}
}

func TestStreamRestartDoesNotOverwrite(t *testing.T) {
	dir := t.TempDir()
	for run := range 2 {
		rec, err := eventlog.NewStreamRecorder(dir, "n", eventlog.StreamOptions{}, eventlog.RecorderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if err := rec.Intercept(list(newHop("a", run))); err != nil {
			t.Fatal(err)
		}
		if err := rec.Close(); err != nil {
			t.Fatal(err)
		}
	}
	files, err := eventlog.StreamFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || filepath.Base(files[0]) != "n.000000.mirlog" || filepath.Base(files[1]) != "n.000001.mirlog" {
		t.Errorf("files %v", files)
	}
	// Both runs number their events from 0; Run tells them apart.
	src, err := eventlog.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	all := readAll(t, src)
	src.Close()
	if len(all) != 2 || all[0].Run == all[1].Run || all[0].Seq != 0 || all[1].Seq != 0 {
		t.Fatalf("records %+v", all)
	}
	src, err = eventlog.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	second := readAll(t, eventlog.Filtered(src, eventlog.Query{Runs: []int64{all[1].Run}}))
	src.Close()
	if len(second) != 1 || second[0].Run != all[1].Run {
		t.Errorf("Query.Runs selected %+v", second)
	}
}

func TestUnencodableEventIsRecordedAsSuch(t *testing.T) {
	dir := t.TempDir()
	rec, err := eventlog.NewStreamRecorder(dir, "n", eventlog.StreamOptions{}, eventlog.RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rec.Intercept(list(&unregistered{Header: stdtypes.NewHeader("a")}, newHop("a", 1))); err != nil {
		t.Fatal(err)
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	src, err := eventlog.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	recs := readAll(t, src)
	if len(recs) != 2 || !recs[0].Unencodable || recs[0].Type != "eventlog_test.unregistered" || recs[1].Unencodable {
		t.Fatalf("records: %s (unencodable %v)", summary(recs), recs[0].Unencodable)
	}
	if _, err := recs[0].Decode(); !errors.Is(err, eventlog.ErrUnencodable) {
		t.Errorf("Decode: %v", err)
	}
}

// blockingSink blocks WriteBatch until release is closed.
type blockingSink struct {
	release chan struct{}
	gaps    []uint64
	batches int
}

func (s *blockingSink) WriteBatch(*eventlog.Batch) error { <-s.release; s.batches++; return nil }
func (s *blockingSink) WriteGap(n uint64) error          { s.gaps = append(s.gaps, n); return nil }
func (s *blockingSink) Flush() error                     { return nil }
func (s *blockingSink) Close() error                     { return nil }

func TestRecorderDropsAndCountsWhenFull(t *testing.T) {
	sink := &blockingSink{release: make(chan struct{})}
	rec, err := eventlog.NewRecorder("n", sink, eventlog.RecorderOptions{BufferEvents: 1024, OnFull: eventlog.Drop})
	if err != nil {
		t.Fatal(err)
	}
	// The writer takes the first full chunk and blocks in WriteBatch; one
	// more chunk fits in the buffer; the rest is dropped.
	const total = 10 * 1024
	for i := range total {
		if err := rec.Intercept(list(newHop("a", i))); err != nil {
			t.Fatal(err)
		}
	}
	close(sink.release)
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	s := rec.Stats()
	if s.Dropped == 0 || s.Written+s.Dropped != total || s.Events != total {
		t.Errorf("stats %+v: want drops, and written + dropped = %d", s, total)
	}
	var gapped uint64
	for _, g := range sink.gaps {
		gapped += g
	}
	if gapped != s.Dropped {
		t.Errorf("gaps mark %d dropped events, stats say %d", gapped, s.Dropped)
	}
}

func TestRecorderBlocksWhenFull(t *testing.T) {
	sink := &blockingSink{release: make(chan struct{})}
	rec, err := eventlog.NewRecorder("n", sink, eventlog.RecorderOptions{BufferEvents: 1024})
	if err != nil {
		t.Fatal(err)
	}
	finished := make(chan struct{})
	const total = 10 * 1024
	go func() {
		defer close(finished)
		for i := range total {
			if err := rec.Intercept(list(newHop("a", i))); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	select {
	case <-finished:
		t.Fatal("10 Ki events went into a recorder of 1 Ki whose sink is stuck: it did not block")
	case <-time.After(50 * time.Millisecond):
	}
	close(sink.release)
	<-finished
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if s := rec.Stats(); s.Written != total || s.Dropped != 0 {
		t.Errorf("stats %+v, want all %d written", s, total)
	}
}

// failingSink fails every write.
type failingSink struct{ closed int }

func (s *failingSink) WriteBatch(*eventlog.Batch) error { return errors.New("disk full") }
func (s *failingSink) Flush() error                     { return nil }
func (s *failingSink) Close() error                     { s.closed++; return nil }

func TestRecorderWriteErrorStopsTheNode(t *testing.T) {
	sink := &failingSink{}
	rec, err := eventlog.NewRecorder("n", sink, eventlog.RecorderOptions{BufferEvents: 1024, FlushInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var got error
	deadline := time.Now().Add(10 * time.Second)
	for i := 0; got == nil && time.Now().Before(deadline); i++ {
		got = rec.Intercept(list(newHop("a", i)))
		if i%1024 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if got == nil || !strings.Contains(got.Error(), "disk full") {
		t.Fatalf("Intercept returned %v, want the sink's error", got)
	}
	if err := rec.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Close returned %v", err)
	}
	if sink.closed != 1 {
		t.Errorf("sink closed %d times", sink.closed)
	}
}

func TestRecorderOptionsValidated(t *testing.T) {
	sink := &failingSink{}
	for _, o := range []eventlog.RecorderOptions{
		{BufferEvents: -1},
		{FlushInterval: -time.Second},
		{OnFull: 7},
		{Filter: eventlog.Filter{Modules: []stdtypes.ModuleID{"a//b"}}},
	} {
		if _, err := eventlog.NewRecorder("n", sink, o); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
	if _, err := eventlog.NewRecorder("n", nil, eventlog.RecorderOptions{}); err == nil {
		t.Error("nil sink accepted")
	}
}

// writeLog records n hops to a fresh directory and returns the file.
func writeLog(t testing.TB, n int) string {
	t.Helper()
	dir := t.TempDir()
	rec, err := eventlog.NewStreamRecorder(dir, "n", eventlog.StreamOptions{}, eventlog.RecorderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := rec.Intercept(list(newHop("a", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := eventlog.StreamFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	return files[0]
}

func TestReadCutOffLog(t *testing.T) {
	path := writeLog(t, 20000)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, keep := range []int{len(data) - 1, len(data) * 2 / 3, len(data) / 2} {
		cut := filepath.Join(t.TempDir(), "cut.mirlog")
		if err := os.WriteFile(cut, data[:keep], 0o644); err != nil {
			t.Fatal(err)
		}
		src, err := eventlog.OpenStream(cut)
		if err != nil {
			t.Fatalf("cut at %d of %d: %v", keep, len(data), err)
		}
		recs := readAll(t, src)
		src.Close()
		for i, r := range recs {
			if r.Seq != uint64(i) {
				t.Fatalf("record %d has seq %d", i, r.Seq)
			}
		}
		w := src.Warnings()
		if len(w) != 1 || !strings.Contains(w[0], "cut off") && !strings.Contains(w[0], "end mark") {
			t.Errorf("cut at %d of %d: warnings %v", keep, len(data), w)
		}
		if keep < len(data)-1 && len(recs) == 20000 {
			t.Errorf("cut at %d of %d: all records read", keep, len(data))
		}
	}
}

func TestReadBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := writeLog(t, 10)
	goodData, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		data []byte
		want error
	}{
		"empty":       {nil, eventlog.ErrNotLog},
		"text":        {[]byte("hello, this is not a log\n"), eventlog.ErrNotLog},
		"magic only":  {goodData[:8], eventlog.ErrCorrupt},
		"short magic": {goodData[:5], eventlog.ErrNotLog},
		"newer":       {append([]byte("MIRLOG\x00\x09"), goodData[8:]...), eventlog.ErrNotLog},
		"garbage":     {append(bytes.Clone(goodData[:8]), bytes.Repeat([]byte{0xff}, 100)...), eventlog.ErrCorrupt},
		"version 1":   {append([]byte("MIRLOG\x00\x01"), goodData[8:]...), eventlog.ErrNotLog},
	}
	for name, c := range cases {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := eventlog.OpenStream(path)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want %v naming the file", name, err, c.want)
		}
	}
	if _, err := eventlog.OpenStream(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := eventlog.Open(t.TempDir()); err == nil {
		t.Error("an empty directory opened")
	}
}

func TestMergeByTime(t *testing.T) {
	dir := t.TempDir()
	var recs []*eventlog.Recorder
	for _, id := range []stdtypes.NodeID{"x", "y"} {
		r, err := eventlog.NewStreamRecorder(dir, id, eventlog.StreamOptions{}, eventlog.RecorderOptions{})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	for i := range 50 {
		if err := recs[i%2].Intercept(list(newHop("a", i))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Microsecond)
	}
	for _, r := range recs {
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	src, err := eventlog.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	all := readAll(t, src)
	if len(all) != 50 {
		t.Fatalf("%d records", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].Time.Before(all[i-1].Time) {
			t.Fatalf("record %d is older than the one before", i)
		}
	}
	for i, r := range all {
		ev, err := r.Decode()
		if err != nil {
			t.Fatal(err)
		}
		if ev.(*hop).N != i {
			t.Errorf("merged record %d is hop %d", i, ev.(*hop).N)
		}
	}
	src2, err := eventlog.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	only := readAll(t, eventlog.Filtered(src2, eventlog.Query{Nodes: []stdtypes.NodeID{"y"}, FromSeq: 5, ToSeq: 9}))
	src2.Close()
	if len(only) != 5 || only[0].Node != "y" || only[0].Seq != 5 || only[4].Seq != 9 {
		t.Errorf("filtered: %s", summary(only))
	}
}

// seqSink checks that batches arrive with consecutive sequence numbers,
// slowly, so that the node side fills the buffer and waits.
type seqSink struct {
	next uint64
	err  error
}

func (s *seqSink) WriteBatch(b *eventlog.Batch) error {
	for _, e := range b.Entries {
		if e.Seq != s.next && s.err == nil {
			s.err = fmt.Errorf("seq %d after %d", e.Seq, s.next-1)
		}
		s.next = e.Seq + 1
	}
	if b.Number%64 == 0 {
		time.Sleep(10 * time.Microsecond)
	}
	return nil
}
func (s *seqSink) Flush() error { return nil }
func (s *seqSink) Close() error { return nil }

// A node blocked on a full buffer while the writer's flush tick takes the
// partial chunk must lose nothing (this once lost a chunk).
func TestRecorderBlockingWithFrequentFlushesKeepsEveryEvent(t *testing.T) {
	sink := &seqSink{}
	rec, err := eventlog.NewRecorder("n", sink, eventlog.RecorderOptions{BufferEvents: 2048, FlushInterval: 50 * time.Microsecond})
	if err != nil {
		t.Fatal(err)
	}
	const total = 200000
	evs := make([]stdtypes.Event, 7)
	for i := range evs {
		evs[i] = newHop("a", i)
	}
	for sent := 0; sent < total; sent += len(evs) {
		if err := rec.Intercept(list(evs...)); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Close(); err != nil {
		t.Fatal(err)
	}
	if sink.err != nil {
		t.Fatal(sink.err)
	}
	if s := rec.Stats(); s.Written != s.Events || sink.next != s.Events {
		t.Errorf("stats %+v, sink saw %d", s, sink.next)
	}
}
