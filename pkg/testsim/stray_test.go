package testsim_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/logging"
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

// TestDroppedMessagesWarnOncePerModule: like a real node, a simulated one
// logs the first message it drops for a module that takes none as a
// warning naming the module and the marker it lacks, and only counts the
// rest. A restarted node is a new process, which warns anew.
func TestDroppedMessagesWarnOncePerModule(t *testing.T) {
	var log strings.Builder
	s := testsim.New(testsim.Options{Seed: 1, Logger: logging.NewStreamLogger(logging.LevelWarn, &log)})
	n := singleNode(t, s, func(int) modules.Modules {
		return modules.Modules{"a": modules.NullPassive{}, "timer": testsim.NewTimer()}
	})
	msg := stdevents.NewMessageReceived("a", "peer", nil)
	n.InjectAt(time.Millisecond, msg, msg, msg)
	n.InjectAt(2*time.Millisecond, msg)
	if err := s.Run(3 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(log.String(), "level=WARN"); got != 1 || n.DroppedMessages("a") != 4 ||
		!strings.Contains(log.String(), "module=a ") || !strings.Contains(log.String(), "node=0") ||
		!strings.Contains(log.String(), "does not implement modules.MessageReceiver") {
		t.Fatalf("%d dropped, logged %d warnings:\n%s\nwant 4 dropped, one warning naming node, module and marker",
			n.DroppedMessages("a"), got, log.String())
	}
	n.Crash()
	if err := n.Restart(); err != nil {
		t.Fatal(err)
	}
	n.InjectAt(4*time.Millisecond, msg, msg)
	if err := s.Run(5 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(log.String(), "level=WARN"); got != 2 || n.DroppedMessages("a") != 2 {
		t.Errorf("after a restart: %d dropped, %d warnings in all:\n%s\nwant 2 dropped and one warning more", n.DroppedMessages("a"), got, log.String())
	}
}
