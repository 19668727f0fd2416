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
// dies with it. Actions are recycled, since a run schedules millions of
// them.
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
}

// entry orders an action in the schedule: by time, then by a tie-breaker
// drawn from the seed, so that simultaneous actions run in an order that
// varies from seed to seed but not from run to run. It refers to its
// action by index and holds no pointer, so that moving entries around the
// heap costs the garbage collector nothing.
type entry struct {
	at  time.Duration
	tie uint64
	idx uint32
}

func (e entry) before(o entry) bool {
	if e.at != o.at {
		return e.at < o.at
	}
	return e.tie < o.tie
}

// actionChunk is the number of actions allocated at once. Actions live in
// chunks that never move, so a pointer to one stays valid while others
// are scheduled.
const actionChunk = 1024

// schedule is a binary min-heap of entries, and the actions they refer
// to. It is written for the one type it holds: container/heap would box
// every entry on Push.
type schedule struct {
	heap   []entry
	chunks [][]action
	// free holds the indices of unused actions.
	free []uint32
}

func (q *schedule) len() int { return len(q.heap) }

// action returns the action with index idx.
func (q *schedule) action(idx uint32) *action {
	return &q.chunks[idx/actionChunk][idx%actionChunk]
}

// newAction returns an unused action and its index. Its fields hold
// whatever its last use left in those recycle does not clear: the caller
// sets every field its kind reads (see Sim.do).
func (q *schedule) newAction() (*action, uint32) {
	if len(q.free) == 0 {
		base := uint32(len(q.chunks) * actionChunk)
		q.chunks = append(q.chunks, make([]action, actionChunk))
		for i := uint32(actionChunk); i > 0; i-- {
			q.free = append(q.free, base+i-1)
		}
	}
	idx := q.free[len(q.free)-1]
	q.free = q.free[:len(q.free)-1]
	return q.action(idx), idx
}

// recycle makes the action with index idx free, dropping what it refers
// to that the garbage collector should be able to reclaim. Fields already
// clear are left alone: while the collector marks, every pointer write
// costs, and a run recycles millions of actions.
func (q *schedule) recycle(idx uint32) {
	a := q.action(idx)
	if a.ev != nil {
		a.ev = nil
	}
	if a.evs != nil {
		a.evs = nil
	}
	if a.mod != nil {
		a.mod = nil
	}
	if a.fn != nil {
		a.fn = nil
	}
	if a.gate != nil {
		a.gate = nil
	}
	q.free = append(q.free, idx)
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
