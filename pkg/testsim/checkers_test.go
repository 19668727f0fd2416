package testsim_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// deliver and submit implement the checkers' interfaces.
type deliver struct {
	stdtypes.Header
	Item testsim.Item
}

func (d *deliver) DeliveredItem() testsim.Item { return d.Item }

type submit struct {
	stdtypes.Header
	Item testsim.Item
}

func (s *submit) SubmittedItem() testsim.Item { return s.Item }

func dlv(id string, origin stdtypes.NodeID, value string) *deliver {
	return &deliver{Header: stdtypes.NewHeader("app"), Item: testsim.Item{ID: id, Origin: origin, Value: value}}
}

func sub(id, value string) *submit {
	return &submit{Header: stdtypes.NewHeader("app"), Item: testsim.Item{ID: id, Value: value}}
}

// step is one observation fed to a property.
type step struct {
	node stdtypes.NodeID
	inc  int
	ev   stdtypes.Event
}

// feed shows the steps to p and returns the index of the first violation,
// or -1, and its error.
func feed(p testsim.Property, steps []step) (int, error) {
	for i, s := range steps {
		inc := s.inc
		if inc == 0 {
			inc = 1
		}
		o := &testsim.Observation{Seq: uint64(i + 1), Node: s.node, Incarnation: inc, Event: s.ev}
		if err := p.Observe(o); err != nil {
			return i, err
		}
	}
	return -1, nil
}

func TestCheckers(t *testing.T) {
	tests := []struct {
		name   string
		prop   testsim.Property
		steps  []step
		failAt int // -1: no violation
	}{
		{"agreement holds", testsim.Agreement(), []step{
			{"0", 1, dlv("x", "0", "v")}, {"1", 1, dlv("x", "0", "v")}, {"1", 1, dlv("y", "0", "w")},
		}, -1},
		{"agreement broken", testsim.Agreement(), []step{
			{"0", 1, dlv("x", "0", "v")}, {"1", 1, dlv("x", "0", "w")},
		}, 1},
		{"agreement ignores the faulty", testsim.Agreement("1"), []step{
			{"0", 1, dlv("x", "0", "v")}, {"1", 1, dlv("x", "0", "w")},
		}, -1},
		{"no duplication broken", testsim.NoDuplication(), []step{
			{"0", 1, dlv("x", "0", "v")}, {"1", 1, dlv("x", "0", "v")}, {"0", 1, dlv("x", "0", "v")},
		}, 2},
		{"no duplication across restarts", testsim.NoDuplication(), []step{
			{"0", 1, dlv("x", "0", "v")}, {"0", 2, dlv("x", "0", "v")},
		}, -1},
		{"validity holds", testsim.Validity(), []step{
			{"0", 1, sub("x", "v")}, {"1", 1, dlv("x", "0", "v")}, {"1", 1, dlv("z", "", "?")},
		}, -1},
		{"validity: never submitted", testsim.Validity(), []step{
			{"0", 1, sub("x", "v")}, {"1", 1, dlv("y", "0", "v")},
		}, 1},
		{"validity: other value", testsim.Validity(), []step{
			{"0", 1, sub("x", "v")}, {"1", 1, dlv("x", "0", "w")},
		}, 1},
		{"validity: other origin", testsim.Validity(), []step{
			{"0", 1, sub("x", "v")}, {"1", 1, dlv("x", "2", "v")},
		}, 1},
		{"validity: faulty origin", testsim.Validity("2"), []step{
			{"1", 1, dlv("x", "2", "anything")},
		}, -1},
		{"total order holds", testsim.TotalOrder(), []step{
			{"0", 1, dlv("a", "0", "")}, {"1", 1, dlv("a", "0", "")}, {"0", 1, dlv("b", "0", "")},
			{"1", 1, dlv("b", "0", "")}, {"1", 2, dlv("a", "0", "")},
		}, -1},
		{"total order broken", testsim.TotalOrder(), []step{
			{"0", 1, dlv("a", "0", "")}, {"0", 1, dlv("b", "0", "")}, {"1", 1, dlv("a", "0", "")},
			{"1", 1, dlv("c", "0", "")},
		}, 3},
		{"total order after a restart", testsim.TotalOrder(), []step{
			{"0", 1, dlv("a", "0", "")}, {"0", 1, dlv("b", "0", "")}, {"0", 2, dlv("b", "0", "")},
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at, err := feed(tt.prop, tt.steps)
			if at != tt.failAt {
				t.Errorf("violation at step %d (%v), want %d", at, err, tt.failAt)
			}
		})
	}
}

