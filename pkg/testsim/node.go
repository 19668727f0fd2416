package testsim

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/mirframework/mir/internal/engine"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// NodeConfig describes a simulated node.
type NodeConfig struct {
	// Build returns the node's modules: passive modules, which run as
	// they would in a real node, and twins (Module) in place of active
	// modules, which cannot run in a simulation. It is called when the
	// node starts and again at every restart, with the incarnation: 1,
	// then 2, ... A restarted node thus starts from the state its
	// constructor gives it; state meant to survive a crash lives outside
	// the modules (a simulated disk the constructor closes over, such as
	// pkg/wal's SimDisk) and is brought back by a Recoverer module (the
	// write-ahead log's twin) or by Restore.
	Build func(incarnation int) (modules.Modules, error)

	// Restore, if set, is called at every start, after Build, with the
	// new modules; the events it returns enter the node right after the
	// Init events and what the modules that are modules.Recoverer
	// recovered, before anything else. A write-ahead log needs no hook:
	// its twin (pkg/wal) is a Recoverer, asked at every start as a real
	// node asks the real one. Restore is for state kept some other way.
	Restore func(incarnation int, mods modules.Modules) ([]stdtypes.Event, error)

	// Interceptor, if set, sees every batch the node dispatches, after
	// the simulation's properties and observers: the hook for an event
	// recorder. One that is an eventlog.TimedInterceptor (a Recorder) is
	// given the simulated time of each batch (see Timestamp), so that a
	// recording lines up with the failure reports. Its error ends the
	// run.
	Interceptor eventlog.Interceptor

	// BatchDelay, if set, replaces Options.BatchDelay for this node.
	BatchDelay Delay
}

// Node is a node of a simulation: an engine core with the node's modules,
// applied one batch at a time when the schedule says so. It can crash and
// restart.
type Node struct {
	sim    *Sim
	id     stdtypes.NodeID
	index  int
	cfg    NodeConfig
	rand   *rand.Rand
	logger *logging.Logger

	batchDelay Delay

	// inc is the incarnation: 1 from the first start, one more at each
	// restart. Actions scheduled for an incarnation die with it.
	inc uint64
	up  bool
	// core and twins belong to the current incarnation.
	core *engine.Core
	// twins holds the twin of each external module, by module index.
	twins []twinState
	// events counts the events dispatched since the node last started.
	events uint64
	// crashAtEvent, if not 0, is the event count at which the node
	// crashes.
	crashAtEvent uint64

	stepPending bool
	// busy is set while the node processes a batch: a crash requested
	// meanwhile waits for the batch to end (crashRequested).
	busy           bool
	crashRequested bool

	// via and viaMod cache the module posted events last came through
	// (see Post), for the current incarnation.
	via    stdtypes.ModuleID
	viaMod *engine.Module

	icp nodeInterceptor
	// inputIcp and timedIcp are cfg.Interceptor as the kinds of
	// interceptor it is, if it is.
	inputIcp eventlog.InputInterceptor
	timedIcp eventlog.TimedInterceptor
	// batch and list carry a twin's batch, reused.
	batch []stdtypes.Event
	list  stdtypes.EventList
}

// twinState is a twin of the current incarnation and its Env.
type twinState struct {
	mod Module
	env Env
	// holding is set while the twin applies a batch and has asked to hold
	// it (Env.Hold); held is the batch it holds, while heldActive, until
	// released.
	holding    bool
	heldActive bool
	held       []stdtypes.Event
}

// AddNode adds a node and starts it now: it builds its modules and gives
// every module an Init event.
func (s *Sim) AddNode(id stdtypes.NodeID, cfg NodeConfig) (*Node, error) {
	if id == "" {
		return nil, errors.New("testsim: empty node ID")
	}
	if _, ok := s.byID[id]; ok {
		return nil, fmt.Errorf("testsim: node %s added twice", id)
	}
	if cfg.Build == nil {
		return nil, fmt.Errorf("testsim: node %s: no Build function", id)
	}
	n := &Node{
		sim:        s,
		id:         id,
		index:      len(s.nodes),
		cfg:        cfg,
		rand:       s.NewRand("testsim/node/" + string(id)),
		logger:     s.opts.Logger.With("node", string(id)),
		batchDelay: cfg.BatchDelay,
	}
	if n.batchDelay == nil {
		n.batchDelay = s.opts.BatchDelay
	}
	n.icp.n = n
	n.inputIcp, _ = cfg.Interceptor.(eventlog.InputInterceptor)
	n.timedIcp, _ = cfg.Interceptor.(eventlog.TimedInterceptor)
	if err := n.start(); err != nil {
		return nil, err
	}
	s.nodes = append(s.nodes, n)
	s.byID[id] = n
	return n, nil
}

