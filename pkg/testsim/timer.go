package testsim

import (
	"fmt"
	"time"

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
	queue   timerQueue
	nextSeq uint64
	gcIndex stdtypes.RetentionIndex
	// wakeAt is the time of the wake-up that is armed, if armed.
	wakeAt time.Duration
	armed  bool
	// due collects the events of one emission, reused.
	due []stdtypes.Event
}

// NewTimer returns a simulated timer.
func NewTimer() *Timer { return &Timer{} }

// DroppedMessages returns how many messages from other nodes the timer got
// and dropped.
func (t *Timer) DroppedMessages() uint64 { return t.stray.Count() }

var _ Module = (*Timer)(nil)

// timerEntry is one pending emission.
type timerEntry struct {
	deadline time.Duration
	seq      uint64
	events   []stdtypes.Event
	// period is 0 for a one-shot TimerDelay.
	period time.Duration
	retIdx stdtypes.RetentionIndex
}

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
			t.timerState = timerState{due: t.due[:0]}
		case *stdevents.TimerDelay:
			t.schedule(env.Now()+ev.Delay, ev.Events, 0, 0)
		case *stdevents.TimerRepeat:
			if ev.RetentionIndex >= t.gcIndex {
				t.schedule(env.Now()+ev.Period, ev.Events, ev.Period, ev.RetentionIndex)
			}
		case *stdevents.TimerGarbageCollect:
			t.garbageCollect(ev.RetentionIndex)
		}
	}
	t.arm(env)
	return nil
}

func (t *Timer) schedule(deadline time.Duration, events []stdtypes.Event, period time.Duration, retIdx stdtypes.RetentionIndex) {
	if len(events) == 0 {
		return // nothing would ever be emitted
	}
	t.queue.push(&timerEntry{deadline: deadline, seq: t.nextSeq, events: events, period: period, retIdx: retIdx})
	t.nextSeq++
}

// garbageCollect stops the repeating timers with an index below retIdx.
func (t *Timer) garbageCollect(retIdx stdtypes.RetentionIndex) {
	if retIdx <= t.gcIndex {
		return
	}
	t.gcIndex = retIdx
	kept := t.queue[:0]
	for _, e := range t.queue {
		if e.period == 0 || e.retIdx >= retIdx {
			kept = append(kept, e)
		}
	}
	clear(t.queue[len(kept):])
	t.queue = kept
	t.queue.init()
}

// arm makes sure a wake-up is scheduled for the earliest deadline.
func (t *Timer) arm(env *Env) {
	if len(t.queue) == 0 {
		return
	}
	next := t.queue[0].deadline
	if t.armed && t.wakeAt <= next {
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
	for len(t.queue) > 0 && t.queue[0].deadline <= now {
		e := t.queue.pop()
		t.due = append(t.due, e.events...)
		if e.period > 0 && e.retIdx >= t.gcIndex {
			e.deadline += e.period
			t.queue.push(e)
		}
	}
	if len(t.due) > 0 {
		env.Emit(0, t.due...) // routed at once: the slice is not kept
		clear(t.due)
		t.due = t.due[:0]
	}
	t.arm(env)
}

// timerQueue is a min-heap of entries by deadline, then request order.
type timerQueue []*timerEntry

func (q timerQueue) less(i, j int) bool {
	if q[i].deadline != q[j].deadline {
		return q[i].deadline < q[j].deadline
	}
	return q[i].seq < q[j].seq
}

func (q *timerQueue) push(e *timerEntry) {
	*q = append(*q, e)
	q.up(len(*q) - 1)
}

func (q *timerQueue) pop() *timerEntry {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = nil
	*q = h[:last]
	q.down(0)
	return top
}

func (q timerQueue) init() {
	for i := len(q)/2 - 1; i >= 0; i-- {
		q.down(i)
	}
}

func (q timerQueue) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			return
		}
		q[i], q[p] = q[p], q[i]
		i = p
	}
}

func (q timerQueue) down(i int) {
	for {
		l := 2*i + 1
		if l >= len(q) {
			return
		}
		m := l
		if r := l + 1; r < len(q) && q.less(r, l) {
			m = r
		}
		if !q.less(m, i) {
			return
		}
		q[i], q[m] = q[m], q[i]
		i = m
	}
}
