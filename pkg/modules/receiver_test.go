package modules_test

import (
	"slices"
	"testing"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// inbox is a recorder that takes messages from other nodes.
type inbox struct{ *recorder }

func (inbox) ReceivesMessages() {}

func TestReceivesMessages(t *testing.T) {
	for _, c := range []struct {
		m    modules.Module
		want bool
	}{
		{inbox{newRecorder("x")}, true},
		{modules.NewRouter("r", nil), true},
		{modules.NewMockPassive(nil), true},
		{newRecorder("x"), false},
		{modules.NullPassive{}, false},
		{modules.NullActive{}, false},
		{modules.NewMockActive(1, nil), false},
		{nil, false},
	} {
		if got := modules.ReceivesMessages(c.m); got != c.want {
			t.Errorf("ReceivesMessages(%T) = %v, want %v", c.m, got, c.want)
		}
	}
}

// TestRouterDropsMessagesForModulesThatTakeNone: a router hands a message
// from another node only to a submodule (or self module) that takes
// messages; for any other it drops and counts the message, and hands the
// module the rest of the run, in order.
func TestRouterDropsMessagesForModulesThatTakeNone(t *testing.T) {
	self, plain, rx := newRecorder("self"), newRecorder("plain"), inbox{newRecorder("rx")}
	r := modules.NewRouter("r", self)
	mustAdd(t, r, "plain", plain)
	mustAdd(t, r, "rx", rx)
	rcv := func(dest stdtypes.ModuleID) stdtypes.Event { return stdevents.NewMessageReceived(dest, "peer", nil) }

	out, err := r.ApplyEvents(stdtypes.ListOf(
		newNote("r/plain", "p1"),
		rcv("r/plain/deep"),
		newNote("r/plain", "p2"),
		rcv("r/rx"),
		rcv("r"),
		newNote("r", "s1"),
		rcv("r/plain"),
	))
	if err != nil {
		t.Fatal(err)
	}
	checkOutput(t, out, "plain:p1", "plain:p2", "rx:stdevents.MessageReceived->r/rx", "self:s1")
	if got := r.DroppedMessages(); got != 3 {
		t.Errorf("DroppedMessages = %d, want 3", got)
	}
	// A run of nothing but messages for a module that takes none reaches
	// it not at all.
	if _, err := r.ApplyEvents(stdtypes.ListOf(rcv("r/plain"), rcv("r/plain"))); err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"p1", "p2"}}; !slices.EqualFunc(plain.received(), want, slices.Equal) {
		t.Errorf("plain got %v, want %v", plain.received(), want)
	}
	if got := r.DroppedMessages(); got != 5 {
		t.Errorf("DroppedMessages = %d, want 5", got)
	}
}

// TestStrayMessages: Drop tells messages from other events and counts them.
func TestStrayMessages(t *testing.T) {
	var s modules.StrayMessages
	if s.Drop(newNote("x", "a")) || s.Drop(stdevents.NewInit("x")) {
		t.Error("Drop took an event that is no message")
	}
	if !s.Drop(stdevents.NewMessageReceived("x", "peer", nil)) || s.Count() != 1 {
		t.Errorf("Drop of a message: count %d, want 1", s.Count())
	}
}
