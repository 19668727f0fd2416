package testsim_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// timerNode is a node with a simulated timer and a module "a" that
// receives what it emits.
func timerNode(t *testing.T) (*testsim.Sim, *testsim.Node, *seen) {
	t.Helper()
	s := testsim.New(testsim.Options{Seed: 1})
	w := watch(s)
	n := singleNode(t, s, func(int) modules.Modules {
		return modules.Modules{"a": modules.NullPassive{}, "timer": testsim.NewTimer()}
	})
	return s, n, w
}

func TestTimerDelay(t *testing.T) {
	s, n, w := timerNode(t)
	n.InjectAt(time.Millisecond, stdevents.NewTimerDelay("timer", 10*time.Millisecond, newNote("a", "x"), newNote("a", "y")))
	n.InjectAt(2*time.Millisecond, stdevents.NewTimerDelay("timer", 0, newNote("a", "now")))
	n.InjectAt(3*time.Millisecond, stdevents.NewTimerDelay("timer", 5*time.Millisecond)) // no events: nothing
	if err := s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(w.notes); got != "[2ms 0 now 11ms 0 x 11ms 0 y]" {
		t.Errorf("emitted %s", got)
	}
}

func TestTimerSameDeadlineInRequestOrder(t *testing.T) {
	s, n, w := timerNode(t)
	// Three requests falling due at 10ms, made in the order a, b, c, in
	// separate batches; and d, earlier.
	n.InjectAt(0, stdevents.NewTimerDelay("timer", 10*time.Millisecond, newNote("a", "a")))
	n.InjectAt(4*time.Millisecond, stdevents.NewTimerDelay("timer", 6*time.Millisecond, newNote("a", "b")))
	n.InjectAt(5*time.Millisecond, stdevents.NewTimerDelay("timer", 5*time.Millisecond, newNote("a", "c")))
	n.InjectAt(6*time.Millisecond, stdevents.NewTimerDelay("timer", time.Millisecond, newNote("a", "d")))
	if err := s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(w.notes); got != "[7ms 0 d 10ms 0 a 10ms 0 b 10ms 0 c]" {
		t.Errorf("emitted %s", got)
	}
}

func TestTimerRepeatAndGarbageCollect(t *testing.T) {
	s, n, w := timerNode(t)
	n.InjectAt(0,
		stdevents.NewTimerRepeat("timer", 10*time.Millisecond, 1, newNote("a", "r1")),
		stdevents.NewTimerRepeat("timer", 15*time.Millisecond, 2, newNote("a", "r2")))
	// At 35ms, stop r1; at 36ms, a repeat below the index is ignored;
	// at 50ms, stop r2, before its tick at 60ms.
	n.InjectAt(35*time.Millisecond, stdevents.NewTimerGarbageCollect("timer", 2))
	n.InjectAt(36*time.Millisecond, stdevents.NewTimerRepeat("timer", time.Millisecond, 1, newNote("a", "old")))
	n.InjectAt(50*time.Millisecond, stdevents.NewTimerGarbageCollect("timer", 3))
	if err := s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	want := "[10ms 0 r1 15ms 0 r2 20ms 0 r1 30ms 0 r1 30ms 0 r2 45ms 0 r2]"
	if got := fmt.Sprint(w.notes); got != want {
		t.Errorf("emitted %s\nwant    %s", got, want)
	}
	if s.Pending() != 0 {
		t.Errorf("%d actions pending after every timer stopped", s.Pending())
	}
}

func TestTimerRejectsInvalidBatches(t *testing.T) {
	for name, ev := range map[string]stdtypes.Event{
		"negative delay": stdevents.NewTimerDelay("timer", -time.Second, newNote("a", "x")),
		"zero period":    stdevents.NewTimerRepeat("timer", 0, 0, newNote("a", "x")),
		"nil event":      stdevents.NewTimerDelay("timer", time.Second, nil),
		"bad dest":       stdevents.NewTimerDelay("timer", time.Second, newNote("a//b", "x")),
		"not a request":  newNote("timer", "x"),
	} {
		s, n, w := timerNode(t)
		// A valid request in the same batch is not scheduled either.
		if err := n.Inject(stdevents.NewTimerDelay("timer", time.Millisecond, newNote("a", "valid")), ev); err != nil {
			t.Fatal(err)
		}
		err := s.Run(time.Second)
		if err == nil || !strings.Contains(err.Error(), `timer "timer"`) {
			t.Errorf("%s: Run = %v, want the timer's error", name, err)
		}
		for _, nt := range w.notes {
			if strings.HasSuffix(nt, "valid") {
				t.Errorf("%s: emitted %v from a rejected batch", name, w.notes)
			}
		}
		var f *testsim.Failure
		if !errors.As(err, &f) || f.Node != "0" {
			t.Errorf("%s: not a failure of node 0: %v", name, err)
		}
	}
}

// TestTimerReusedAfterRestart: a timer handed out again by the constructor
// of a restarted node starts empty.
func TestTimerReusedAfterRestart(t *testing.T) {
	s := testsim.New(testsim.Options{Seed: 1})
	w := watch(s)
	timer := testsim.NewTimer()
	n := singleNode(t, s, func(int) modules.Modules {
		return modules.Modules{"a": modules.NullPassive{}, "timer": timer}
	})
	n.InjectAt(0, stdevents.NewTimerRepeat("timer", 10*time.Millisecond, 0, newNote("a", "tick")))
	n.CrashAt(15 * time.Millisecond)
	n.RestartAt(16 * time.Millisecond)
	if err := s.Run(100 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(w.notes); got != "[10ms 0 tick]" {
		t.Errorf("emitted %s", got)
	}
}

// TestTimerHugeDelays: a delay or period so long that its deadline passes
// the end of time never falls due; it neither wraps around to the past nor
// fails the run.
func TestTimerHugeDelays(t *testing.T) {
	s, n, w := timerNode(t)
	const forever = time.Duration(math.MaxInt64)
	n.InjectAt(time.Millisecond,
		stdevents.NewTimerDelay("timer", forever, newNote("a", "never")),
		stdevents.NewTimerRepeat("timer", forever-time.Millisecond/2, 1, newNote("a", "never again")),
		stdevents.NewTimerDelay("timer", time.Millisecond, newNote("a", "soon")))
	if err := s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(w.notes); got != "[2ms 0 soon]" {
		t.Errorf("emitted %s, want only soon", got)
	}
}
