package stdtypes_test

import (
	"reflect"
	"slices"
	"sync"
	"testing"

	"github.com/mirframework/mir/stdtypes"
)

// myEvent is an event defined outside package stdtypes, as every event is.
type myEvent struct {
	stdtypes.Header
	Text string
}

// myMessage is a message defined outside package stdtypes.
type myMessage struct {
	stdtypes.MessageBase
	Seq uint64
}

// namedEvent chooses its own name for logs.
type namedEvent struct {
	stdtypes.Header
}

func (*namedEvent) TypeName() string { return "custom" }

// Embedding Header makes a type an Event, embedding MessageBase makes it a
// Message; both are used by pointer.
var (
	_ stdtypes.Event   = (*myEvent)(nil)
	_ stdtypes.Event   = (*namedEvent)(nil)
	_ stdtypes.Message = (*myMessage)(nil)
	_ stdtypes.Named   = (*namedEvent)(nil)
)

func TestHeader(t *testing.T) {
	ev := &myEvent{Header: stdtypes.NewHeader("iss/pbft"), Text: "hi"}
	var e stdtypes.Event = ev
	if got := e.Dest(); got != "iss/pbft" {
		t.Errorf("Dest() = %q, want %q", got, "iss/pbft")
	}
	if got := e.FollowUps(); got != nil {
		t.Errorf("FollowUps() of a new event = %v, want nil", got)
	}
	if ev.DestModule != "iss/pbft" {
		t.Errorf("NewHeader set DestModule to %q", ev.DestModule)
	}

	// Dest reads the field, so a changed field (before emitting) is seen.
	ev.DestModule = "other"
	if got := e.Dest(); got != "other" {
		t.Errorf("Dest() after changing DestModule = %q", got)
	}
}

func TestWithFollowUps(t *testing.T) {
	a := &myEvent{Header: stdtypes.NewHeader("wal"), Text: "a"}
	b := &myEvent{Header: stdtypes.NewHeader("net"), Text: "b"}
	c := &myEvent{Header: stdtypes.NewHeader("net"), Text: "c"}

	ev := &myEvent{Header: stdtypes.NewHeader("iss"), Text: "ev"}
	// The result has the event's own type: no type assertion needed.
	var got *myEvent = stdtypes.WithFollowUps(ev, a, b)
	if got != ev {
		t.Fatalf("WithFollowUps returned %p, want the event itself %p", got, ev)
	}
	checkFollowUps(t, ev, a, b)

	if stdtypes.WithFollowUps(ev) != ev {
		t.Fatal("WithFollowUps without follow-ups returned another event")
	}
	checkFollowUps(t, ev, a, b)

	stdtypes.WithFollowUps(ev, c)
	checkFollowUps(t, ev, a, b, c)

	// Follow-ups nest: a follow-up may have its own.
	d := &myEvent{Header: stdtypes.NewHeader("net"), Text: "d"}
	stdtypes.WithFollowUps(a, d)
	checkFollowUps(t, a, d)
	checkFollowUps(t, ev, a, b, c)

	// Through the interface, too.
	var e stdtypes.Event = &myEvent{Header: stdtypes.NewHeader("iss")}
	if stdtypes.WithFollowUps(e, a) != e {
		t.Error("WithFollowUps on an Event interface value returned another event")
	}
	checkFollowUps(t, e, a)
}

func TestWithFollowUpsCopiesArgument(t *testing.T) {
	a := &myEvent{Text: "a"}
	b := &myEvent{Text: "b"}
	next := []stdtypes.Event{a}
	ev := stdtypes.WithFollowUps(&myEvent{}, next...)
	next[0] = b
	checkFollowUps(t, ev, a)
}

func checkFollowUps(t *testing.T, ev stdtypes.Event, want ...stdtypes.Event) {
	t.Helper()
	if got := ev.FollowUps(); !slices.Equal(got, want) {
		t.Errorf("FollowUps() = %v, want %v", got, want)
	}
}

func TestTypeName(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"event pointer", &myEvent{}, "stdtypes_test.myEvent"},
		{"event value", myEvent{}, "stdtypes_test.myEvent"},
		{"nil event pointer", (*myEvent)(nil), "stdtypes_test.myEvent"},
		{"message pointer", &myMessage{}, "stdtypes_test.myMessage"},
		{"message value", myMessage{Seq: 3}, "stdtypes_test.myMessage"},
		{"Named", &namedEvent{}, "custom"},
		{"nil", nil, "<nil>"},
		{"stdtypes type", &stdtypes.Header{}, "stdtypes.Header"},
		{"builtin", 42, "int"},
		{"unnamed", []int{1}, "[]int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Twice: the second call is answered from the cache.
			for range 2 {
				if got := stdtypes.TypeName(tt.v); got != tt.want {
					t.Errorf("TypeName(%#v) = %q, want %q", tt.v, got, tt.want)
				}
			}
		})
	}
}

// TestTypeNameConcurrent lets the race detector look at the name cache.
func TestTypeNameConcurrent(t *testing.T) {
	values := []any{&myEvent{}, &myMessage{}, myEvent{}, &numbered{}, 1, "s"}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for _, v := range values {
				if stdtypes.TypeName(v) == "" {
					t.Errorf("TypeName(%T) is empty", v)
				}
			}
		})
	}
	wg.Wait()
}

func TestMessageBaseIsEmpty(t *testing.T) {
	base := reflect.TypeFor[stdtypes.MessageBase]()
	if base.NumField() != 0 || base.Size() != 0 {
		t.Errorf("MessageBase has %d fields and %d bytes, want none", base.NumField(), base.Size())
	}
	// A message compares by its own fields alone.
	a, b := myMessage{Seq: 1}, myMessage{Seq: 1}
	if a != b {
		t.Error("equal messages compare unequal")
	}
}
