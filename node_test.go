package mir

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mirframework/mir/internal/syncbuf"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// testEvent is a plain event for the tests; Tag tells instances apart.
type testEvent struct {
	stdtypes.Header
	Tag string
}

func newTestEvent(dest stdtypes.ModuleID, tag string) *testEvent {
	return &testEvent{Header: stdtypes.NewHeader(dest), Tag: tag}
}

// testConfig is a quiet default configuration.
func testConfig() *NodeConfig {
	return DefaultNodeConfig().WithLogger(logging.NilLogger)
}

// tags returns the tags of the testEvents in evs, skipping other events.
func tags(evs []stdtypes.Event) []string {
	var out []string
	for _, ev := range evs {
		if te, ok := ev.(*testEvent); ok {
			out = append(out, te.Tag)
		}
	}
	return out
}

// runningNode runs a node in the background for one test.
type runningNode struct {
	*Node
	t      *testing.T
	cancel context.CancelFunc
	errCh  chan error
}

func startNode(t *testing.T, cfg *NodeConfig, m modules.Modules, interceptor eventlog.Interceptor) *runningNode {
	t.Helper()
	node, err := NewNode("test", cfg, m, interceptor)
	if err != nil {
		t.Fatalf("NewNode: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rn := &runningNode{Node: node, t: t, cancel: cancel, errCh: make(chan error, 1)}
	go func() { rn.errCh <- node.Run(ctx) }()
	t.Cleanup(func() {
		node.Stop()
		cancel()
		select {
		case <-rn.errCh:
		case <-time.After(10 * time.Second):
			t.Error("node did not stop within 10 s")
		}
	})
	return rn
}

// wait returns what Run returned, failing the test if it takes too long.
func (rn *runningNode) wait() error {
	rn.t.Helper()
	select {
	case err := <-rn.errCh:
		rn.errCh <- err // for the cleanup
		return err
	case <-time.After(10 * time.Second):
		rn.t.Fatal("Run did not return within 10 s")
		return nil
	}
}

func (rn *runningNode) inject(evs ...stdtypes.Event) {
	rn.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := rn.InjectEvents(ctx, stdtypes.ListOf(evs...)); err != nil {
		rn.t.Fatalf("InjectEvents: %v", err)
	}
}

// eventually polls cond until it holds, failing the test after 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestInitIsFirstEventOfEveryModule(t *testing.T) {
	// Module "a" answers its Init with events for every other module, so
	// those events race the other modules' own Inits.
	var mocks []*modules.MockPassive
	m := modules.Modules{}
	for _, id := range []stdtypes.ModuleID{"a", "b", "c"} {
		mock := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
			if _, ok := ev.(*stdevents.Init); ok && id == "a" {
				return stdtypes.ListOf(newTestEvent("b", "x"), newTestEvent("c", "x")), nil
			}
			return nil, nil
		})
		mocks = append(mocks, mock)
		m[id] = mock
	}
	source := modules.NewMockActive(1, nil)
	m["src"] = source
	source.TryEmit(stdtypes.ListOf(newTestEvent("a", "early"), newTestEvent("src", "early")))

	rn := startNode(t, testConfig(), m, nil)
	for i, mock := range mocks {
		eventually(t, "init", func() bool { return len(mock.Received()) >= 1 })
		if _, ok := mock.Received()[0].(*stdevents.Init); !ok {
			t.Errorf("module %d: first event is %T, want Init", i, mock.Received()[0])
		}
	}
	eventually(t, "active init", func() bool { return len(source.Received()) >= 1 })
	if init, ok := source.Received()[0].(*stdevents.Init); !ok || init.Dest() != "src" {
		t.Errorf("active module's first event is %#v, want Init for src", source.Received()[0])
	}
	rn.Stop()
	if err := rn.wait(); !errors.Is(err, ErrStopped) {
		t.Errorf("Run returned %v, want ErrStopped", err)
	}
}

func TestRoutingToSubmodules(t *testing.T) {
	child := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		if te, ok := ev.(*testEvent); ok {
			return stdtypes.ListOf(newTestEvent("sink", "via "+string(te.Dest()))), nil
		}
		return nil, nil
	})
	parent := modules.NewRouter("parent", modules.NullPassive{})
	if err := parent.Add("child", child); err != nil {
		t.Fatal(err)
	}
	sink := modules.NewMockPassive(nil)
	rn := startNode(t, testConfig(), modules.Modules{"parent": parent, "sink": sink}, nil)
	rn.inject(newTestEvent("parent/child", "1"), newTestEvent("parent/child/deep", "2"))
	eventually(t, "routed events", func() bool { return len(tags(sink.Received())) == 2 })
	want := []string{"via parent/child", "via parent/child/deep"}
	if got := tags(sink.Received()); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sink got %q, want %q", got, want)
	}
}

