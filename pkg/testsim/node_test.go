package testsim_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// note is an event a test injects and looks for.
type note struct {
	stdtypes.Header
	Tag string
}

func newNote(dest stdtypes.ModuleID, tag string) *note {
	return &note{Header: stdtypes.NewHeader(dest), Tag: tag}
}

// seen records the observations of a simulation as "time node tag" lines,
// for the events that are notes, and every observation's node and time.
type seen struct {
	notes []string
	all   []*testsim.Observation
}

func watch(s *testsim.Sim) *seen {
	w := &seen{}
	s.Observe(func(o *testsim.Observation) {
		c := *o
		w.all = append(w.all, &c)
		if n, ok := o.Event.(*note); ok {
			w.notes = append(w.notes, fmt.Sprintf("%v %s %s", o.Time, o.Node, n.Tag))
		}
	})
	return w
}

// singleNode adds node "0" running mods, built anew at each start.
func singleNode(t *testing.T, s *testsim.Sim, build func(inc int) modules.Modules) *testsim.Node {
	t.Helper()
	n, err := s.AddNode("0", testsim.NodeConfig{Build: func(inc int) (modules.Modules, error) { return build(inc), nil }})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNodeGetsInitFirst(t *testing.T) {
	s := testsim.New(testsim.Options{Seed: 1})
	w := watch(s)
	singleNode(t, s, func(int) modules.Modules {
		return modules.Modules{"a": modules.NullPassive{}, "b": modules.NullPassive{}, "timer": testsim.NewTimer()}
	})
	if err := s.Node("0").Inject(newNote("a", "x")); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range w.all {
		got = append(got, fmt.Sprintf("%s:%s", stdtypes.TypeName(o.Event), o.Event.Dest()))
	}
	// Every module gets its Init first, and modules take turns, one batch
	// each, in the order of their IDs: a's batch holds its Init and the
	// note.
	want := []string{"stdevents.Init:a", "testsim_test.note:a", "stdevents.Init:b", "stdevents.Init:timer"}
	if !slices.Equal(got, want) {
		t.Errorf("dispatched %v, want %v", got, want)
	}
	if s.Now() != time.Second {
		t.Errorf("clock at %v after Run(1s)", s.Now())
	}
}

// TestCrashedNodeProcessesNothing: between its crash and its restart a
// node dispatches no event; the messages sent to it meanwhile are lost,
// the timers it had set never fire, and it comes back with Init.
func TestCrashedNodeProcessesNothing(t *testing.T) {
	ps := newProbeSystem(t, 2, testsim.Options{Seed: 3}, sim.Options{Link: sim.LinkConfig{Latency: testsim.Fixed(time.Millisecond)}})
	w := watch(ps.s)
	n1 := ps.s.Node("1")
	// Node 1 sets a timer that would fire while it is down.
	n1.InjectAt(5*time.Millisecond, stdevents.NewTimerDelay("timer", 20*time.Millisecond, newNote("probe", "timer")))
	n1.CrashAt(10 * time.Millisecond)
	n1.RestartAt(50 * time.Millisecond)
	for ms := range 60 {
		ps.sendAt(time.Duration(ms)*time.Millisecond, "0", uint64(ms), "1")
	}
	ps.run(t, 100*time.Millisecond)

	for _, o := range w.all {
		if o.Node == "1" && o.Time > 10*time.Millisecond && o.Time < 50*time.Millisecond {
			t.Errorf("node 1 dispatched %s at %v, while down", stdtypes.TypeName(o.Event), o.Time)
		}
	}
	if len(w.notes) != 0 {
		t.Errorf("a timer of the crashed incarnation fired: %v", w.notes)
	}
	var seqs []uint64
	for _, a := range ps.between("0", "1") {
		seqs = append(seqs, a.seq)
		// Sent at seq ms, it arrives 1ms later; 9 and 49 arrive as the
		// node crashes and restarts, and either may come first.
		if a.seq >= 10 && a.seq < 49 {
			t.Errorf("message %d arrived at %v, while node 1 was down", a.seq, a.at)
		}
		if a.seq >= 50 && a.incarnat != 2 {
			t.Errorf("message %d arrived at incarnation %d", a.seq, a.incarnat)
		}
	}
	if !slices.Contains(seqs, 8) || !slices.Contains(seqs, 59) {
		t.Errorf("messages before the crash and after the restart should arrive; got %v", seqs)
	}
	if n1.Incarnation() != 2 || !n1.Up() {
		t.Errorf("node 1: incarnation %d, up %v", n1.Incarnation(), n1.Up())
	}
	restartInit := false
	for _, o := range w.all {
		if o.Node == "1" && o.Incarnation == 2 {
			_, restartInit = o.Event.(*stdevents.Init)
			if o.Time != 50*time.Millisecond {
				t.Errorf("node 1's first event after the restart at %v, want 50ms", o.Time)
			}
			break
		}
	}
	if !restartInit {
		t.Error("the restarted node's first event is not an Init")
	}
	if ps.network.Stats().Down == 0 {
		t.Error("no message counted as lost to a node that was down")
	}
}

func TestCrashAtEvent(t *testing.T) {
	for _, k := range []uint64{1, 5, 9} {
		s := testsim.New(testsim.Options{Seed: 1, MaxEventBatchSize: 1})
		w := watch(s)
		n := singleNode(t, s, func(int) modules.Modules { return modules.Modules{"a": modules.NullPassive{}} })
		n.CrashAtEvent(k)
		for i := range 10 {
			if err := n.Inject(newNote("a", fmt.Sprint(i))); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Run(time.Second); err != nil {
			t.Fatal(err)
		}
		if n.Up() {
			t.Errorf("k=%d: node up after its k-th event", k)
		}
		if got := uint64(len(w.all)); got != k-1 {
			t.Errorf("k=%d: node dispatched %d events before crashing, want %d", k, got, k-1)
		}
	}
}

// TestRestartRebuildsAndRestores: a restart calls the constructor with the
// next incarnation, then what a Recoverer recovered and Restore's events
// come right after the Inits.
func TestRestartRebuildsAndRestores(t *testing.T) {
	s := testsim.New(testsim.Options{Seed: 1})
	w := watch(s)
	var built []int
	var restored []string
	n, err := s.AddNode("0", testsim.NodeConfig{
		Build: func(inc int) (modules.Modules, error) {
			built = append(built, inc)
			disk := &slowTwin{recovered: []stdtypes.Event{newNote("b", fmt.Sprint("recovered ", inc))}}
			return modules.Modules{"a": modules.NullPassive{}, "b": modules.NullPassive{}, "disk": disk}, nil
		},
		Restore: func(inc int, mods modules.Modules) ([]stdtypes.Event, error) {
			restored = append(restored, fmt.Sprintf("%d:%d", inc, len(mods)))
			return []stdtypes.Event{newNote("b", fmt.Sprintf("restored %d", inc))}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	n.CrashAt(time.Millisecond)
	n.RestartAt(2 * time.Millisecond)
	if err := s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(built, []int{1, 2}) || !slices.Equal(restored, []string{"1:3", "2:3"}) {
		t.Errorf("built %v, restored %v", built, restored)
	}
	var order []string
	for _, o := range w.all {
		desc := stdtypes.TypeName(o.Event)
		if nt, ok := o.Event.(*note); ok {
			desc = nt.Tag
		}
		order = append(order, fmt.Sprintf("%d:%s:%s", o.Incarnation, desc, o.Event.Dest()))
	}
	want := []string{
		"1:stdevents.Init:a", "1:stdevents.Init:b", "1:recovered 1:b", "1:restored 1:b", "1:stdevents.Init:disk",
		"2:stdevents.Init:a", "2:stdevents.Init:b", "2:recovered 2:b", "2:restored 2:b", "2:stdevents.Init:disk",
	}
	if !slices.Equal(order, want) {
		t.Errorf("dispatched %v, want %v", order, want)
	}
	if s.FaultsHealed() != 2*time.Millisecond {
		t.Errorf("FaultsHealed = %v, want the restart time", s.FaultsHealed())
	}
}

func TestCrashRequestedDuringBatchWaitsForIt(t *testing.T) {
	s := testsim.New(testsim.Options{Seed: 1})
	w := watch(s)
	n := singleNode(t, s, func(int) modules.Modules { return modules.Modules{"a": modules.NullPassive{}} })
	s.Observe(func(o *testsim.Observation) {
		if nt, ok := o.Event.(*note); ok && nt.Tag == "crash" {
			n.Crash()
		}
	})
	if err := n.Inject(newNote("a", "before"), newNote("a", "crash"), newNote("a", "after")); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	// The batch holding "crash" was processed whole; nothing after it.
	if got := fmt.Sprint(w.notes); got != "[0s 0 before 0s 0 crash 0s 0 after]" {
		t.Errorf("notes %s", got)
	}
	if n.Up() {
		t.Error("node still up")
	}
	if err := n.Inject(newNote("a", "late")); !errors.Is(err, testsim.ErrNodeDown) {
		t.Errorf("Inject into a crashed node: %v, want ErrNodeDown", err)
	}
	if err := n.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := n.Restart(); err == nil {
		t.Error("restarting a node that is up succeeded")
	}
}

func TestModuleErrorsEndTheRun(t *testing.T) {
	for name, mod := range map[string]modules.PassiveModule{
		"error": modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
			if _, ok := ev.(*note); ok {
				return nil, errors.New("bad note")
			}
			return nil, nil
		}),
		"panic": modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
			if _, ok := ev.(*note); ok {
				panic("bad note")
			}
			return nil, nil
		}),
		"unknown destination": modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
			if _, ok := ev.(*note); ok {
				return stdtypes.ListOf(newNote("nowhere", "x")), nil
			}
			return nil, nil
		}),
	} {
		t.Run(name, func(t *testing.T) {
			s := testsim.New(testsim.Options{Seed: 1})
			n := singleNode(t, s, func(int) modules.Modules { return modules.Modules{"a": mod} })
			n.InjectAt(3*time.Millisecond, newNote("a", "x"))
			err := s.Run(time.Second)
			var f *testsim.Failure
			if !errors.As(err, &f) || f.Node != "0" || f.Time != 3*time.Millisecond || f.Property != "" {
				t.Fatalf("Run: %v; want a failure of node 0 at 3ms", err)
			}
			if !strings.Contains(err.Error(), `"a"`) {
				t.Errorf("the error does not name the module: %v", err)
			}
			if err2 := s.Run(2 * time.Second); err2 != err {
				t.Errorf("Run after the failure: %v, want the failure again", err2)
			}
		})
	}
}