// ID returns the node's ID.
func (n *Node) ID() stdtypes.NodeID { return n.id }

// Up reports whether the node is running (started and not crashed).
func (n *Node) Up() bool { return n.up }

// Incarnation returns how many times the node has started: 1 until its
// first restart.
func (n *Node) Incarnation() int { return int(n.inc) }

// Events returns the number of events the node has dispatched since it
// last started.
func (n *Node) Events() uint64 { return n.events }

// Buffered returns the number of events waiting in the node's queues.
func (n *Node) Buffered() int {
	if !n.up {
		return 0
	}
	return n.core.Buffered()
}

// DroppedUnknown returns how many events module mod of the current
// incarnation emitted for modules the node does not have, which were
// dropped: messages from peers for modules that do not exist.
func (n *Node) DroppedUnknown(mod stdtypes.ModuleID) uint64 {
	return n.counter(mod, func(c *engine.Counters) uint64 { return c.DroppedUnknown.Load() })
}

// DroppedMessages returns how many messages from other nodes addressed to
// module mod of the current incarnation were dropped because the module
// takes none (it is no modules.MessageReceiver), as a real node counts
// them in mir.ModuleStats.DroppedMessages.
func (n *Node) DroppedMessages(mod stdtypes.ModuleID) uint64 {
	return n.counter(mod, func(c *engine.Counters) uint64 { return c.DroppedMessages.Load() })
}

// counter returns get of the counters of module mod of the current
// incarnation, or 0 if the node is down or has no such module.
func (n *Node) counter(mod stdtypes.ModuleID, get func(*engine.Counters) uint64) uint64 {
	if !n.up {
		return 0
	}
	m := n.core.Module(mod)
	if m == nil {
		return 0
	}
	return get(m.Counters)
}

func (n *Node) alive(inc uint64) bool { return n.up && n.inc == inc }

// Inject hands events to the node now, as if from outside (a client, the
// test), like mir.Node.InjectEvents. It returns ErrNodeDown if the node is
// not up, and an error if an event has no destination module.
func (n *Node) Inject(evs ...stdtypes.Event) error {
	if !n.up {
		return fmt.Errorf("testsim: node %s: %w", n.id, ErrNodeDown)
	}
	if err := n.core.Route(evs, nil, nil); err != nil {
		return fmt.Errorf("testsim: node %s: %w", n.id, err)
	}
	n.sim.schedStep(n)
	return nil
}

// InjectAt hands events to the node at simulated time t, if it is up
// then; if it is not, the run fails with ErrNodeDown.
func (n *Node) InjectAt(t time.Duration, evs ...stdtypes.Event) {
	n.sim.At(t, func() {
		if err := n.Inject(evs...); err != nil {
			n.sim.fail(n, "", err)
		}
	})
}

// Gate decides whether an event posted to a node (Node.Post) enters it
// when its time comes. A simulated network's gate checks that the link is
// not cut and counts what arrives.
type Gate interface {
	// Admit is called when a posted event's time comes, with up telling
	// whether the node is up then. An event for a node that is down is
	// dropped whatever Admit returns.
	Admit(to *Node, ev stdtypes.Event, up bool) bool
}

// Post makes ev enter the node at simulated time at (now, if at has
// passed) as if module via had emitted it, if the node is up then,
// whatever its incarnation, and gate (if not nil) admits it. This is how
// a message from another node arrives; unlike what a twin emits through
// its Env, it is not lost if the node restarts in between.
func (n *Node) Post(at time.Duration, via stdtypes.ModuleID, ev stdtypes.Event, gate Gate) {
	s := n.sim
	a, idx := s.q.newAction()
	a.kind = kindPost
	a.node = n
	a.via = via
	a.ev = ev
	a.gate = gate
	s.scheduleAt(max(at, s.now), idx)
}

// Crash crashes the node now: its modules and queued events are gone, and
// everything its incarnation had scheduled (timers, emissions) is dropped.
// Messages on their way to it are lost if they arrive while it is down. A
// crash requested while the node processes a batch (by an observer, a
// twin) takes effect when the batch ends. Crashing a node that is down
// does nothing.
func (n *Node) Crash() { n.sim.crash(n) }