// orderLog records the order in which modules see events, across modules.
type orderLog struct {
	mu      sync.Mutex
	entries []string
}

func (o *orderLog) add(s string) {
	o.mu.Lock()
	o.entries = append(o.entries, s)
	o.mu.Unlock()
}

func (o *orderLog) get() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.entries...)
}

func loggingModule(log *orderLog, name string, respond func(*testEvent) *stdtypes.EventList) *modules.MockPassive {
	return modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		te, ok := ev.(*testEvent)
		if !ok {
			return nil, nil
		}
		log.add(name + ":" + te.Tag)
		if respond != nil {
			return respond(te), nil
		}
		return nil, nil
	})
}

func TestFollowUpsComeAfterTheirEvent(t *testing.T) {
	log := &orderLog{}
	// "wal" is slow to get to: a's output to it queues behind a long batch.
	// The follow-up of "persist" must not reach "net" before "wal" has
	// processed "persist", even though "net" is idle all along.
	wal := loggingModule(log, "wal", nil)
	net := loggingModule(log, "net", nil)
	a := loggingModule(log, "a", func(te *testEvent) *stdtypes.EventList {
		if te.Tag != "go" {
			return nil
		}
		out := stdtypes.EmptyList()
		for i := range 10 {
			out.PushBack(newTestEvent("wal", fmt.Sprint("filler", i)))
		}
		persist := stdtypes.WithFollowUps(newTestEvent("wal", "persist"),
			newTestEvent("net", "send"), newTestEvent("net", "send2"))
		return out.PushBack(persist).PushBack(newTestEvent("net", "direct"))
	})
	cfg := testConfig()
	cfg.MaxEventBatchSize = 3
	rn := startNode(t, cfg, modules.Modules{"a": a, "wal": wal, "net": net}, nil)
	rn.inject(newTestEvent("a", "go"))
	eventually(t, "follow-ups", func() bool { return len(tags(net.Received())) == 3 })

	entries := log.get()
	pos := map[string]int{}
	for i, e := range entries {
		pos[e] = i
	}
	if pos["wal:persist"] > pos["net:send"] || pos["wal:persist"] > pos["net:send2"] {
		t.Errorf("a follow-up reached net before wal processed its event: %v", entries)
	}
	if pos["net:direct"] > pos["net:send"] {
		t.Errorf("follow-ups overtook direct output: %v", entries)
	}
	if got, want := fmt.Sprint(tags(net.Received())), "[direct send send2]"; got != want {
		t.Errorf("net got %s, want %s", got, want)
	}
}

func TestFollowUpsOfActiveModuleEvents(t *testing.T) {
	log := &orderLog{}
	release := make(chan struct{})
	active := modules.NewMockActive(1, func(ctx context.Context, evs *stdtypes.EventList) error {
		for _, ev := range evs.Slice() {
			if te, ok := ev.(*testEvent); ok {
				select {
				case <-release:
				case <-ctx.Done():
					return ctx.Err()
				}
				log.add("active:" + te.Tag)
			}
		}
		return nil
	})
	after := loggingModule(log, "after", nil)
	rn := startNode(t, testConfig(), modules.Modules{"active": active, "after": after}, nil)
	rn.inject(stdtypes.WithFollowUps(newTestEvent("active", "write"), newTestEvent("after", "then")))
	time.Sleep(20 * time.Millisecond)
	if got := tags(after.Received()); len(got) != 0 {
		t.Fatalf("follow-up released before the active module returned: %v", got)
	}
	close(release)
	eventually(t, "follow-up", func() bool { return len(tags(after.Received())) == 1 })
	if got, want := fmt.Sprint(log.get()), "[active:write after:then]"; got != want {
		t.Errorf("order %s, want %s", got, want)
	}
}

func TestBatchesRespectMaxEventBatchSize(t *testing.T) {
	var sizes []int
	var mu sync.Mutex
	counting := &funcModule{apply: func(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
		mu.Lock()
		sizes = append(sizes, evs.Len())
		mu.Unlock()
		return nil, nil
	}}
	cfg := testConfig()
	cfg.MaxEventBatchSize = 4
	rn := startNode(t, cfg, modules.Modules{"m": counting}, nil)
	evs := make([]stdtypes.Event, 10)
	for i := range evs {
		evs[i] = newTestEvent("m", "")
	}
	rn.inject(evs...)
	total := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, s := range sizes {
			n += s
		}
		return n
	}
	eventually(t, "all events", func() bool { return total() == 11 })
	mu.Lock()
	defer mu.Unlock()
	for _, s := range sizes {
		if s > 4 {
			t.Errorf("batch of %d events, max is 4: %v", s, sizes)
		}
	}
}

