package stdmodules

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/mirframework/mir/internal/timerqueue"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Timer is the active module that turns wall-clock time into events. A
// protocol never reads the clock: it asks the timer, with a
// stdevents.TimerDelay or a stdevents.TimerRepeat, to hand events back to it
// later, and stops repeating timers with a stdevents.TimerGarbageCollect.
//
// # How it works
//
// All requests go into one queue ordered by deadline, and one scheduler
// goroutine sleeps until the earliest deadline, emits every event that is
// due as one list on EventsOut, and sleeps again. One goroutine, rather than
// one per request or a time.AfterFunc per request, keeps the design simple
// where it matters: there is exactly one place that blocks on the node
// (backpressure), one place that watches the context, and nothing to stop
// or unregister per request, so thousands of pending timeouts cost a queue
// entry each and no goroutine. It also fixes the order of emissions: by
// deadline, then by the order of the requests.
//
// ApplyEvents never blocks: it puts requests in the queue and wakes the
// scheduler. The scheduler runs under the context of the ApplyEvents call
// that started it (the node passes the same one to every call) and ends
// when that context ends, so there is no Close. If the node does not read
// EventsOut, the scheduler waits to hand over its list and due timers pile
// up in the queue; a repeating timer that misses periods while it waits
// skips them rather than catching up. A delay too long for a deadline
// (math.MaxInt64 nanoseconds, some 292 years) never falls due.
//
// The simulated twin, testsim.Timer, keeps its requests in the same kind
// of queue, so the two agree on order, repeats and garbage collection by
// construction.
type Timer struct {
	id     stdtypes.ModuleID
	logger *logging.Logger
	// epoch is the time the timer was made: the queue's time is the
	// duration since, read on the monotonic clock, so that a change of the
	// wall clock moves no deadline.
	epoch time.Time

	// stray counts the messages from other nodes that reached the timer.
	stray modules.StrayMessages

	// out is unbuffered: an emission completes only when the node takes
	// it, which is the backpressure the node asks for.
	out chan *stdtypes.EventList
	// wake tells the scheduler that the queue changed. One pending signal
	// is enough, so its capacity is 1 and sending on it never blocks.
	wake chan struct{}

	mu sync.Mutex // guards everything below
	// queue holds the pending emissions, earliest deadline first.
	queue timerqueue.Queue
	// runDone is closed when the context of the current scheduler ends;
	// nil if no scheduler was ever started.
	runDone <-chan struct{}
	// runGen counts schedulers started, so that one ending late does not
	// mark its successor as gone.
	runGen  uint64
	running bool
}

// NewTimer returns a timer module with ID id. logger may be nil.
func NewTimer(id stdtypes.ModuleID, logger *logging.Logger) *Timer {
	return &Timer{
		id:     id,
		logger: logger,
		epoch:  time.Now(),
		out:    make(chan *stdtypes.EventList),
		wake:   make(chan struct{}, 1),
	}
}

var _ modules.ActiveModule = (*Timer)(nil)

// EventsOut returns the channel the timer emits due events on.
func (t *Timer) EventsOut() <-chan *stdtypes.EventList { return t.out }

// DroppedMessages returns how many messages from other nodes
// (stdevents.MessageReceived) the timer got and dropped. A node never
// hands it one: the timer is no modules.MessageReceiver.
func (t *Timer) DroppedMessages() uint64 { return t.stray.Count() }