func TestBadModules(t *testing.T) {
	for name, mods := range map[string]modules.Modules{
		"active":  {"a": modules.NullActive{}},
		"nil":     {"a": nil},
		"other":   {"a": 42},
		"none":    {},
		"path ID": {"a/b": modules.NullPassive{}},
	} {
		s := testsim.New(testsim.Options{Seed: 1})
		_, err := s.AddNode("0", testsim.NodeConfig{Build: func(int) (modules.Modules, error) { return mods, nil }})
		if err == nil {
			t.Errorf("%s: AddNode succeeded", name)
		}
	}
	s := testsim.New(testsim.Options{Seed: 1})
	build := func(int) (modules.Modules, error) { return modules.Modules{"a": modules.NullPassive{}}, nil }
	if _, err := s.AddNode("0", testsim.NodeConfig{Build: build}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddNode("0", testsim.NodeConfig{Build: build}); err == nil {
		t.Error("adding a node twice succeeded")
	}
	if _, err := s.AddNode("1", testsim.NodeConfig{}); err == nil {
		t.Error("a node without Build was added")
	}
}

func TestBatchDelayAdvancesTime(t *testing.T) {
	s := testsim.New(testsim.Options{Seed: 1, BatchDelay: testsim.Fixed(time.Millisecond), MaxEventBatchSize: 1})
	w := watch(s)
	n := singleNode(t, s, func(int) modules.Modules { return modules.Modules{"a": modules.NullPassive{}} })
	if err := n.Inject(newNote("a", "1"), newNote("a", "2")); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	// Init at 1ms, then one note per millisecond.
	if got := fmt.Sprint(w.notes); got != "[2ms 0 1 3ms 0 2]" {
		t.Errorf("notes %s", got)
	}
}

func TestEventLimit(t *testing.T) {
	s := testsim.New(testsim.Options{Seed: 1, MaxEvents: 100})
	echo := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		return stdtypes.ListOf(newNote("a", "again")), nil // forever, in no time
	})
	singleNode(t, s, func(int) modules.Modules { return modules.Modules{"a": echo} })
	err := s.Run(time.Second)
	if !errors.Is(err, testsim.ErrEventLimit) {
		t.Fatalf("Run: %v, want ErrEventLimit", err)
	}
}

