package stdmodules

import (
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// TestTimerDropsMessages: a message from another node that reaches the
// timer (a node never hands it one) is dropped and counted, and the rest
// of its batch is served.
func TestTimerDropsMessages(t *testing.T) {
	tm, ctx := newTestTimer(t)
	apply(t, tm, ctx,
		stdevents.NewMessageReceived(timerID, "peer", nil),
		stdevents.NewTimerDelay(timerID, 0, newNote("proto", "served")),
	)
	if got := join(render(receive(t, tm).Slice()...)); got != "[served]" {
		t.Errorf("emitted %s, want [served]", got)
	}
	if got := tm.DroppedMessages(); got != 1 {
		t.Errorf("DroppedMessages = %d, want 1", got)
	}
}

// TestFactoryDropsMessages: the factory hands a message from another node
// only to a submodule that takes messages; one for the factory itself or
// for a submodule that takes none is dropped and counted, not an error.
func TestFactoryDropsMessages(t *testing.T) {
	f := NewFactory("f", func(id stdtypes.ModuleID, params any) (modules.PassiveModule, error) {
		if params == "null" {
			return modules.NullPassive{}, nil
		}
		return testGenerator(id, params)
	}, nil)
	rcv := func(dest stdtypes.ModuleID) stdtypes.Event { return stdevents.NewMessageReceived(dest, "peer", nil) }
	out, err := f.ApplyEvents(stdtypes.ListOf(
		newSub("f", "f/echo", 0, "echo"),
		newSub("f", "f/null", 0, "null"),
		rcv("f"),
		rcv("f/null"),
		rcv("f/null/deep"),
		rcv("f/gone"),
		rcv("f/echo"),
	))
	if err != nil {
		t.Fatalf("ApplyEvents: %v", err)
	}
	want := "[f/echo<-stdevents.Init, f/echo<-stdevents.MessageReceived]"
	if got := join(render(out.Slice()...)); got != want {
		t.Errorf("output %s, want %s", got, want)
	}
	if got := f.Dropped(); got != 4 {
		t.Errorf("Dropped = %d, want 4", got)
	}
}

// TestTimerDropsMessagesNotBugs: dropping messages does not hide a bad
// request of a local module, which is still an error.
func TestTimerDropsMessagesNotBugs(t *testing.T) {
	tm, ctx := newTestTimer(t)
	err := tm.ApplyEvents(ctx, stdtypes.ListOf(
		stdevents.NewMessageReceived(timerID, "peer", nil),
		stdevents.NewTimerDelay(timerID, -time.Second, newNote("proto", "x")),
	))
	if err == nil {
		t.Fatal("a negative delay was accepted")
	}
}