// ApplyEvents schedules the timer requests in events and starts the
// scheduler under ctx if none runs. It checks the whole batch before acting
// on any of it, so a batch with an invalid request schedules nothing. A
// message from another node is dropped and counted (DroppedMessages), not
// an error: a peer chose its destination.
func (t *Timer) ApplyEvents(ctx context.Context, events *stdtypes.EventList) error {
	for _, ev := range events.Slice() {
		if t.stray.Drop(ev) {
			continue // apply ignores it
		}
		if err := stdevents.ValidateTimerRequest(ev); err != nil {
			return fmt.Errorf("timer %q: %w", t.id, err)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, ev := range events.Slice() {
		t.apply(ev)
	}
	t.ensureScheduler(ctx)
	t.signal()
	return nil
}

// apply acts on one validated event. t.mu is held.
func (t *Timer) apply(ev stdtypes.Event) {
	switch ev := ev.(type) {
	case *stdevents.Init:
		// Nothing to set up.
	case *stdevents.TimerDelay:
		t.queue.Delay(t.now(), ev.Delay, ev.Events)
	case *stdevents.TimerRepeat:
		if !t.queue.Repeat(t.now(), ev.Period, ev.RetentionIndex, ev.Events) {
			// Its timers were garbage-collected already: a late
			// request from an old epoch, harmless and ignored.
			t.logger.LogAttrs(logging.LevelDebug, "timer: ignoring repeat below the retention index",
				slog.String("timer", string(t.id)),
				slog.Uint64("retentionIndex", uint64(ev.RetentionIndex)),
				slog.Uint64("gcIndex", uint64(t.queue.GCIndex())))
		}
	case *stdevents.TimerGarbageCollect:
		t.queue.GarbageCollect(ev.RetentionIndex)
	}
}

// now returns the queue's time: the monotonic time since the timer was
// made.
func (t *Timer) now() time.Duration { return time.Since(t.epoch) }

// ensureScheduler starts a scheduler goroutine under ctx unless one runs
// under a context that has not ended. t.mu is held.
func (t *Timer) ensureScheduler(ctx context.Context) {
	if t.running && !isClosed(t.runDone) {
		return
	}
	t.runGen++
	t.running = true
	t.runDone = ctx.Done()
	go t.run(ctx, t.runGen)
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// signal wakes the scheduler without blocking. t.mu is held.
func (t *Timer) signal() {
	select {
	case t.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// run is the scheduler: it emits what is due, then sleeps until the next
// deadline or a change of the queue, until ctx ends.
func (t *Timer) run(ctx context.Context, gen uint64) {
	defer t.exit(gen)
	clock := time.NewTimer(time.Hour)
	clock.Stop()
	defer clock.Stop()
	var due []*timerqueue.Entry // reused from emission to emission
	for ctx.Err() == nil {
		now := t.now()
		var next time.Duration
		var pending bool
		due, next, pending = t.takeDue(now, due[:0])
		if len(due) > 0 {
			if !t.emit(ctx, due) {
				t.putBack(due)
				return
			}
			t.reschedule(due)
			clear(due)
			continue
		}
		if pending {
			clock.Reset(next - now)
		}
		select {
		case <-ctx.Done():
		case <-t.wake:
		case <-clock.C:
		}
		// Since Go 1.23, Stop and Reset leave no stale tick in clock.C.
		clock.Stop()
	}
}

// exit records that the scheduler of generation gen has ended.
func (t *Timer) exit(gen uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.runGen == gen {
		t.running = false
	}
}

// takeDue removes the entries due at now and appends them to dst, in
// order, and returns the deadline of the next one, if any.
func (t *Timer) takeDue(now time.Duration, dst []*timerqueue.Entry) (due []*timerqueue.Entry, next time.Duration, pending bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	due = t.queue.TakeDue(now, dst)
	next, pending = t.queue.Next()
	return due, next, pending
}

// emit hands the events of due to the node as one list, waiting while the
// node does not read. It reports false if ctx ended first.
func (t *Timer) emit(ctx context.Context, due []*timerqueue.Entry) bool {
	list := stdtypes.EmptyList()
	for _, e := range due {
		list.PushBackSlice(e.Events)
	}
	select {
	case t.out <- list:
		return true
	case <-ctx.Done():
		return false
	}
}

// reschedule puts the repeating timers of due, which were just emitted,
// back in the queue, one period later. Periods missed while the node was
// not reading are skipped, not made up.
func (t *Timer) reschedule(due []*timerqueue.Entry) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.queue.Reschedule(due, now)
}

// putBack returns entries that were due but not emitted, because ctx
// ended, to the queue: a scheduler started later emits them. That one may
// already be waiting, so it is woken.
func (t *Timer) putBack(due []*timerqueue.Entry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.queue.PutBack(due)
	t.signal()
}
