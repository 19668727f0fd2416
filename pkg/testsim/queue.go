package testsim

import (
	"time"

	"github.com/mirframework/mir/internal/engine"
	"github.com/mirframework/mir/stdtypes"
)

// actionKind says what an action does when its time comes.
type actionKind uint8

const (
	// kindStep hands the next batch of a node to its module.
	kindStep actionKind = iota + 1
	// kindEmit routes events a module of a node emitted earlier.
	kindEmit
	// kindPost routes an event that reaches a node from outside, such as
	// a message from another node, if the node is up then.
	kindPost
	// kindCall calls a function.
	kindCall
)

// action is one entry of the simulation's schedule. Actions bound to a
// node's incarnation (inc != 0) are skipped if the node has crashed or
// restarted since they were scheduled: what a crashed node had planned
// dies with it. Actions are recycled through a free list, since a run
// schedules millions of them.
type action struct {
	kind actionKind
	node *Node
	// inc is the incarnation the action belongs to, or 0 if it belongs
	// to the node whatever its incarnation (kindPost) or to no node.
	inc uint64
	// mod is the module that emitted evs (kindEmit).
	mod *engine.Module
	// via is the ID of the module a posted event enters through.
	via stdtypes.ModuleID
	// ev is the event of a kindPost, or the only event of a kindEmit.
	ev stdtypes.Event
	// evs are the events of a kindEmit of more than one event.
	evs  []stdtypes.Event
	fn   func()
	gate Gate
	// next links the free list.
	next *action
}

// entry orders an action in the schedule: by time, then by a tie-breaker
// drawn from the seed, so that simultaneous actions run in an order that
// varies from seed to seed but not from run to run.
type entry struct {
	at  time.Duration
	tie uint64
	a   *action
}

func (e entry) before(o entry) bool {
	if e.at != o.at {
		return e.at < o.at
	}
	return e.tie < o.tie
}

// schedule is a binary min-heap of entries. It is written for the one type
// it holds: container/heap would box every entry on Push.
type schedule struct {
	heap []entry
	free *action
}

func (q *schedule) len() int { return len(q.heap) }

// newAction returns a zeroed action, from the free list if it has one.
func (q *schedule) newAction() *action {
	if a := q.free; a != nil {
		q.free = a.next
		a.next = nil
		return a
	}
	return &action{}
}

// recycle clears a and puts it on the free list.
func (q *schedule) recycle(a *action) {
	*a = action{next: q.free}
	q.free = a
}

func (q *schedule) push(e entry) {
	q.heap = append(q.heap, e)
	h := q.heap
	i := len(h) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !h[i].before(h[parent]) {
			break
		}
		h[i], h[parent] = h[parent], h[i]
		i = parent
	}
}

// peek returns the earliest entry. The schedule must not be empty.
func (q *schedule) peek() entry { return q.heap[0] }

// pop removes and returns the earliest entry. The schedule must not be
// empty.
func (q *schedule) pop() entry {
	h := q.heap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h[last] = entry{}
	h = h[:last]
	q.heap = h
	i := 0
	for {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		m := l
		if r := l + 1; r < len(h) && h[r].before(h[l]) {
			m = r
		}
		if !h[m].before(h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	return top
}
