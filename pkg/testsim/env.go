package testsim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/mirframework/mir/internal/engine"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/stdtypes"
)

// Module is a simulated twin of an active module: what a node runs in a
// simulation instead of a transport, a timer, a client or a crypto worker
// pool. Where the active module would start goroutines and emit events on
// a channel when the world does something, a twin asks its Env to emit
// them at a simulated time.
//
// ApplyEvents gets the batches of events addressed to the module, like an
// active module's ApplyEvents, on the simulation's goroutine. It must not
// start goroutines, block, read the clock or use randomness other than
// env.Rand(): that is what makes a run a function of its seed. The list is
// the simulation's and is reused after the call: keep events, not the
// list. An error stops the run, like a module error stops a node.
//
// A twin is built by the node's constructor, so a restarted node gets a
// new one unless the constructor returns the old one (a network card that
// survives its node, such as pkg/net/sim's transport).
type Module interface {
	ApplyEvents(env *Env, events *stdtypes.EventList) error
}

// Env is what a twin gets from the simulation: the simulated clock, a
// seeded source of randomness, and the ways to emit events into its node
// later. Each module of each incarnation of a node has its own Env; once
// the node has crashed, what an Env of the old incarnation schedules is
// dropped.
type Env struct {
	node   *Node
	mod    *engine.Module
	inc    uint64
	logger *logging.Logger
}

// Now returns the simulated time since the start of the simulation.
func (e *Env) Now() time.Duration { return e.node.sim.now }

// Node returns the ID of the twin's node.
func (e *Env) Node() stdtypes.NodeID { return e.node.id }

// Module returns the twin's module ID.
func (e *Env) Module() stdtypes.ModuleID { return e.mod.ID }

// Rand returns the node's source of randomness, seeded from the
// simulation's seed and the node's ID.
func (e *Env) Rand() *rand.Rand { return e.node.rand }

// Logger returns the simulation's logger, with the node's ID attached.
func (e *Env) Logger() *logging.Logger { return e.logger }

// Sim returns the simulation.
func (e *Env) Sim() *Sim { return e.node.sim }

// Alive reports whether the incarnation this Env belongs to is still
// running.
func (e *Env) Alive() bool { return e.node.up && e.node.inc == e.inc }

// Emit makes evs enter the node after the given simulated delay, as if the
// module had emitted them then: they are routed to the modules their
// destinations name, and, as in a real node, one for a module the node
// does not have is dropped and counted in the module's DroppedUnknown
// counter (its destination may come from a peer), and a message from
// another node for a module that takes none in that module's
// DroppedMessages. With no delay they are
// routed at once. If the node crashes first, they are dropped. evs is kept
// as it is: the caller must not modify it afterwards. Emit panics on a
// negative delay, a bug of the twin.
func (e *Env) Emit(after time.Duration, evs ...stdtypes.Event) {
	if len(evs) == 0 || !e.Alive() {
		return
	}
	if after < 0 {
		panic(fmt.Sprintf("testsim: module %q of node %s emits with negative delay %v", e.mod.ID, e.node.id, after))
	}
	s := e.node.sim
	if after == 0 {
		s.routeEmitted(e.node, e.mod, evs)
		return
	}
	a, idx := s.q.newAction()
	a.kind = kindEmit
	a.node = e.node
	a.inc = e.inc
	a.mod = e.mod
	if len(evs) == 1 {
		a.ev = evs[0]
	} else {
		a.evs = evs
	}
	s.scheduleAt(s.now+after, idx)
}

// After calls f after the given simulated delay, unless the node crashes
// first. Twins with timing of their own (a timer's queue) use it to wake
// up. It panics on a negative delay.
func (e *Env) After(d time.Duration, f func()) {
	if !e.Alive() {
		return
	}
	if d < 0 {
		panic(fmt.Sprintf("testsim: module %q of node %s: After with negative delay %v", e.mod.ID, e.node.id, d))
	}
	s := e.node.sim
	a, idx := s.q.newAction()
	a.kind = kindCall
	a.node = e.node
	a.inc = e.inc
	a.fn = f
	s.scheduleAt(s.now+d, idx)
}

// Hold keeps the batch the twin is applying, as a real active module
// keeps its batch while its ApplyEvents runs: the follow-ups of its events
// are released, and the twin gets its next batch, only when the returned
// function is called, and the twin's events queue up meanwhile. A twin
// whose work takes simulated time (a disk's sync) calls Hold in
// ApplyEvents, and release from a function it schedules with After:
// release(nil) releases the batch; release(err) with an error fails the
// run, as an error of ApplyEvents would. If the node crashes first,
// release does nothing: the follow-ups are lost with the node. Hold must
// be called during ApplyEvents (once is enough), and release once; a
// release of a batch already released panics, a bug of the twin.
func (e *Env) Hold() (release func(err error)) {
	n := e.node
	if !e.Alive() || !n.busy {
		panic(fmt.Sprintf("testsim: module %q of node %s: Hold outside ApplyEvents", e.mod.ID, n.id))
	}
	n.twins[e.mod.Index].holding = true
	return func(err error) {
		if e.Alive() {
			n.releaseHeld(e.mod, err)
		}
	}
}