// funcModule is a passive module made of a function.
type funcModule struct {
	apply func(*stdtypes.EventList) (*stdtypes.EventList, error)
}

func (f *funcModule) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	return f.apply(evs)
}

func TestBackpressure(t *testing.T) {
	const pause, resume, capacity = 20, 10, 8
	// The sink is active and blocks in ApplyEvents until released, so events
	// for it pile up in the node's buffer while the loop keeps running.
	release := make(chan struct{})
	var sunk sync.Map
	sink := modules.NewMockActive(0, func(ctx context.Context, evs *stdtypes.EventList) error {
		select {
		case <-release:
		case <-ctx.Done():
			return nil
		}
		for _, ev := range evs.Slice() {
			if te, ok := ev.(*testEvent); ok {
				sunk.Store(te.Tag, true)
			}
		}
		return nil
	})
	source := modules.NewMockActive(capacity, nil)
	cfg := testConfig()
	cfg.PauseInputThreshold = pause
	cfg.ResumeInputThreshold = resume
	cfg.MaxEventBatchSize = 1
	rn := startNode(t, cfg, modules.Modules{"sink": sink, "source": source}, nil)

	// Feed the source from a goroutine, one event per list, so that it
	// always has a full channel when the node is willing to read.
	const total = 200
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	emitted := make(chan int, 1)
	go func() {
		n := 0
		defer func() { emitted <- n }()
		for i := range total {
			if !source.Emit(ctx, stdtypes.ListOf(newTestEvent("sink", fmt.Sprint(i)))) {
				return
			}
			n++
		}
	}()

	eventually(t, "input paused", func() bool { return rn.Stats().InputPaused })
	eventually(t, "source channel full", func() bool { return source.Pending() == capacity })
	buffered := rn.Stats().BufferedEvents
	// Once paused, the node reads nothing more from the source: its channel
	// stays full and the buffer stops growing.
	time.Sleep(50 * time.Millisecond)
	st := rn.Stats()
	if source.Pending() != capacity {
		t.Errorf("source channel read while paused: %d pending, want %d", source.Pending(), capacity)
	}
	// The excess over the threshold is bounded by what was in flight to
	// the loop when the pause began: the emitted channel and one list held
	// by the source's reader.
	if st.BufferedEvents > pause+emittedCapacity+2 || st.BufferedEvents != buffered {
		t.Errorf("buffer grew while paused: %d then %d (pause threshold %d)", buffered, st.BufferedEvents, pause)
	}
	if !st.InputPaused {
		t.Error("input resumed with no event drained")
	}

	// Released, the sink drains the buffer; below the resume threshold the
	// node reads the source again, and every event arrives.
	close(release)
	eventually(t, "all events sunk", func() bool {
		n := 0
		sunk.Range(func(any, any) bool { n++; return true })
		return n == total
	})
	if n := <-emitted; n != total {
		t.Fatalf("emitted %d events, want %d", n, total)
	}
	eventually(t, "input resumed", func() bool { return !rn.Stats().InputPaused })
	if n := rn.Stats().InputPauses; n == 0 {
		t.Error("InputPauses is 0 after a pause")
	}
}

func TestPassiveOutputIsNeverDropped(t *testing.T) {
	// One event makes module "fan" emit far more events than the pause
	// threshold; all of them must arrive.
	const n = 5000
	fan := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		if te, ok := ev.(*testEvent); ok && te.Tag == "go" {
			out := stdtypes.EmptyList()
			for range n {
				out.PushBack(newTestEvent("sink", "x"))
			}
			return out, nil
		}
		return nil, nil
	})
	sink := modules.NewMockPassive(nil)
	cfg := testConfig()
	cfg.PauseInputThreshold = 100
	cfg.ResumeInputThreshold = 50
	rn := startNode(t, cfg, modules.Modules{"fan": fan, "sink": sink}, nil)
	rn.inject(newTestEvent("fan", "go"))
	eventually(t, "all output", func() bool { return len(tags(sink.Received())) == n })
}

