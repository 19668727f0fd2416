package mir

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// benchEvent is the event the benchmarks bounce between modules.
type benchEvent struct {
	stdtypes.Header
	Hops int
}

// bouncer is a passive module that answers each benchEvent with a new one
// for its peer, as a protocol module would, until limit events have been
// handled by all bouncers together; then it closes done.
type bouncer struct {
	peer    stdtypes.ModuleID
	handled *int
	limit   int
	done    chan struct{}
}

func (m *bouncer) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	var out *stdtypes.EventList
	for _, ev := range evs.Slice() {
		be, ok := ev.(*benchEvent)
		if !ok {
			continue // Init
		}
		*m.handled++
		if *m.handled == m.limit {
			close(m.done)
		}
		if *m.handled >= m.limit {
			continue
		}
		next := &benchEvent{Header: stdtypes.NewHeader(m.peer), Hops: be.Hops + 1}
		if out == nil {
			out = stdtypes.ListOf(next)
		} else {
			out.PushBack(next)
		}
	}
	return out, nil
}

// benchBounce runs two bouncers with inFlight events between them until b.N
// events have been dispatched.
func benchBounce(b *testing.B, inFlight int) { benchBounceWith(b, inFlight, nil, nil) }

// benchBounceWith is benchBounce with an interceptor, and a function called
// once the node has stopped, before the timer stops.
func benchBounceWith(b *testing.B, inFlight int, icp eventlog.Interceptor, stopped func()) {
	node, initial, done := newBounceNode(b, inFlight, b.N, icp)
	runNodeForBenchThen(b, node, done, func(ctx context.Context) error {
		return node.InjectEvents(ctx, initial)
	}, stopped)
}

// newBounceNode returns a node of two bouncers that closes done once limit
// events have been dispatched, and the inFlight events to inject to start
// it.
func newBounceNode(b *testing.B, inFlight, limit int, icp eventlog.Interceptor) (*Node, *stdtypes.EventList, chan struct{}) {
	handled := 0
	done := make(chan struct{})
	a := &bouncer{peer: "b", handled: &handled, limit: limit, done: done}
	c := &bouncer{peer: "a", handled: &handled, limit: limit, done: done}
	node, err := NewNode("bench", benchConfig(), modules.Modules{"a": a, "b": c}, icp)
	if err != nil {
		b.Fatal(err)
	}
	initial := stdtypes.EmptyList()
	for i := range inFlight {
		dest := stdtypes.ModuleID("a")
		if i%2 == 1 {
			dest = "b"
		}
		initial.PushBack(&benchEvent{Header: stdtypes.NewHeader(dest)})
	}
	return node, initial, done
}

func benchConfig() *NodeConfig {
	cfg := DefaultNodeConfig()
	cfg.Logger = logging.NilLogger
	return cfg
}

// runNodeForBench runs node, calls start once it runs, and waits for done.
func runNodeForBench(b *testing.B, node *Node, done chan struct{}, start func(ctx context.Context) error) {
	b.Helper()
	runNodeForBenchThen(b, node, done, start, nil)
}

// runNodeForBenchThen is runNodeForBench calling stopped, if not nil, once
// the node has stopped, before the timer stops.
func runNodeForBenchThen(b *testing.B, node *Node, done chan struct{}, start func(ctx context.Context) error, stopped func()) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errCh := make(chan error, 1)
	b.ReportAllocs()
	b.ResetTimer()
	go func() { errCh <- node.Run(ctx) }()
	if err := start(ctx); err != nil {
		b.Fatal(err)
	}
	select {
	case <-done:
	case err := <-errCh:
		b.Fatalf("node stopped early: %v", err)
	}
	node.Stop()
	err := <-errCh
	if stopped != nil {
		stopped()
	}
	b.StopTimer()
	if !errors.Is(err, ErrStopped) {
		b.Fatalf("Run returned %v", err)
	}
}

// BenchmarkNodePingPong: two passive modules bounce one event through a
// running node. One op is one event dispatched.
func BenchmarkNodePingPong(b *testing.B) { benchBounce(b, 1) }

// BenchmarkNodeThroughput: like BenchmarkNodePingPong with 1,000 events in
// flight.
func BenchmarkNodeThroughput(b *testing.B) { benchBounce(b, 1000) }

// counter is a passive module counting benchEvents until limit.
type counter struct {
	n, limit int
	done     chan struct{}
}

func (c *counter) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	for _, ev := range evs.Slice() {
		if _, ok := ev.(*benchEvent); ok {
			c.n++
			if c.n == c.limit {
				close(c.done)
			}
		}
	}
	return nil, nil
}

