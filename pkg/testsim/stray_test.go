package testsim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdevents"
)

// leakyTimer claims to take messages, so that the node hands the timer
// inside one: what a timer driven otherwise than by a node may get.
type leakyTimer struct{ *testsim.Timer }

func (leakyTimer) ReceivesMessages() {}

// TestTimerDropsMessages: a message from another node that reaches the
// simulated timer is dropped and counted, and the rest of its batch is
// served; one for the plain timer never reaches it, and the node counts it.
func TestTimerDropsMessages(t *testing.T) {
	s := testsim.New(testsim.Options{Seed: 1})
	w := watch(s)
	leaky := testsim.NewTimer()
	n := singleNode(t, s, func(int) modules.Modules {
		return modules.Modules{"a": modules.NullPassive{}, "leaky": leakyTimer{leaky}, "timer": testsim.NewTimer()}
	})
	n.InjectAt(time.Millisecond,
		stdevents.NewMessageReceived("leaky", "peer", nil),
		stdevents.NewTimerDelay("leaky", 0, newNote("a", "served")),
		stdevents.NewMessageReceived("timer", "peer", nil))
	if err := s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(w.notes); got != "[1ms 0 served]" {
		t.Errorf("emitted %s", got)
	}
	if leaky.DroppedMessages() != 1 || n.DroppedMessages("leaky") != 0 || n.DroppedMessages("timer") != 1 {
		t.Errorf("dropped: by the leaky timer %d, by the node for it %d and for the timer %d; want 1, 0, 1",
			leaky.DroppedMessages(), n.DroppedMessages("leaky"), n.DroppedMessages("timer"))
	}
}