func TestDebugMode(t *testing.T) {
	a := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		te := ev.(*testEvent)
		return stdtypes.ListOf(newTestEvent("b", "from a "+te.Tag)), nil
	})
	b := modules.NewMockPassive(nil)
	active := modules.NewMockActive(1, nil)
	node, err := NewNode("dbg", testConfig(), modules.Modules{"a": a, "b": b, "act": active}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := make(chan *stdtypes.EventList)
	errCh := make(chan error, 1)
	go func() { errCh <- node.Debug(ctx, out) }()

	recv := func() []string {
		t.Helper()
		select {
		case l := <-out:
			return tags(l.Slice())
		case <-time.After(10 * time.Second):
			t.Fatal("no output from debug mode")
			return nil
		}
	}
	if err := node.InjectEvents(ctx, stdtypes.ListOf(
		stdtypes.WithFollowUps(newTestEvent("a", "1"), newTestEvent("b", "follow")))); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(recv()), "[from a 1 follow]"; got != want {
		t.Errorf("debug output %s, want %s", got, want)
	}
	// What an active module emits is output too, not processed.
	active.TryEmit(stdtypes.ListOf(newTestEvent("a", "emitted")))
	if got, want := fmt.Sprint(recv()), "[emitted]"; got != want {
		t.Errorf("debug output %s, want %s", got, want)
	}
	node.Stop()
	if err := <-errCh; !errors.Is(err, ErrStopped) {
		t.Errorf("Debug returned %v, want ErrStopped", err)
	}
	// Only the injected event was processed: no Init, nothing routed to b.
	if got := a.Received(); len(got) != 1 {
		t.Errorf("a received %d events, want only the injected one", len(got))
	}
	if got := b.Received(); len(got) != 0 {
		t.Errorf("b received %v in debug mode, want nothing", tags(got))
	}
	if got := active.Received(); len(got) != 0 {
		t.Errorf("active module received %d events, want none", len(got))
	}
}

func TestDebugModeNilOutputDiscards(t *testing.T) {
	a := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		return stdtypes.ListOf(newTestEvent("a", "again")), nil
	})
	node, err := NewNode("dbg", testConfig(), modules.Modules{"a": a}, nil)
	if err != nil {
		t.Fatal(err)
	}
	errCh := make(chan error, 1)
	go func() { errCh <- node.Debug(context.Background(), nil) }()
	for i := range 3 {
		if err := node.InjectEvents(context.Background(), stdtypes.ListOf(newTestEvent("a", fmt.Sprint(i)))); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "three events", func() bool { return len(a.Received()) == 3 })
	node.Stop()
	if err := <-errCh; !errors.Is(err, ErrStopped) {
		t.Errorf("Debug returned %v", err)
	}
}

func TestStopDuringRun(t *testing.T) {
	// A module that keeps itself busy forever.
	busy := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		return stdtypes.ListOf(newTestEvent("busy", "again")), nil
	})
	timer := modules.NewMockActive(1, nil)
	rn := startNode(t, testConfig(), modules.Modules{"busy": busy, "timer": timer}, nil)
	eventually(t, "work", func() bool { return len(busy.Received()) > 100 })
	rn.Stop()
	rn.Stop() // twice is fine
	if err := rn.wait(); !errors.Is(err, ErrStopped) {
		t.Errorf("Run returned %v, want ErrStopped", err)
	}
	if err := rn.InjectEvents(context.Background(), stdtypes.ListOf(newTestEvent("busy", "late"))); !errors.Is(err, ErrStopped) {
		t.Errorf("InjectEvents after stop returned %v, want ErrStopped", err)
	}
}

func TestStopBeforeRun(t *testing.T) {
	mock := modules.NewMockPassive(nil)
	node, err := NewNode("n", testConfig(), modules.Modules{"m": mock}, nil)
	if err != nil {
		t.Fatal(err)
	}
	node.Stop()
	if err := node.Run(context.Background()); !errors.Is(err, ErrStopped) {
		t.Errorf("Run after Stop returned %v, want ErrStopped", err)
	}
	if len(mock.Received()) != 0 {
		t.Error("a stopped node processed events")
	}
	if err := node.Run(context.Background()); err == nil || errors.Is(err, ErrStopped) {
		t.Errorf("second Run returned %v, want an 'already started' error", err)
	}
}