// CrashAt crashes the node at simulated time t.
func (n *Node) CrashAt(t time.Duration) { n.sim.At(t, n.Crash) }

// CrashAtEvent makes the node crash when it is about to dispatch its k-th
// event since it last started: the batch holding that event is not
// dispatched, so the node has processed fewer than k events (k-1 with
// batches of one event). It holds for the current incarnation only; 0
// cancels it.
func (n *Node) CrashAtEvent(k uint64) { n.crashAtEvent = k }

// Restart starts a crashed node again: its constructor builds new modules,
// Restore runs, and every module gets an Init event. It returns an error
// if the node is up or cannot be built.
func (n *Node) Restart() error {
	if n.up {
		return fmt.Errorf("testsim: node %s: restart of a node that is up", n.id)
	}
	n.inc++
	return n.start()
}

// RestartAt restarts the node at simulated time t, and notes the fault
// healed then (Sim.NoteFault). If the node is up at t, nothing happens; if
// it cannot be built, the run fails.
func (n *Node) RestartAt(t time.Duration) {
	n.sim.NoteFault(t)
	n.sim.At(t, func() {
		if n.up {
			return
		}
		if err := n.Restart(); err != nil {
			n.sim.fail(n, "", err)
		}
	})
}

// start builds the modules of a new incarnation and gives them Init.
func (n *Node) start() error {
	if n.inc == 0 {
		n.inc = 1
	}
	mods, err := n.cfg.Build(int(n.inc))
	if err != nil {
		return fmt.Errorf("testsim: node %s: build incarnation %d: %w", n.id, n.inc, err)
	}
	specs, twins, err := n.specs(mods)
	if err != nil {
		return err
	}
	var icp eventlog.Interceptor = &n.icp
	if n.inputIcp != nil {
		// Only then does the core pay for telling inputs from outputs.
		icp = &inputNodeInterceptor{&n.icp}
	}
	n.core = engine.New(specs, n.sim.maxBatch, icp)
	n.core.SetBusyTiming(false) // simulated time is not the wall clock's
	n.core.SetLogger(n.logger)
	n.twins = twins
	for i, m := range n.core.Modules() {
		if n.twins[i].mod != nil {
			n.twins[i].env = Env{node: n, mod: m, inc: n.inc, logger: n.logger}
		}
	}
	n.events = 0
	n.via, n.viaMod = "", nil
	n.stepPending = false
	n.crashRequested = false
	n.up = true
	n.sim.note(n, "started")
	n.core.EnqueueInit()
	if err := n.restore(mods); err != nil {
		n.discard()
		return fmt.Errorf("testsim: node %s: restore incarnation %d: %w", n.id, n.inc, err)
	}
	n.sim.schedStep(n)
	return nil
}

// restore puts what the modules that are modules.Recoverer recovered (a
// write-ahead log's twin), then what the Restore hook returns, into the
// queues, right after the Init events, as a real node does.
func (n *Node) restore(mods modules.Modules) error {
	if err := n.core.EnqueueRecovered(mods); err != nil {
		return err
	}
	if n.cfg.Restore == nil {
		return nil
	}
	evs, err := n.cfg.Restore(int(n.inc), mods)
	if err != nil {
		return err
	}
	return n.core.Route(evs, nil, nil)
}