func TestRunUntilAndStop(t *testing.T) {
	s := testsim.New(testsim.Options{Seed: 1})
	w := watch(s)
	n := singleNode(t, s, func(int) modules.Modules { return modules.Modules{"a": modules.NullPassive{}} })
	for i := range 10 {
		n.InjectAt(time.Duration(i)*time.Millisecond, newNote("a", fmt.Sprint(i)))
	}
	ok, err := s.RunUntil(func() bool { return len(w.notes) == 3 }, testsim.Forever)
	if err != nil || !ok || s.Now() != 2*time.Millisecond {
		t.Fatalf("RunUntil: %v, %v at %v", ok, err, s.Now())
	}
	s.At(5*time.Millisecond, s.Stop)
	if err := s.Run(testsim.Forever); err != nil {
		t.Fatal(err)
	}
	if s.Now() != 5*time.Millisecond {
		t.Errorf("Stop at 5ms: clock at %v", s.Now())
	}
	ok, err = s.RunUntil(func() bool { return false }, 7*time.Millisecond)
	if ok || err != nil || s.Now() != 7*time.Millisecond || len(w.notes) != 8 {
		t.Errorf("RunUntil to a deadline: %v, %v, at %v with %d notes", ok, err, s.Now(), len(w.notes))
	}
	if err := s.Run(testsim.Forever); err != nil || len(w.notes) != 10 || s.Pending() != 0 {
		t.Errorf("Run(Forever): %v, %d notes, %d pending", err, len(w.notes), s.Pending())
	}
	s.At(20*time.Millisecond, func() {
		if err := s.Run(time.Hour); err == nil {
			t.Error("Run inside Run succeeded")
		}
	})
	if err := s.Run(time.Hour); err != nil {
		t.Fatal(err)
	}
}