func TestContextCancellationStopsRun(t *testing.T) {
	node, err := NewNode("n", testConfig(), modules.Modules{"m": modules.NullPassive{}, "a": modules.NullActive{}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errCh := make(chan error, 1)
	go func() { errCh <- node.Run(ctx) }()
	cancel()
	select {
	case err := <-errCh:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancellation")
	}
}

func TestModuleFailures(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name      string
		module    modules.Module
		wantPanic bool
		wantText  []string
	}{{
		name: "passive error",
		module: modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
			if _, ok := ev.(*testEvent); ok {
				return nil, boom
			}
			return nil, nil
		}),
		wantText: []string{`module "bad" failed`, "mir.testEvent", "boom"},
	}, {
		name: "passive panic",
		module: modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
			if _, ok := ev.(*testEvent); ok {
				panic("kaputt")
			}
			return nil, nil
		}),
		wantPanic: true,
		wantText:  []string{`module "bad" panicked`, "mir.testEvent", "kaputt", "node_test.go"},
	}, {
		name: "active error",
		module: modules.NewMockActive(1, func(_ context.Context, evs *stdtypes.EventList) error {
			if len(tags(evs.Slice())) > 0 {
				return boom
			}
			return nil
		}),
		wantText: []string{`module "bad" failed`, "mir.testEvent", "boom"},
	}, {
		name: "active panic",
		module: modules.NewMockActive(1, func(_ context.Context, evs *stdtypes.EventList) error {
			if len(tags(evs.Slice())) > 0 {
				panic("kaputt")
			}
			return nil
		}),
		wantPanic: true,
		wantText:  []string{`module "bad" panicked`, "kaputt"},
	}, {
		name: "typed nil in output",
		module: modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
			if _, ok := ev.(*testEvent); ok {
				var nilEvent *testEvent
				return stdtypes.ListOf(nilEvent), nil
			}
			return nil, nil
		}),
		wantPanic: true,
		wantText:  []string{`module "bad" panicked`, "invalid event in output"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rn := startNode(t, testConfig(), modules.Modules{"bad": c.module, "ok": modules.NullActive{}}, nil)
			rn.inject(newTestEvent("bad", "trigger"))
			err := rn.wait()
			var me *ModuleError
			if !errors.As(err, &me) {
				t.Fatalf("Run returned %v (%T), want a *ModuleError", err, err)
			}
			if me.Module != "bad" || me.Panicked != c.wantPanic {
				t.Errorf("ModuleError{Module: %q, Panicked: %v}, want bad, %v", me.Module, me.Panicked, c.wantPanic)
			}
			for _, want := range c.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if !c.wantPanic && !errors.Is(err, boom) {
				t.Errorf("error %v does not wrap the module's error", err)
			}
		})
	}
}

func TestUnknownDestination(t *testing.T) {
	t.Run("output", func(t *testing.T) {
		m := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
			if _, ok := ev.(*testEvent); ok {
				return stdtypes.ListOf(newTestEvent("nowhere/sub", "lost")), nil
			}
			return nil, nil
		})
		rn := startNode(t, testConfig(), modules.Modules{"m": m}, nil)
		rn.inject(newTestEvent("m", "go"))
		err := rn.wait()
		if !errors.Is(err, ErrUnknownModule) {
			t.Fatalf("Run returned %v, want ErrUnknownModule", err)
		}
		for _, want := range []string{`"nowhere/sub"`, `module "m"`, "mir.testEvent"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not mention %s", err, want)
			}
		}
	})
	t.Run("injected", func(t *testing.T) {
		rn := startNode(t, testConfig(), modules.Modules{"m": modules.NullPassive{}}, nil)
		rn.inject(newTestEvent("ghost", "x"))
		if err := rn.wait(); !errors.Is(err, ErrUnknownModule) || !strings.Contains(err.Error(), "from outside the node") {
			t.Fatalf("Run returned %v, want ErrUnknownModule saying it came from outside", err)
		}
	})
	t.Run("follow-up", func(t *testing.T) {
		rn := startNode(t, testConfig(), modules.Modules{"m": modules.NullPassive{}}, nil)
		rn.inject(stdtypes.WithFollowUps(newTestEvent("m", "x"), newTestEvent("ghost", "y")))
		if err := rn.wait(); !errors.Is(err, ErrUnknownModule) || !strings.Contains(err.Error(), "follow-ups of") {
			t.Fatalf("Run returned %v, want ErrUnknownModule naming the parent event", err)
		}
	})
}

func TestInterceptorSeesEventsInDispatchOrder(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	interceptor := eventlog.InterceptorFunc(func(evs *stdtypes.EventList) error {
		mu.Lock()
		defer mu.Unlock()
		for _, ev := range evs.Slice() {
			seen = append(seen, fmt.Sprintf("%s@%s", stdtypes.TypeName(ev), ev.Dest()))
		}
		return nil
	})
	a := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		if _, ok := ev.(*testEvent); ok {
			return stdtypes.ListOf(newTestEvent("b", "")), nil
		}
		return nil, nil
	})
	b := modules.NewMockPassive(nil)
	rn := startNode(t, testConfig(), modules.Modules{"a": a, "b": b}, interceptor)
	eventually(t, "inits", func() bool { return len(a.Received()) == 1 && len(b.Received()) == 1 })
	rn.inject(newTestEvent("a", ""))
	eventually(t, "b's event", func() bool { return len(b.Received()) == 2 })
	mu.Lock()
	got := fmt.Sprint(seen)
	mu.Unlock()
	want := "[stdevents.Init@a stdevents.Init@b mir.testEvent@a mir.testEvent@b]"
	if got != want {
		t.Errorf("interceptor saw %s, want %s", got, want)
	}
}