// BenchmarkNodeActiveSource: an active module emits one-event lists as fast
// as the node takes them, to a passive module. One op is one list.
func BenchmarkNodeActiveSource(b *testing.B) {
	done := make(chan struct{})
	sink := &counter{limit: b.N, done: done}
	source := modules.NewMockActive(64, nil)
	node, err := NewNode("bench", benchConfig(), modules.Modules{"source": source, "sink": sink}, nil)
	if err != nil {
		b.Fatal(err)
	}
	runNodeForBench(b, node, done, func(ctx context.Context) error {
		go func() {
			for range b.N {
				if !source.Emit(ctx, stdtypes.ListOf(&benchEvent{Header: stdtypes.NewHeader("sink")})) {
					return
				}
			}
		}()
		return nil
	})
}

// BenchmarkNodeThroughputRecorded is BenchmarkNodeThroughput with every
// event recorded to a stream log (in a temporary directory), to compare
// with it in the same run. The benchmark event is registered with the codec
// so that it is encoded like any protocol event.
func BenchmarkNodeThroughputRecorded(b *testing.B) {
	b.Run("stream", func(b *testing.B) {
		rec, err := eventlog.NewStreamRecorder(b.TempDir(), "bench", eventlog.StreamOptions{}, eventlog.RecorderOptions{})
		if err != nil {
			b.Fatal(err)
		}
		benchBounceRecorded(b, 1000, rec)
	})
}

// benchBounceRecorded is benchBounce with rec as the node's interceptor;
// closing rec (writing out what it buffered) is part of the time measured.
func benchBounceRecorded(b *testing.B, inFlight int, rec *eventlog.Recorder) {
	benchBounceWith(b, inFlight, rec, func() {
		if err := rec.Close(); err != nil {
			b.Fatal(err)
		}
		if s := rec.Stats(); s.Written != s.Events || s.Dropped != 0 {
			b.Fatalf("recorder stats %+v: not every event was written", s)
		}
	})
}

var _ = codec.Register[benchEvent]("mirbench.Event")

// BenchmarkRecordingOverhead runs BenchmarkNodeThroughput's node (and
// BenchmarkNodePingPong's) for 2,000,000 (500,000) events without and then
// with a stream recorder, in each iteration, and reports the ratio of their times (median over the
// iterations, as recorded/plain): both sides see the same machine, which
// on a shared host matters more than anything measured here. The recorded
// time runs until the node has stopped, its recorder has written every
// event and the file is synced (ms-close-sync: the part of it, per run,
// from the node's stop to the end of Close).
func BenchmarkRecordingOverhead(b *testing.B) {
	b.Run("throughput", func(b *testing.B) { benchRecordingOverhead(b, 1000, 2000000) })
	b.Run("pingpong", func(b *testing.B) { benchRecordingOverhead(b, 1, 500000) })
}

// benchRecordingOverhead is BenchmarkRecordingOverhead with inFlight events
// bouncing, for events events per run.
func benchRecordingOverhead(b *testing.B, inFlight, events int) {
	var ratios, closing []float64
	for b.Loop() {
		plain, _ := timeBounce(b, inFlight, events, nil)
		rec, err := eventlog.NewStreamRecorder(b.TempDir(), "bench", eventlog.StreamOptions{}, eventlog.RecorderOptions{})
		if err != nil {
			b.Fatal(err)
		}
		recorded, closed := timeBounce(b, inFlight, events, rec)
		ratios = append(ratios, float64(recorded)/float64(plain))
		closing = append(closing, float64(closed)/float64(time.Millisecond))
	}
	slices.Sort(ratios)
	slices.Sort(closing)
	b.ReportMetric(ratios[len(ratios)/2], "recorded/plain")
	b.ReportMetric(closing[len(closing)/2], "ms-close-sync")
}

// timeBounce runs two bouncers with inFlight events in flight until n
// events were dispatched and returns how long that took, including closing rec
// (writing out what it buffered) if not nil, and how long closing took.
func timeBounce(b *testing.B, inFlight, n int, rec *eventlog.Recorder) (total, closing time.Duration) {
	var icp eventlog.Interceptor
	if rec != nil {
		icp = rec // not a typed nil in the interface
	}
	node, initial, done := newBounceNode(b, inFlight, n, icp)
	start := time.Now()
	errCh := make(chan error, 1)
	go func() { errCh <- node.Run(context.Background()) }()
	if err := node.InjectEvents(context.Background(), initial); err != nil {
		b.Fatal(err)
	}
	<-done
	node.Stop()
	if err := <-errCh; !errors.Is(err, ErrStopped) {
		b.Fatal(err)
	}
	stopped := time.Now()
	if rec != nil {
		if err := rec.Close(); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start), time.Since(stopped)
}
