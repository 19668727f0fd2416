package modules

import (
	"testing"

	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

type unknownTestMsg struct{ stdtypes.MessageBase }

func TestRouterDropsReceivedMessagesForUnknownSubmodules(t *testing.T) {
	r := NewRouter("iss", NullPassive{})
	msg := stdevents.NewMessageReceived("iss/nosuch", "peer", &unknownTestMsg{})
	out, err := r.ApplyEvents(stdtypes.ListOf(msg))
	if err != nil || out.Len() != 0 {
		t.Fatalf("a message for an unknown submodule: output %v, error %v; want it dropped", out, err)
	}
	if r.DroppedMessages() != 1 {
		t.Errorf("DroppedMessages = %d, want 1", r.DroppedMessages())
	}
	if _, err := r.ApplyEvents(stdtypes.ListOf(stdevents.NewInit("iss/nosuch"))); err == nil {
		t.Error("a local event for an unknown submodule was accepted")
	}
}