func TestInterceptorErrorStopsNode(t *testing.T) {
	fail := errors.New("disk full")
	interceptor := eventlog.InterceptorFunc(func(*stdtypes.EventList) error { return fail })
	rn := startNode(t, testConfig(), modules.Modules{"m": modules.NullPassive{}}, interceptor)
	if err := rn.wait(); !errors.Is(err, fail) || !strings.Contains(err.Error(), "interceptor") {
		t.Errorf("Run returned %v, want the interceptor's error", err)
	}
}

func TestStatsCountEvents(t *testing.T) {
	echo := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		if te, ok := ev.(*testEvent); ok && te.Tag == "ping" {
			return stdtypes.ListOf(newTestEvent("sink", "pong"), newTestEvent("sink", "pong")), nil
		}
		return nil, nil
	})
	sink := modules.NewMockPassive(nil)
	rn := startNode(t, testConfig(), modules.Modules{"echo": echo, "sink": sink}, nil)
	rn.inject(newTestEvent("echo", "ping"), newTestEvent("echo", "ping"))
	eventually(t, "pongs", func() bool { return len(tags(sink.Received())) == 4 })
	st := rn.Stats()
	if e := st.Modules["echo"]; e.EventsIn != 3 || e.EventsOut != 4 || e.Batches == 0 || e.Busy <= 0 {
		t.Errorf("echo stats %+v, want 3 in (Init + 2), 4 out, some batches and time", e)
	}
	if s := st.Modules["sink"]; s.EventsIn != 5 || s.EventsOut != 0 {
		t.Errorf("sink stats %+v, want 5 in, 0 out", s)
	}
}

func TestStatsAreLogged(t *testing.T) {
	var buf syncbuf.Buffer
	cfg := testConfig()
	cfg.Stats = StatsConfig{Logger: logging.NewStreamLogger(logging.LevelInfo, &buf), LogLevel: logging.LevelInfo, Period: 5 * time.Millisecond}
	startNode(t, cfg, modules.Modules{"m": modules.NullPassive{}}, nil)
	eventually(t, "stats line", func() bool {
		s := buf.String()
		return strings.Contains(s, "module stats") && strings.Contains(s, "module=m") && strings.Contains(s, "buffered=")
	})
}