// specs sorts the modules by ID, as a real node does (it fixes the order
// of the Init events), and tells passive modules from twins.
func (n *Node) specs(mods modules.Modules) ([]engine.Spec, []twinState, error) {
	if len(mods) == 0 {
		return nil, nil, fmt.Errorf("testsim: node %s: no modules", n.id)
	}
	ids := make([]stdtypes.ModuleID, 0, len(mods))
	for id := range mods {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	specs := make([]engine.Spec, len(ids))
	twins := make([]twinState, len(ids))
	for i, id := range ids {
		if err := id.Validate(); err != nil {
			return nil, nil, fmt.Errorf("testsim: node %s: %w", n.id, err)
		}
		if id.Sub() != "" {
			return nil, nil, fmt.Errorf("testsim: node %s: module ID %q is not a single path segment", n.id, id)
		}
		specs[i].ID = id
		specs[i].ReceivesMessages = modules.ReceivesMessages(mods[id])
		switch m := mods[id].(type) {
		case Module:
			twins[i].mod = m
		case modules.PassiveModule:
			specs[i].Passive = m
		case modules.ActiveModule:
			return nil, nil, fmt.Errorf("testsim: node %s: module %q is an active module (%T), which cannot run in a simulation: give the node its simulated twin (a testsim.Module)", n.id, id, m)
		case nil:
			return nil, nil, fmt.Errorf("testsim: node %s: module %q is nil", n.id, id)
		default:
			return nil, nil, fmt.Errorf("testsim: node %s: module %q: %T is neither a passive module nor a testsim.Module", n.id, id, m)
		}
	}
	return specs, twins, nil
}

// crash takes node n down, or marks it to go down once its batch ends.
func (s *Sim) crash(n *Node) {
	if !n.up {
		return
	}
	if n.busy {
		n.crashRequested = true
		return
	}
	n.discard()
	s.note(n, "crashed")
}

// discard drops the node's incarnation.
func (n *Node) discard() {
	n.up = false
	n.core = nil
	n.via, n.viaMod = "", nil
	n.twins = nil
	n.crashAtEvent = 0
	n.stepPending = false
	n.crashRequested = false
	clear(n.batch)
}

// viaModule returns the module of the current incarnation that events
// posted through via come from, or nil.
func (n *Node) viaModule(via stdtypes.ModuleID) *engine.Module {
	if via != n.via || n.viaMod == nil {
		n.via, n.viaMod = via, n.core.Module(via.Top())
	}
	return n.viaMod
}

// applyTwin hands the next batch of external module m to its twin and
// releases it.
func (n *Node) applyTwin(m *engine.Module) error {
	tw := &n.twins[m.Index]
	var err error
	n.batch, err = n.core.TakeBatch(m, n.batch[:0])
	if err != nil {
		return err
	}
	n.list.SetSlice(n.batch)
	tw.holding = false
	err = engine.Recover(func() error { return tw.mod.ApplyEvents(&tw.env, &n.list) })
	n.list.SetSlice(nil)
	switch {
	case err != nil:
		err = engine.NewModuleError(m, n.batch, err)
	case tw.holding:
		// Released by the function Hold returned.
		tw.held = append(tw.held[:0], n.batch...)
		tw.heldActive = true
	default:
		err = n.core.Release(m, n.batch)
	}
	tw.holding = false
	clear(n.batch)
	return err
}

// releaseHeld releases the batch the twin of module m holds (Env.Hold),
// or fails the run with err, as its ApplyEvents would have.
func (n *Node) releaseHeld(m *engine.Module, err error) {
	tw := &n.twins[m.Index]
	if !tw.heldActive {
		panic(fmt.Sprintf("testsim: module %q of node %s: a held batch released twice", m.ID, n.id))
	}
	tw.heldActive = false
	batch := tw.held
	if err != nil {
		n.sim.fail(n, "", fmt.Errorf("node %s: %w", n.id, engine.NewModuleError(m, batch, err)))
	} else if err := n.core.Release(m, batch); err != nil {
		n.sim.fail(n, "", fmt.Errorf("node %s: %w", n.id, err))
	}
	clear(batch)
	tw.held = batch[:0]
	n.sim.schedStep(n)
}

// nodeInterceptor is the interceptor of a node's core: it feeds the
// simulation's observers, properties, hash and history, and crashes the
// node at its CrashAtEvent.
type nodeInterceptor struct{ n *Node }

func (ic *nodeInterceptor) Intercept(evs *stdtypes.EventList) error {
	return ic.intercept(evs, nil)
}

// intercept observes evs and hands them to the user's interceptor, with
// inputs if that is an InputInterceptor.
func (ic *nodeInterceptor) intercept(evs *stdtypes.EventList, inputs []bool) error {
	n := ic.n
	batch := evs.Slice()
	if n.crashAtEvent != 0 && n.events+uint64(len(batch)) >= n.crashAtEvent {
		return errCrashNow
	}
	for _, ev := range batch {
		n.events++
		if err := n.sim.observe(n, ev); err != nil {
			return err
		}
	}
	switch {
	case n.timedIcp != nil:
		return n.timedIcp.InterceptInputsAt(Timestamp(n.sim.now), evs, inputs)
	case inputs != nil:
		return n.inputIcp.InterceptInputs(evs, inputs)
	case n.cfg.Interceptor != nil:
		return n.cfg.Interceptor.Intercept(evs)
	}
	return nil
}

// inputNodeInterceptor is a nodeInterceptor for a user's InputInterceptor.
type inputNodeInterceptor struct{ *nodeInterceptor }

func (ic *inputNodeInterceptor) InterceptInputs(evs *stdtypes.EventList, inputs []bool) error {
	return ic.intercept(evs, inputs)
}
