package stdevents_test

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Every standard event is an Event, used by pointer.
var (
	_ stdtypes.Event = (*stdevents.Init)(nil)
	_ stdtypes.Event = (*stdevents.SendMessage)(nil)
	_ stdtypes.Event = (*stdevents.MessageReceived)(nil)
	_ stdtypes.Event = (*stdevents.TimerDelay)(nil)
	_ stdtypes.Event = (*stdevents.TimerRepeat)(nil)
	_ stdtypes.Event = (*stdevents.TimerGarbageCollect)(nil)
	_ stdtypes.Event = (*stdevents.NewSubmodule)(nil)
	_ stdtypes.Event = (*stdevents.GarbageCollect)(nil)
)

type ping struct {
	stdtypes.MessageBase
	Seq uint64
}

type params struct {
	N int
}

// checkEvent checks the destination, the absence of follow-ups and the
// logged type name of a freshly constructed event, and that it equals want.
func checkEvent(t *testing.T, got stdtypes.Event, dest stdtypes.ModuleID, name string, want stdtypes.Event) {
	t.Helper()
	if got.Dest() != dest {
		t.Errorf("%s: Dest() = %q, want %q", name, got.Dest(), dest)
	}
	if got.FollowUps() != nil {
		t.Errorf("%s: new event has follow-ups %v", name, got.FollowUps())
	}
	if n := stdtypes.TypeName(got); n != name {
		t.Errorf("TypeName = %q, want %q", n, name)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: constructed %+v, want %+v", name, got, want)
	}
}

func TestNewInit(t *testing.T) {
	checkEvent(t, stdevents.NewInit("iss/pbft"), "iss/pbft", "stdevents.Init",
		&stdevents.Init{Header: stdtypes.Header{DestModule: "iss/pbft"}})
}

func TestNewSendMessage(t *testing.T) {
	msg := &ping{Seq: 7}
	ev := stdevents.NewSendMessage("net", msg, stdevents.To("pingpong", "1", "2", "3"))
	checkEvent(t, ev, "net", "stdevents.SendMessage", &stdevents.SendMessage{
		Header:       stdtypes.Header{DestModule: "net"},
		MsgDest:      "pingpong",
		Destinations: []stdtypes.NodeID{"1", "2", "3"},
		Msg:          msg,
	})
	if ev.Msg != stdtypes.Message(msg) {
		t.Error("SendMessage holds a copy of the message, not the message")
	}

	none := stdevents.NewSendMessage("net", msg, stdevents.To("pingpong"))
	if len(none.Destinations) != 0 {
		t.Errorf("no destinations given, event has %v", none.Destinations)
	}

	nodes := []stdtypes.NodeID{"a", "b"}
	fromSlice := stdevents.NewSendMessage("net", msg, stdevents.To("pingpong", nodes...))
	if !slices.Equal(fromSlice.Destinations, nodes) {
		t.Errorf("Destinations = %v, want %v", fromSlice.Destinations, nodes)
	}
	// To copies the nodes when it is called: the caller may change its
	// slice afterwards, and events made from one Recipients all hold the
	// nodes as they were then.
	to := stdevents.To("pingpong", nodes...)
	first := stdevents.NewSendMessage("net", msg, to)
	nodes[0] = "z"
	second := stdevents.NewSendMessage("net", msg, to)
	third := stdevents.NewSendMessage("net", msg, stdevents.To("pingpong", nodes...))
	if !slices.Equal(first.Destinations, []stdtypes.NodeID{"a", "b"}) || !slices.Equal(second.Destinations, []stdtypes.NodeID{"a", "b"}) ||
		!slices.Equal(third.Destinations, []stdtypes.NodeID{"z", "b"}) {
		t.Errorf("after the caller changed its slice: Destinations %v, %v and %v, want [a b], [a b] and [z b]",
			first.Destinations, second.Destinations, third.Destinations)
	}
}

