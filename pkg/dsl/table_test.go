package dsl

import (
	"testing"
	"unsafe"

	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

type (
	tEvA struct{ stdtypes.Header }
	tEvB struct{ stdtypes.Header }
)

func TestTypeKey(t *testing.T) {
	var a1, a2 stdtypes.Event = &tEvA{}, (*tEvA)(nil)
	if typeKey(a1) != typeKey(a2) || typeKey(a1) != typeKey(&tEvA{}) {
		t.Error("values of one type have different keys")
	}
	if typeKey(a1) == typeKey(&tEvB{}) || typeKey(a1) == typeKey(tEvA{}) {
		t.Error("values of different types share a key")
	}
	var none stdtypes.Event
	if typeKey(none) != nil {
		t.Error("a nil interface has a key")
	}
}

// TestTableSlowPath gives a dispatcher a wrong key, as if the runtime had
// two descriptors for one type: events still reach it, through the slow
// path, which then learns the right key, and no input makes the table
// grow beyond its bound.
func TestTableSlowPath(t *testing.T) {
	m := NewModule("m")
	var got int
	d := &eventDispatcher[tEvA, *tEvA]{
		name:     "a",
		handlers: []func(*tEvA) error{func(*tEvA) error { got++; return nil }},
		sites:    []site{"here"},
	}
	var bogus byte
	m.events.add(unsafe.Pointer(&bogus), d)
	for range 3 {
		if handled, err := m.events.dispatch(m, typeKey(&tEvA{}), &tEvA{}); !handled || err != nil {
			t.Fatalf("dispatch: %v, %v", handled, err)
		}
	}
	if got != 3 {
		t.Errorf("handler ran %d times, want 3", got)
	}
	if len(m.events.keys) != 2 {
		t.Errorf("table has %d keys, want the wrong one and the learned one", len(m.events.keys))
	}

	// Keys that match nothing are not learned.
	if handled, _ := m.events.dispatch(m, typeKey(&tEvB{}), &tEvB{}); handled {
		t.Error("an event of another type was handled")
	}
	// Learning is bounded.
	keys := make([]byte, 2*maxLearnedKeys)
	for i := range keys {
		m.events.dispatch(m, unsafe.Pointer(&keys[i]), &tEvA{})
	}
	if n := len(m.events.keys); n != 1+maxLearnedKeys {
		t.Errorf("table has %d keys, want at most %d", n, 1+maxLearnedKeys)
	}
}

// TestRegisteredKeysMatch checks that events and messages find their
// dispatchers by key, without the slow path (which would learn keys).
func TestRegisteredKeysMatch(t *testing.T) {
	m := NewModule("m")
	UponEvent(m, func(*tEvA) error { return nil })
	UponEvent(m, func(*tEvB) error { return nil })
	UponInit(m, func() error { return nil })
	UponMessageReceived(m, func(stdtypes.NodeID, *tMsg) error { return nil })
	_, err := m.ApplyEvents(stdtypes.ListOf(&tEvB{}, &tEvA{}, stdevents.NewInit("m"),
		stdevents.NewMessageReceived("m", "1", &tMsg{})))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.events.keys) != 3 || len(m.messages.keys) != 1 {
		t.Errorf("the slow path learned keys: %d event keys, %d message keys", len(m.events.keys), len(m.messages.keys))
	}
}

type tMsg struct{ stdtypes.MessageBase }