func TestNewNodeRejectsBadInput(t *testing.T) {
	cases := []struct {
		name string
		cfg  *NodeConfig
		mods modules.Modules
		want string
	}{
		{"nil config", nil, modules.Modules{"m": modules.NullPassive{}}, "config is nil"},
		{"no modules", testConfig(), modules.Modules{}, "at least one module"},
		{"nil module", testConfig(), modules.Modules{"m": nil}, "nil"},
		{"not a module", testConfig(), modules.Modules{"m": 42}, "neither"},
		{"path ID", testConfig(), modules.Modules{"a/b": modules.NullPassive{}}, "single path segment"},
		{"bad config", &NodeConfig{MaxEventBatchSize: 0, PauseInputThreshold: 1}, modules.Modules{"m": modules.NullPassive{}}, "MaxEventBatchSize"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewNode("n", c.cfg, c.mods, nil)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("NewNode returned %v, want an error about %q", err, c.want)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultNodeConfig().Validate(); err != nil {
		t.Fatalf("default config invalid: %v", err)
	}
	cases := []struct {
		name   string
		change func(*NodeConfig)
		want   string
	}{
		{"batch size", func(c *NodeConfig) { c.MaxEventBatchSize = 0 }, "MaxEventBatchSize"},
		{"pause", func(c *NodeConfig) { c.PauseInputThreshold = 0 }, "PauseInputThreshold"},
		{"resume above pause", func(c *NodeConfig) { c.ResumeInputThreshold = c.PauseInputThreshold + 1 }, "ResumeInputThreshold"},
		{"resume too low", func(c *NodeConfig) { c.ResumeInputThreshold = 0 }, "ResumeInputThreshold"},
		{"stats period", func(c *NodeConfig) { c.Stats.Period = -time.Second }, "Stats.Period"},
	}
	for _, c := range cases {
		cfg := DefaultNodeConfig()
		c.change(cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Validate returned %v, want an error about %s", c.name, err, c.want)
		}
	}
	cfg := DefaultNodeConfig()
	if cfg.WithLogger(logging.NilLogger) == cfg || cfg.Logger == nil {
		t.Error("WithLogger must return a copy and leave the original alone")
	}
}

func TestModuleMayReturnItsInputList(t *testing.T) {
	// An echo module returns the very list it was given; its events must
	// still be routed, not lost when the node reuses its batch list.
	var once sync.Once
	echo := &funcModule{apply: func(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
		forward := false
		for _, ev := range evs.Slice() {
			if te, ok := ev.(*testEvent); ok && te.Tag == "echo" {
				forward = true
			}
		}
		if !forward {
			return nil, nil
		}
		var out *stdtypes.EventList
		once.Do(func() { out = evs })
		return out, nil
	}}
	sink := modules.NewMockPassive(nil)
	// The echo's events are addressed to the echo itself, so returning
	// them sends them round once more; the second time it returns nil.
	rn := startNode(t, testConfig(), modules.Modules{"echo": echo, "sink": sink}, nil)
	eventually(t, "init", func() bool { return rn.Stats().Modules["echo"].EventsIn == 1 })
	rn.inject(newTestEvent("echo", "echo"))
	eventually(t, "echoed event", func() bool { return rn.Stats().Modules["echo"].EventsIn == 3 })
}

func TestManyActiveModules(t *testing.T) {
	// More active modules than the loop reads directly: the rest are read
	// by goroutines of their own. All of them must get through, in order
	// per module, and backpressure must hold them back too.
	const nActive, perModule = maxDirectActive + 3, 50
	sink := modules.NewMockPassive(nil)
	m := modules.Modules{"sink": sink}
	var sources []*modules.MockActive
	for i := range nActive {
		src := modules.NewMockActive(4, nil)
		sources = append(sources, src)
		m[stdtypes.ModuleID(fmt.Sprintf("src%d", i))] = src
	}
	cfg := testConfig()
	cfg.PauseInputThreshold = 10
	cfg.ResumeInputThreshold = 5
	startNode(t, cfg, m, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for i, src := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perModule {
				src.Emit(ctx, stdtypes.ListOf(newTestEvent("sink", fmt.Sprintf("%d/%d", i, j))))
			}
		}()
	}
	wg.Wait()
	eventually(t, "all events", func() bool { return len(tags(sink.Received())) == nActive*perModule })
	next := make(map[string]int)
	for _, tag := range tags(sink.Received()) {
		var i, j int
		if _, err := fmt.Sscanf(tag, "%d/%d", &i, &j); err != nil {
			t.Fatal(err)
		}
		key := fmt.Sprint(i)
		if j != next[key] {
			t.Fatalf("module %d: event %d arrived when %d was due", i, j, next[key])
		}
		next[key]++
	}
}

func TestClosedOutputChannel(t *testing.T) {
	// An active module that closes its channel has said all it had to say;
	// the node goes on without it.
	closing := &closingActive{out: make(chan *stdtypes.EventList, 1)}
	closing.out <- stdtypes.ListOf(newTestEvent("sink", "last words"))
	close(closing.out)
	sink := modules.NewMockPassive(nil)
	rn := startNode(t, testConfig(), modules.Modules{"closing": closing, "sink": sink}, nil)
	eventually(t, "last words", func() bool { return len(tags(sink.Received())) == 1 })
	rn.inject(newTestEvent("sink", "still running"))
	eventually(t, "node still running", func() bool { return len(tags(sink.Received())) == 2 })
}

type closingActive struct{ out chan *stdtypes.EventList }

func (c *closingActive) ApplyEvents(context.Context, *stdtypes.EventList) error { return nil }
func (c *closingActive) EventsOut() <-chan *stdtypes.EventList                  { return c.out }

func TestInjectEventsBeforeRunAndOnCancelledContext(t *testing.T) {
	sink := modules.NewMockPassive(nil)
	node, err := NewNode("n", testConfig(), modules.Modules{"sink": sink}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := node.InjectEvents(context.Background(), stdtypes.ListOf(newTestEvent("sink", "early"))); err != nil {
		t.Fatalf("InjectEvents before Run: %v", err)
	}
	if err := node.InjectEvents(context.Background(), nil); err != nil {
		t.Fatalf("injecting nothing: %v", err)
	}
	// Fill the inbox so that the next injection has to wait, then give up.
	for range inboxCapacity - 1 {
		if err := node.InjectEvents(context.Background(), stdtypes.ListOf(newTestEvent("sink", "fill"))); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if err := node.InjectEvents(ctx, stdtypes.ListOf(newTestEvent("sink", "late"))); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("InjectEvents into a full inbox returned %v, want the context's error", err)
	}
	errCh := make(chan error, 1)
	go func() { errCh <- node.Run(context.Background()) }()
	eventually(t, "early events", func() bool { return len(tags(sink.Received())) == inboxCapacity })
	if got := tags(sink.Received())[0]; got != "early" {
		t.Errorf("first event %q, want the one injected first", got)
	}
	node.Stop()
	if err := <-errCh; !errors.Is(err, ErrStopped) {
		t.Errorf("Run returned %v", err)
	}
}

func TestEventsFromActiveModulesForUnknownModulesAreDropped(t *testing.T) {
	// A transport delivers what a peer addressed to a module this node does
	// not have: the node drops it and goes on.
	net := modules.NewMockActive(2, nil)
	sink := modules.NewMockPassive(nil)
	rn := startNode(t, testConfig(), modules.Modules{"net": net, "sink": sink}, nil)
	net.Emit(context.Background(), stdtypes.ListOf(newTestEvent("nosuch/module", "evil"), newTestEvent("sink", "good")))
	eventually(t, "good event", func() bool { return len(tags(sink.Received())) == 1 })
	if got := rn.Stats().Modules["net"].DroppedUnknown; got != 1 {
		t.Errorf("DroppedUnknown = %d, want 1", got)
	}
	rn.inject(newTestEvent("sink", "still running"))
	eventually(t, "node still running", func() bool { return len(tags(sink.Received())) == 2 })
}

// TestMessagesForModulesThatTakeNoneAreDropped: a message from another
// node reaches only a module that takes messages; one for any other
// module, emitted by a transport or injected, is dropped and counted in
// that module's stats, and the node goes on.
func TestMessagesForModulesThatTakeNoneAreDropped(t *testing.T) {
	net := modules.NewMockActive(2, nil)
	sink := modules.NewMockPassive(nil) // Takes messages, as protocol modules do.
	rn := startNode(t, testConfig(), modules.Modules{"net": net, "sink": sink, "null": modules.NullPassive{}}, nil)
	msg := func(dest stdtypes.ModuleID) stdtypes.Event { return stdevents.NewMessageReceived(dest, "peer", nil) }
	net.Emit(context.Background(), stdtypes.ListOf(msg("null"), msg("net"), msg("sink")))
	rn.inject(msg("null"))
	eventually(t, "the message for the sink", func() bool { return len(sink.Received()) == 2 }) // Init and the message.
	eventually(t, "the injected message dropped", func() bool { return rn.Stats().Modules["null"].DroppedMessages == 2 })
	st := rn.Stats().Modules
	if st["net"].DroppedMessages != 1 || st["sink"].DroppedMessages != 0 || st["net"].DroppedUnknown != 0 {
		t.Errorf("stats %+v, want one message dropped for net, none for sink", st)
	}
}

// TestDroppedMessagesWarnOncePerModule: the first message a node drops
// for a module that takes none is logged as a warning that names the
// module and the marker it lacks, so that a protocol module whose author
// forgot modules.MessageReceiver does not lose its messages silently; the
// rest, however many a peer sends, are only counted.
func TestDroppedMessagesWarnOncePerModule(t *testing.T) {
	var log syncbuf.Buffer
	cfg := DefaultNodeConfig().WithLogger(logging.NewStreamLogger(logging.LevelWarn, &log))
	net := modules.NewMockActive(4, nil)
	rn := startNode(t, cfg, modules.Modules{"net": net, "null": modules.NullPassive{}}, nil)
	msg := func(dest stdtypes.ModuleID) stdtypes.Event { return stdevents.NewMessageReceived(dest, "peer", nil) }
	for range 3 {
		net.Emit(context.Background(), stdtypes.ListOf(msg("null"), msg("null"), msg("net")))
		rn.inject(msg("null"))
	}
	eventually(t, "every message dropped", func() bool {
		st := rn.Stats().Modules
		return st["null"].DroppedMessages == 9 && st["net"].DroppedMessages == 3
	})
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("logged %d lines, want one warning for each of null and net:\n%s", len(lines), log.String())
	}
	for _, mod := range []string{"null", "net"} {
		n := 0
		for _, l := range lines {
			if strings.Contains(l, "level=WARN") && strings.Contains(l, "module="+mod+" ") &&
				strings.Contains(l, "node=test") && strings.Contains(l, "does not implement modules.MessageReceiver") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d warnings for module %s, want 1, naming the node, the module and the missing marker:\n%s", n, mod, log.String())
		}
	}
}

// reportingModule is a passive module with statistics of its own.
type reportingModule struct{ modules.NullPassive }

func (reportingModule) ReportStats() any { return "42 widgets" }

func TestStatsIncludeModuleReports(t *testing.T) {
	var buf syncbuf.Buffer
	cfg := testConfig()
	cfg.Stats = StatsConfig{Logger: logging.NewStreamLogger(logging.LevelInfo, &buf), LogLevel: logging.LevelInfo, Period: 5 * time.Millisecond}
	rn := startNode(t, cfg, modules.Modules{"w": reportingModule{}, "m": modules.NullPassive{}}, nil)
	if got := rn.Stats().Reports; len(got) != 1 || got["w"] != "42 widgets" {
		t.Errorf("Reports = %v, want only w's", got)
	}
	eventually(t, "report logged", func() bool {
		return strings.Contains(buf.String(), `msg="module report" node=test module=w report="42 widgets"`)
	})
}