func TestTo(t *testing.T) {
	got := stdevents.To("pingpong", "1", "2")
	want := stdevents.Recipients{Module: "pingpong", Nodes: []stdtypes.NodeID{"1", "2"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("To = %+v, want %+v", got, want)
	}
	if none := stdevents.To("pingpong"); none.Module != "pingpong" || len(none.Nodes) != 0 {
		t.Errorf("To without nodes = %+v", none)
	}
}

func TestNewMessageReceived(t *testing.T) {
	msg := &ping{Seq: 8}
	ev := stdevents.NewMessageReceived("pingpong", "4", msg)
	checkEvent(t, ev, "pingpong", "stdevents.MessageReceived", &stdevents.MessageReceived{
		Header: stdtypes.Header{DestModule: "pingpong"},
		From:   "4",
		Msg:    msg,
	})
}

func TestNewTimerDelay(t *testing.T) {
	a := stdevents.NewInit("a")
	b := stdevents.NewInit("b")
	ev := stdevents.NewTimerDelay("timer", 3*time.Second, a, b)
	checkEvent(t, ev, "timer", "stdevents.TimerDelay", &stdevents.TimerDelay{
		Header: stdtypes.Header{DestModule: "timer"},
		Events: []stdtypes.Event{a, b},
		Delay:  3 * time.Second,
	})
	if ev.Events[0] != stdtypes.Event(a) || ev.Events[1] != stdtypes.Event(b) {
		t.Error("TimerDelay holds copies of its events")
	}

	if empty := stdevents.NewTimerDelay("timer", 0); len(empty.Events) != 0 || empty.Delay != 0 {
		t.Errorf("NewTimerDelay(timer, 0) = %+v", empty)
	}
}

func TestNewTimerRepeat(t *testing.T) {
	a := stdevents.NewInit("a")
	ev := stdevents.NewTimerRepeat("timer", 250*time.Millisecond, 5, a)
	checkEvent(t, ev, "timer", "stdevents.TimerRepeat", &stdevents.TimerRepeat{
		Header:         stdtypes.Header{DestModule: "timer"},
		Events:         []stdtypes.Event{a},
		Period:         250 * time.Millisecond,
		RetentionIndex: 5,
	})
}

func TestNewTimerGarbageCollect(t *testing.T) {
	checkEvent(t, stdevents.NewTimerGarbageCollect("timer", 9), "timer", "stdevents.TimerGarbageCollect",
		&stdevents.TimerGarbageCollect{Header: stdtypes.Header{DestModule: "timer"}, RetentionIndex: 9})
}

func TestNewNewSubmodule(t *testing.T) {
	ev := stdevents.NewNewSubmodule("iss/pbft", 2, params{N: 4})
	checkEvent(t, ev, "iss", "stdevents.NewSubmodule", &stdevents.NewSubmodule{
		Header:         stdtypes.Header{DestModule: "iss"},
		SubmoduleID:    "iss/pbft",
		RetentionIndex: 2,
		Params:         params{N: 4},
	})
	if none := stdevents.NewNewSubmodule("iss/x", 0, nil); none.Params != nil {
		t.Errorf("nil params became %v", none.Params)
	}
	// The factory is the submodule's parent, at any depth; a top-level
	// ID has none, and the event no destination a node could route.
	if ev := stdevents.NewNewSubmodule("iss/ord/5", 0, nil); ev.Dest() != "iss/ord" {
		t.Errorf("NewNewSubmodule(iss/ord/5) is for %q, want iss/ord", ev.Dest())
	}
	if ev := stdevents.NewNewSubmodule("iss", 0, nil); ev.Dest().Validate() == nil {
		t.Errorf("NewNewSubmodule(iss) is for %q, a valid module ID", ev.Dest())
	}
}

func TestNewGarbageCollect(t *testing.T) {
	checkEvent(t, stdevents.NewGarbageCollect("iss", 11), "iss", "stdevents.GarbageCollect",
		&stdevents.GarbageCollect{Header: stdtypes.Header{DestModule: "iss"}, RetentionIndex: 11})
}

// TestStandardEventsTakeFollowUps checks that the shared Header methods work
// on a standard event.
func TestStandardEventsTakeFollowUps(t *testing.T) {
	send := stdevents.NewSendMessage("net", &ping{}, stdevents.To("pingpong", "1"))
	ev := stdtypes.WithFollowUps(stdevents.NewInit("wal"), send)
	if got := ev.FollowUps(); len(got) != 1 || got[0] != stdtypes.Event(send) {
		t.Errorf("FollowUps() = %v, want [send]", got)
	}
}