// TestInterceptorHook: a node's Interceptor sees every batch the node
// dispatches, the hook through which a recorder will write event logs.
func TestInterceptorHook(t *testing.T) {
	s := testsim.New(testsim.Options{Seed: 1})
	w := watch(s)
	var intercepted int
	n, err := s.AddNode("0", testsim.NodeConfig{
		Build: func(int) (modules.Modules, error) {
			return modules.Modules{"a": modules.NullPassive{}, "timer": testsim.NewTimer()}, nil
		},
		Interceptor: eventlog.InterceptorFunc(func(evs *stdtypes.EventList) error {
			intercepted += evs.Len()
			for _, ev := range evs.Slice() {
				if nt, ok := ev.(*note); ok && nt.Tag == "stop" {
					return errors.New("recorder full")
				}
			}
			return nil
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = n.Inject(stdevents.NewTimerDelay("timer", time.Millisecond, newNote("a", "late")), newNote("a", "now"))
	if err := s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	if intercepted != len(w.all) || intercepted != 5 {
		t.Errorf("interceptor saw %d events, observers %d, want 5", intercepted, len(w.all))
	}
	_ = n.Inject(newNote("a", "stop"))
	if err := s.Run(2 * time.Second); err == nil || !strings.Contains(err.Error(), "recorder full") {
		t.Errorf("the interceptor's error did not end the run: %v", err)
	}
}

// hidden is an event with unexported fields, one of interface type.
type hidden struct {
	stdtypes.Header
	msg   stdtypes.Message
	count int
}

func TestFailureReportPrintsAnyEvent(t *testing.T) {
	s := testsim.New(testsim.Options{Seed: 1})
	failing := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		if _, ok := ev.(*hidden); ok {
			return nil, errors.New("no")
		}
		return nil, nil
	})
	n := singleNode(t, s, func(int) modules.Modules { return modules.Modules{"a": failing} })
	_ = n.Inject(&hidden{Header: stdtypes.NewHeader("a"), msg: &msg{Seq: 4}, count: 2})
	err := s.Run(time.Second)
	if err == nil || !strings.Contains(err.Error(), `{msg:testsim_test.msg{Seq:4} count:2}`) {
		t.Errorf("report: %v", err)
	}
}