func TestTermination(t *testing.T) {
	up := func(id stdtypes.NodeID, inc int) testsim.NodeStatus {
		return testsim.NodeStatus{ID: id, Up: true, Incarnation: inc}
	}
	p := testsim.Termination("3")
	_, err := feed(p, []step{
		{"0", 1, sub("x", "v")},
		{"1", 1, sub("y", "v")}, // node 1 restarts before y gets anywhere
		{"3", 1, sub("z", "v")}, // node 3 is faulty
		{"0", 1, dlv("x", "0", "v")},
		{"1", 1, dlv("x", "0", "v")},
		{"2", 1, dlv("w", "3", "v")}, // from the faulty node, but a correct node delivered it
	})
	if err != nil {
		t.Fatal(err)
	}
	err = p.CheckLiveness([]testsim.NodeStatus{up("0", 1), up("1", 2), up("2", 1), up("3", 1)})
	if err == nil {
		t.Fatal("liveness holds with deliveries missing")
	}
	for _, want := range []string{
		`node 0 did not deliver item "w" (delivered by node 2)`,
		`node 2 did not deliver item "x" (submitted to node 0)`,
		"3 deliveries missing",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v\ndoes not say %s", err, want)
		}
	}
	if strings.Contains(err.Error(), `"y"`) || strings.Contains(err.Error(), `"z"`) {
		t.Errorf("%v\nrequires an item of a crashed incarnation or a faulty node", err)
	}
	_, _ = feed(p, []step{{"0", 1, dlv("w", "3", "v")}, {"1", 2, dlv("w", "3", "v")}, {"2", 1, dlv("x", "0", "v")}})
	if err := p.CheckLiveness([]testsim.NodeStatus{up("0", 1), up("1", 2), up("2", 1), {ID: "4"}}); err != nil {
		t.Errorf("liveness: %v", err)
	}
}

// TestSafetyViolationStopsTheRun: the run stops at the first violating
// event, and the failure shows the events that led to it.
func TestSafetyViolationStopsTheRun(t *testing.T) {
	s := testsim.New(testsim.Options{Seed: 9, HistorySize: 3})
	s.Check(testsim.BroadcastProperties()...)
	n := singleNode(t, s, func(int) modules.Modules { return modules.Modules{"app": modules.NullPassive{}} })
	n.InjectAt(time.Millisecond, dlv("x", "", "v"))
	n.InjectAt(2*time.Millisecond, dlv("y", "", "v"))
	n.InjectAt(3*time.Millisecond, dlv("x", "", "v"), dlv("z", "", "v"))
	n.InjectAt(4*time.Millisecond, dlv("w", "", "v"))
	err := s.Run(time.Second)
	var f *testsim.Failure
	if !errors.As(err, &f) {
		t.Fatalf("Run = %v, want a failure", err)
	}
	if f.Property != "no duplication" || f.Time != 3*time.Millisecond || f.Node != "0" || f.Seed != 9 || f.Hash != s.Hash() {
		t.Errorf("failure %+v", f)
	}
	if len(f.History) != 3 {
		t.Fatalf("history of %d observations, want 3", len(f.History))
	}
	last := f.History[2]
	if d, ok := last.Event.(*deliver); !ok || d.Item.ID != "x" || last.Time != 3*time.Millisecond {
		t.Errorf("the history ends with %s, not with the duplicate", last.String())
	}
	if s.Events() != 4 { // Init, x, y, x
		t.Errorf("%d events dispatched; the run went on after the violation", s.Events())
	}
	for _, want := range []string{`property "no duplication" violated at 3ms on node 0 (seed 9`, `delivered item "x" twice`, `testsim_test.deliver to "app" {Item:{ID:"x"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("report\n%v\ndoes not say %s", err, want)
		}
	}
}

func TestCheckLivenessReportsAFailure(t *testing.T) {
	s := testsim.New(testsim.Options{Seed: 1})
	s.Check(testsim.Termination())
	n := singleNode(t, s, func(int) modules.Modules { return modules.Modules{"app": modules.NullPassive{}} })
	_ = n.Inject(sub("x", "v"))
	if err := s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	err := s.CheckLiveness()
	var f *testsim.Failure
	if !errors.As(err, &f) || f.Property != "termination" || !strings.Contains(err.Error(), `node 0 did not deliver item "x"`) {
		t.Errorf("CheckLiveness = %v", err)
	}
}

// TestCheckersReused: a checker handed to run after run checks each run
// as a new one would. The checkers kept their state in the value, so a
// second run saw the deliveries of the first (a duplicate, a different
// value) and failed for nothing.
func TestCheckersReused(t *testing.T) {
	props := append(testsim.BroadcastProperties(), testsim.TotalOrder())
	for run, value := range []string{"v", "w"} {
		s := testsim.New(testsim.Options{Seed: 1})
		s.Check(props...)
		n := singleNode(t, s, func(int) modules.Modules { return modules.Modules{"app": modules.NullPassive{}} })
		n.InjectAt(time.Millisecond, sub("x", value), dlv("x", "0", value))
		if err := s.Run(time.Second); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		if err := s.CheckLiveness(); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
	// The value handed in keeps its own state, for direct use.
	if _, err := feed(props[1], []step{{"0", 1, dlv("x", "0", "v")}, {"0", 1, dlv("x", "0", "v")}}); err == nil {
		t.Error("a duplicate fed to the checker itself went unnoticed")
	}
}
