// Package timerqueue holds the queue of pending timer emissions that the
// real timer (stdmodules.Timer) and its simulated twin (testsim.Timer)
// share, so that the two agree by construction on what a timer request
// means: the order of emissions, when a repeating timer runs again, and
// which repeating timers a garbage collection stops.
//
// Time is a time.Duration since an epoch the owner chooses: the real timer
// measures it on the monotonic clock from its creation, the simulated one
// is handed the simulation's time. The queue never reads a clock.
//
// A Queue is not safe for concurrent use; its owner guards it.
package timerqueue

import (
	"math"
	"time"

	"github.com/mirframework/mir/stdtypes"
)

// Entry is one pending emission.
type Entry struct {
	// Events are emitted when the entry is due. They are the requesting
	// event's own values, reused on every emission of a repeating timer:
	// events are immutable once emitted, so sharing them is safe. Each
	// emission must get a list of its own, though, since the node owns
	// the lists.
	Events []stdtypes.Event

	deadline time.Duration
	// seq is the request's arrival number; it orders equal deadlines.
	seq uint64
	// period is 0 for a one-shot delay.
	period time.Duration
	// retIdx is a repeating timer's retention index.
	retIdx stdtypes.RetentionIndex
}

// Queue holds pending emissions, earliest deadline first and, among equal
// deadlines, in the order of the requests. Its zero value is an empty
// queue.
type Queue struct {
	// heap is a binary min-heap by (deadline, seq). It is written out
	// rather than built on container/heap: a simulation runs millions of
	// timer emissions, and the interface calls would cost more than the
	// rest of the queue.
	heap []*Entry
	// nextSeq numbers requests in arrival order.
	nextSeq uint64
	// gcIndex is the highest retention index collected so far: no
	// repeating timer with a lower index runs.
	gcIndex stdtypes.RetentionIndex
}

// Len returns the number of pending entries.
func (q *Queue) Len() int { return len(q.heap) }

// GCIndex returns the highest retention index collected so far.
func (q *Queue) GCIndex() stdtypes.RetentionIndex { return q.gcIndex }

// Next returns the deadline of the earliest entry, if there is one.
func (q *Queue) Next() (deadline time.Duration, ok bool) {
	if len(q.heap) == 0 {
		return 0, false
	}
	return q.heap[0].deadline, true
}

// Delay queues events for one emission delay (not negative) after now. No
// events, nothing queued: nothing would ever be emitted.
func (q *Queue) Delay(now, delay time.Duration, events []stdtypes.Event) {
	q.add(&Entry{Events: events, deadline: after(now, delay)})
}

// Repeat queues events for emission every period (which must be
// positive) from now on, the first one period after now, until a
// GarbageCollect above retIdx. It reports false, and queues nothing, if
// retIdx is below an index collected already: the request comes late,
// from an epoch that is over.
func (q *Queue) Repeat(now, period time.Duration, retIdx stdtypes.RetentionIndex, events []stdtypes.Event) bool {
	if retIdx < q.gcIndex {
		return false
	}
	q.add(&Entry{Events: events, deadline: after(now, period), period: period, retIdx: retIdx})
	return true
}

// never is the deadline of what never falls due: the end of time.
const never = time.Duration(math.MaxInt64)

// after returns t+d for a d that is not negative, or never if that is past
// the end of time: a timeout of "forever" must not wrap around into the
// past and fire at once.
func after(t, d time.Duration) time.Duration {
	if d > never-t {
		return never
	}
	return t + d
}

func (q *Queue) add(e *Entry) {
	if len(e.Events) == 0 {
		return
	}
	e.seq = q.nextSeq
	q.nextSeq++
	q.push(e)
}

// GarbageCollect stops the repeating timers with an index below retIdx,
// including those taken out by TakeDue and not yet handed back. One-shot
// entries are tied to no index and stay. An index not above the highest
// collected so far changes nothing.
func (q *Queue) GarbageCollect(retIdx stdtypes.RetentionIndex) {
	if retIdx <= q.gcIndex {
		return
	}
	q.gcIndex = retIdx
	kept := q.heap[:0]
	for _, e := range q.heap {
		if q.live(e) {
			kept = append(kept, e)
		}
	}
	clear(q.heap[len(kept):])
	q.heap = kept
	for i := len(q.heap)/2 - 1; i >= 0; i-- {
		q.down(i)
	}
}

// live reports whether e survives the garbage collections so far.
func (q *Queue) live(e *Entry) bool { return e.period == 0 || e.retIdx >= q.gcIndex }

// TakeDue removes the entries due at now (deadline not after now) and
// appends them to dst, in order. The caller emits their events and then
// hands them to Reschedule, or, if it could not emit them, to PutBack.
func (q *Queue) TakeDue(now time.Duration, dst []*Entry) []*Entry {
	for len(q.heap) > 0 && q.heap[0].deadline <= now {
		dst = append(dst, q.pop())
	}
	return dst
}

// Reschedule puts the repeating entries of due, which were emitted at now,
// back in the queue one period after their deadline, unless a garbage
// collection stopped them meanwhile. Periods missed while the emission
// waited (for a node that did not read) are skipped, not made up: an entry
// whose next deadline has passed already runs next one period after now.
func (q *Queue) Reschedule(due []*Entry, now time.Duration) {
	for _, e := range due {
		if e.period == 0 || !q.live(e) {
			continue
		}
		e.deadline = after(e.deadline, e.period)
		if e.deadline <= now {
			e.deadline = after(now, e.period)
		}
		q.push(e)
	}
}

// PutBack returns entries that TakeDue took but that were not emitted to
// the queue, with their deadlines and places in the order, except the
// repeating ones a garbage collection stopped meanwhile.
func (q *Queue) PutBack(due []*Entry) {
	for _, e := range due {
		if q.live(e) {
			q.push(e)
		}
	}
}

func (q *Queue) less(i, j int) bool {
	a, b := q.heap[i], q.heap[j]
	if a.deadline != b.deadline {
		return a.deadline < b.deadline
	}
	return a.seq < b.seq
}

func (q *Queue) push(e *Entry) {
	q.heap = append(q.heap, e)
	q.up(len(q.heap) - 1)
}

func (q *Queue) pop() *Entry {
	h := q.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = nil
	q.heap = h[:last]
	q.down(0)
	return top
}

func (q *Queue) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			return
		}
		q.heap[i], q.heap[p] = q.heap[p], q.heap[i]
		i = p
	}
}

func (q *Queue) down(i int) {
	n := len(q.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && q.less(r, l) {
			m = r
		}
		if !q.less(m, i) {
			return
		}
		q.heap[i], q.heap[m] = q.heap[m], q.heap[i]
		i = m
	}
}
