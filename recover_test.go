package mir

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/mirframework/mir/internal/engine"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// recoverer is an active module that recovered events, as a write-ahead
// log does, and counts how often it was asked for them.
type recoverer struct {
	*modules.MockActive
	events []stdtypes.Event
	asked  int
}

func (r *recoverer) Recovered() []stdtypes.Event {
	r.asked++
	return r.events
}

// inputLog is an InputInterceptor that records which events were inputs.
type inputLog struct {
	mu     sync.Mutex
	inputs map[string]bool // by tag of a testEvent
}

func (l *inputLog) Intercept(*stdtypes.EventList) error {
	return errors.New("not an input interceptor")
}

func (l *inputLog) InterceptInputs(evs *stdtypes.EventList, inputs []bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, ev := range evs.Slice() {
		if te, ok := ev.(*testEvent); ok {
			l.inputs[te.Tag] = inputs[i]
		}
	}
	return nil
}

// TestRecoveredEventsComeRightAfterInit: what a Recoverer recovered
// reaches its modules right after their Init, before what an active
// module emitted before the node started (a message from the network),
// and is marked as input for a recorder.
func TestRecoveredEventsComeRightAfterInit(t *testing.T) {
	a := modules.NewMockPassive(nil)
	b := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		if te, ok := ev.(*testEvent); ok && te.Tag == "restored" {
			return stdtypes.ListOf(newTestEvent("a", "output")), nil
		}
		return nil, nil
	})
	wal := &recoverer{MockActive: modules.NewMockActive(0, nil), events: []stdtypes.Event{
		newTestEvent("a", "r1"), newTestEvent("b", "restored"), newTestEvent("a/sub", "r2"),
	}}
	source := modules.NewMockActive(1, nil)
	source.TryEmit(stdtypes.ListOf(newTestEvent("a", "early"), newTestEvent("b", "early")))
	icp := &inputLog{inputs: map[string]bool{}}
	rn := startNode(t, testConfig(), modules.Modules{"a": a, "b": b, "wal": wal, "src": source}, icp)
	eventually(t, "events", func() bool { return len(a.Received()) == 5 && len(b.Received()) == 3 })
	var got []string
	for _, ev := range a.Received() {
		switch ev := ev.(type) {
		case *stdevents.Init:
			got = append(got, "init")
		case *testEvent:
			got = append(got, ev.Tag)
		}
	}
	// "output" comes from b's recovered event: it may come before or
	// after "early", but never before a's recovered events.
	if s := strings.Join(got, " "); !strings.HasPrefix(s, "init r1 r2 ") {
		t.Errorf("module a got %s, want Init, then r1 r2 (recovered), then the rest", s)
	}
	if _, ok := b.Received()[0].(*stdevents.Init); !ok || fmt.Sprint(tags(b.Received())) != "[restored early]" {
		t.Errorf("module b got %v", b.Received())
	}
	rn.Stop()
	_ = rn.wait()
	if wal.asked != 1 {
		t.Errorf("Recovered called %d times, want 1", wal.asked)
	}
	icp.mu.Lock()
	defer icp.mu.Unlock()
	if !icp.inputs["r1"] || !icp.inputs["restored"] || icp.inputs["output"] {
		t.Errorf("inputs %v: recovered events are inputs, output is not", icp.inputs)
	}
}

// TestRecoveredForUnknownModule: a recovered event for a module the node
// does not have stops the node at start, naming both modules.
func TestRecoveredForUnknownModule(t *testing.T) {
	a := modules.NewMockPassive(nil)
	wal := &recoverer{MockActive: modules.NewMockActive(0, nil), events: []stdtypes.Event{newTestEvent("a", "ok"), newTestEvent("gone/sub", "lost")}}
	rn := startNode(t, testConfig(), modules.Modules{"a": a, "wal": wal}, nil)
	err := rn.wait()
	if !errors.Is(err, engine.ErrUnknownModule) || !strings.Contains(err.Error(), `module "wal" recovered`) ||
		!strings.Contains(err.Error(), `"gone/sub"`) {
		t.Fatalf("Run returned %v", err)
	}
	if n := len(tags(a.Received())); n != 0 {
		t.Errorf("module a got %d events of a recovery that failed", n)
	}
}

// TestDebugDoesNotRecover: a node in debug mode takes its events from the
// caller only (a replay has the recovered events in its recording).
func TestDebugDoesNotRecover(t *testing.T) {
	wal := &recoverer{MockActive: modules.NewMockActive(0, nil), events: []stdtypes.Event{newTestEvent("wal", "recovered")}}
	node, err := NewNode("test", testConfig(), modules.Modules{"wal": wal}, nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- node.Debug(t.Context(), nil) }()
	if err := node.InjectEvents(t.Context(), stdtypes.ListOf(newTestEvent("wal", "injected"))); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the injected event", func() bool { return len(wal.Received()) == 1 })
	node.Stop()
	<-done
	if wal.asked != 0 || fmt.Sprint(tags(wal.Received())) != "[injected]" {
		t.Errorf("in debug mode: Recovered called %d times, the module got %v", wal.asked, tags(wal.Received()))
	}
}
