package testsim

import (
	"fmt"
	"time"

	"github.com/mirframework/mir/internal/timerqueue"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Timer is the simulated twin of stdmodules.Timer: it handles
// stdevents.TimerDelay, stdevents.TimerRepeat and
// stdevents.TimerGarbageCollect with the same semantics, in simulated
// time.
//
//   - A TimerDelay emits its events once, Delay after the request.
//   - A TimerRepeat emits its events every Period, the first time one
//     period after the request, until a TimerGarbageCollect with a higher
//     retention index; a TimerRepeat below the highest index collected so
//     far is ignored.
//   - Events due at the same time are emitted as one list, ordered by
//     deadline, then by the order of the requests.
//   - A batch holding an invalid request (a negative delay, a period that
//     is not positive, a nil event or an event with an invalid
//     destination, an event that is no timer request) is an error, and
//     nothing of it is scheduled.
//   - A message from another node (stdevents.MessageReceived) is dropped
//     and counted (DroppedMessages), not an error: a peer chose its
//     destination. A node never hands the timer one.
//
// Both timers keep their requests in the same queue (internal/timerqueue),
// so they agree on order, repeats and garbage collection by construction.
// Simulated time never waits for a slow node, so unlike the real timer it
// never skips periods. Its pending requests die with its node: Init, the
// first event of every incarnation, clears them, so even a Timer the
// constructor hands out again after a restart starts empty.
type Timer struct {
	timerState
	// stray counts the messages from other nodes that reached the timer.
	// Like a node's counters, it survives Init.
	stray modules.StrayMessages
}

// timerState is what Init clears.
type timerState struct {
	queue timerqueue.Queue
	// wakeAt is the time of the wake-up that is armed, if armed.
	wakeAt time.Duration
	armed  bool
	// taken and due hold the entries and events of one emission, reused.
	taken []*timerqueue.Entry
	due   []stdtypes.Event
}

// NewTimer returns a simulated timer.
func NewTimer() *Timer { return &Timer{} }

// DroppedMessages returns how many messages from other nodes the timer got
// and dropped.
func (t *Timer) DroppedMessages() uint64 { return t.stray.Count() }

var _ Module = (*Timer)(nil)

// ApplyEvents schedules the timer requests in events. It checks the whole
// batch before acting on any of it.
func (t *Timer) ApplyEvents(env *Env, events *stdtypes.EventList) error {
	for _, ev := range events.Slice() {
		if t.stray.Drop(ev) {
			continue // the switch below ignores it
		}
		if err := stdevents.ValidateTimerRequest(ev); err != nil {
			return fmt.Errorf("timer %q: %w", env.Module(), err)
		}
	}
	for _, ev := range events.Slice() {
		switch ev := ev.(type) {
		case *stdevents.Init:
			t.timerState = timerState{taken: t.taken[:0], due: t.due[:0]}
		case *stdevents.TimerDelay:
			t.queue.Delay(env.Now(), ev.Delay, ev.Events)
		case *stdevents.TimerRepeat:
			t.queue.Repeat(env.Now(), ev.Period, ev.RetentionIndex, ev.Events)
		case *stdevents.TimerGarbageCollect:
			t.queue.GarbageCollect(ev.RetentionIndex)
		}
	}
	t.arm(env)
	return nil
}

// arm makes sure a wake-up is scheduled for the earliest deadline.
func (t *Timer) arm(env *Env) {
	next, ok := t.queue.Next()
	if !ok || t.armed && t.wakeAt <= next {
		return
	}
	t.armed, t.wakeAt = true, next
	env.After(next-env.Now(), func() { t.wake(env, next) })
}

// wake emits every event due now, as one list, and re-arms. A wake-up
// superseded by an earlier one still runs; it finds nothing due, or what
// became due meanwhile, which is just as right.
func (t *Timer) wake(env *Env, at time.Duration) {
	if t.armed && t.wakeAt == at {
		t.armed = false
	}
	now := env.Now()
	t.taken = t.queue.TakeDue(now, t.taken[:0])
	for _, e := range t.taken {
		t.due = append(t.due, e.Events...)
	}
	// A wake-up comes exactly at the earliest deadline, so the emission
	// is never late and the queue never skips a period here.
	t.queue.Reschedule(t.taken, now)
	clear(t.taken)
	if len(t.due) > 0 {
		env.Emit(0, t.due...) // routed at once: the slice is not kept
		clear(t.due)
		t.due = t.due[:0]
	}
	t.arm(env)
}
