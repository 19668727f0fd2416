package engine

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Counters are the statistics of one module. The core and the module's
// driver write them; anyone may read them at any time.
type Counters struct {
	EventsIn  atomic.Uint64
	EventsOut atomic.Uint64
	Batches   atomic.Uint64
	BusyNs    atomic.Int64
	// DroppedUnknown counts events the module emitted for modules that do
	// not exist, which RouteEmitted drops.
	DroppedUnknown atomic.Uint64
	// DroppedMessages counts the messages from other nodes
	// (stdevents.MessageReceived) addressed to the module, which does not
	// take any (modules.MessageReceiver), and which the core dropped.
	DroppedMessages atomic.Uint64
}

// Module is the core's view of one module.
type Module struct {
	// ID is the module's ID, a single path segment.
	ID stdtypes.ModuleID
	// Index is the module's position in Core.Modules.
	Index int
	// Counters are the module's statistics.
	Counters *Counters

	// passive is nil for an external module.
	passive modules.PassiveModule
	// receivesMessages tells whether the module takes messages from other
	// nodes; the core drops those for a module that does not.
	receivesMessages bool
	// queue holds the events waiting for the module.
	queue fifo[stdtypes.Event]
	// ready tells whether the module is in the ready queue.
	ready bool
	// held tells whether the driver holds a batch of this external module.
	held bool
	// lastDest is the module this one's output last went to.
	lastDest *Module
	// While the core tracks inputs, pushed and taken count the events that
	// entered and left queue, and inputAt holds the positions (in pushed's
	// count) of the queued events that are inputs.
	pushed, taken uint64
	inputAt       fifo[uint64]
}

// Passive reports whether the core applies the module itself.
func (m *Module) Passive() bool { return m.passive != nil }

// Spec describes a module to New.
type Spec struct {
	ID stdtypes.ModuleID
	// Passive is the module, or nil for an external one.
	Passive modules.PassiveModule
	// Counters receives the statistics; nil allocates new ones.
	Counters *Counters
	// ReceivesMessages tells whether an external module takes messages
	// from other nodes (modules.ReceivesMessages); for a passive module
	// the core asks the module itself. The core drops and counts a
	// stdevents.MessageReceived for a module that does not, wherever it
	// comes from.
	ReceivesMessages bool
}

// Core holds a node's modules and the events waiting for them. It is not
// safe for concurrent use: one goroutine drives it.
type Core struct {
	mods    map[stdtypes.ModuleID]*Module
	ordered []*Module

	// readyQueue holds the modules that have events and can take them, in
	// the order they became ready: each gets one batch in turn.
	readyQueue fifo[*Module]
	// buffered counts the events in all queues.
	buffered int
	maxBatch int

	interceptor eventlog.Interceptor
	// inputInterceptor is interceptor if it wants to know which events are
	// inputs; only then does the core track them, in inputFlags.
	inputInterceptor eventlog.InputInterceptor
	inputFlags       []bool
	// divert, if set, receives output and released follow-ups instead of
	// their being routed: the debug mode of a node.
	divert    func(evs []stdtypes.Event) error
	divertBuf []stdtypes.Event

	// batch is the list handed to passive modules, reused.
	batch stdtypes.EventList

	// noBusyTiming turns off measuring how long modules take.
	noBusyTiming bool

	// logger receives the warning of refuses; nil logs nothing.
	logger *logging.Logger

	// epoch makes clock cheap: a duration since a time.Time that has a
	// monotonic reading reads only the monotonic clock, half the cost of
	// time.Now, which also reads the wall clock.
	epoch time.Time
}

// New returns a core with the given modules, in order (Module.Index is the
// position in specs), handing each at most maxBatch events per batch and
// showing every batch to interceptor, if not nil, before the module sees it.
func New(specs []Spec, maxBatch int, interceptor eventlog.Interceptor) *Core {
	c := &Core{
		mods:        make(map[stdtypes.ModuleID]*Module, len(specs)),
		maxBatch:    maxBatch,
		interceptor: interceptor,
		epoch:       time.Now(),
	}
	c.inputInterceptor, _ = interceptor.(eventlog.InputInterceptor)
	for i, s := range specs {
		counters := s.Counters
		if counters == nil {
			counters = &Counters{}
		}
		m := &Module{ID: s.ID, Index: i, Counters: counters, passive: s.Passive,
			receivesMessages: s.ReceivesMessages || modules.ReceivesMessages(s.Passive)}
		c.mods[s.ID] = m
		c.ordered = append(c.ordered, m)
	}
	return c
}

// Divert makes the core hand the output of passive modules and the
// follow-ups it releases to f, one call per batch, instead of routing them.
func (c *Core) Divert(f func(evs []stdtypes.Event) error) { c.divert = f }

// SetBusyTiming turns measuring the time passive modules take (the BusyNs
// counter) on or off; it is on by default. A simulator, whose time is not
// the wall clock's, turns it off and saves two clock readings per batch.
func (c *Core) SetBusyTiming(on bool) { c.noBusyTiming = !on }

// SetLogger sets the logger the core warns on when it first drops a
// message for a module that takes none (see Route); nil, the default, logs
// nothing.
func (c *Core) SetLogger(l *logging.Logger) { c.logger = l }

// Modules returns the modules, in the order given to New.
func (c *Core) Modules() []*Module { return c.ordered }

// Module returns the module with the given ID, or nil.
func (c *Core) Module(id stdtypes.ModuleID) *Module { return c.mods[id] }

// Buffered returns the number of events waiting in all queues.
func (c *Core) Buffered() int { return c.buffered }

// Clock returns the monotonic time since the core was created; drivers use
// it to measure how long modules take.
func (c *Core) Clock() time.Duration { return time.Since(c.epoch) }

// EnqueueInit puts an Init event first in the queue of every module.
func (c *Core) EnqueueInit() {
	for _, m := range c.ordered {
		c.enqueue(m, stdevents.NewInit(m.ID), true)
	}
}

// EnqueueRecovered asks each module of mods that is a modules.Recoverer
// (a write-ahead log), in the core's order, for the events it recovered,
// and puts them in the queues of their destinations as inputs from
// outside the node. Called right after EnqueueInit, it makes them the
// first events after Init, before anything else reaches the node. An
// event for a module the node does not have is an error that names the
// module that recovered it: the node must not start without state a
// module relied on.
func (c *Core) EnqueueRecovered(mods modules.Modules) error {
	for _, m := range c.ordered {
		r, ok := mods[m.ID].(modules.Recoverer)
		if !ok {
			continue
		}
		evs := r.Recovered()
		for _, ev := range evs {
			if ev == nil {
				return fmt.Errorf("module %q recovered a nil event", m.ID)
			}
			if c.mods[ev.Dest().Top()] == nil {
				return fmt.Errorf("module %q recovered %s, for a module the node does not have: %w",
					m.ID, DescribeEvent(ev), ErrUnknownModule)
			}
		}
		if err := c.Route(evs, nil, nil); err != nil {
			return fmt.Errorf("module %q recovered events: %w", m.ID, err)
		}
	}
	return nil
}

// Route puts each event in the queue of the module its destination's first
// segment names. from is the module that produced the events (nil if they
// come from outside the node) and parent the event whose follow-ups they
// are (nil for output); both serve error messages, and from also tells
// whether the events are inputs of the passive modules (see
// eventlog.InputInterceptor): they are unless from is a passive module.
//
// A message from another node for a module that takes none is dropped and
// counted (see refuses), even here: a passive module that forwards
// messages may hand on a destination a peer chose.
func (c *Core) Route(evs []stdtypes.Event, from *Module, parent stdtypes.Event) error {
	input := from == nil || !from.Passive()
	for _, ev := range evs {
		if ev == nil {
			return fmt.Errorf("%s produced a nil event", describeSource(from, parent))
		}
		dest := ev.Dest()
		m := c.lookup(dest.Top(), from)
		if m == nil {
			return fmt.Errorf("%s from %s: destination %q: %w",
				DescribeEvent(ev), describeSource(from, parent), dest, ErrUnknownModule)
		}
		if c.refuses(m, ev) {
			continue
		}
		c.enqueue(m, ev, input)
	}
	return nil
}

// refuses reports whether m does not take ev because ev is a message from
// another node and m takes none, counting the drop in m's DroppedMessages.
// The sender of a message names the module it is for: handing a message to
// a module that treats it as a wiring bug (a timer, a crypto module) would
// let any peer stop the node. For an event that is no message, the most
// common, this costs one comparison of its type, already in a register.
//
// A diverting core (a node in debug mode, a replay) refuses nothing: it is
// handed recorded events, which the recorded run had routed already, and
// must dispatch them as they were.
func (c *Core) refuses(m *Module, ev stdtypes.Event) bool {
	msg, ok := ev.(*stdevents.MessageReceived)
	if !ok || m.receivesMessages || c.divert != nil {
		return false
	}
	if m.Counters.DroppedMessages.Add(1) == 1 {
		c.warnRefused(m, msg)
	}
	return true
}

// warnRefused tells the user, once per module, that messages for m are
// dropped. The usual cause is a protocol module whose author forgot the
// marker method: its messages would otherwise vanish without a word. Once
// is enough, and a bound: the counter says how many followed, and a peer
// that sends to a module that takes no messages cannot flood the log. The
// counters live as long as the node, so it is once per node, whatever the
// number of runs.
func (c *Core) warnRefused(m *Module, msg *stdevents.MessageReceived) {
	c.logger.LogAttrs(logging.LevelWarn,
		"module takes no messages from other nodes (it does not implement modules.MessageReceiver): "+
			"dropping them; only this first one is logged, DroppedMessages counts them all",
		slog.String("module", string(m.ID)),
		slog.String("from", string(msg.From)),
		slog.String("msg", stdtypes.TypeName(msg.Msg)))
}

// lookup returns the module with ID top, or nil. A module's output tends to
// go to the module it last sent to, so each module remembers that one: a
// string comparison instead of a map lookup on the hottest path.
func (c *Core) lookup(top stdtypes.ModuleID, from *Module) *Module {
	if from != nil && from.lastDest != nil && from.lastDest.ID == top {
		return from.lastDest
	}
	m := c.mods[top]
	if from != nil && m != nil {
		from.lastDest = m
	}
	return m
}

// RouteEmitted routes events an external module emitted on its own, such
// as messages a transport received. Their destinations come from outside
// the node (a peer names the module its message is for), so an event for a
// module that does not exist is dropped and counted in from's
// DroppedUnknown, not an error: otherwise any peer could stop the node. A
// message for a module that takes none is dropped and counted in that
// module's DroppedMessages, as by Route. It returns the number of events
// dropped for either reason. from may be nil for events that come from
// outside the node through no module; their drops for unknown modules are
// only returned. A nil event is still an error: that is the module's bug,
// not a peer's.
func (c *Core) RouteEmitted(evs []stdtypes.Event, from *Module) (dropped int, err error) {
	unknown := 0
	for _, ev := range evs {
		if ev == nil {
			return dropped, fmt.Errorf("%s produced a nil event", describeSource(from, nil))
		}
		m := c.lookup(ev.Dest().Top(), from)
		if m == nil {
			unknown++
			dropped++
			continue
		}
		if c.refuses(m, ev) {
			dropped++
			continue
		}
		c.enqueue(m, ev, true)
	}
	if unknown > 0 && from != nil {
		from.Counters.DroppedUnknown.Add(uint64(unknown))
	}
	return dropped, nil
}

func (c *Core) enqueue(m *Module, ev stdtypes.Event, input bool) {
	if c.inputInterceptor != nil {
		if input {
			m.inputAt.push(m.pushed)
		}
		m.pushed++
	}
	m.queue.push(ev)
	c.buffered++
	c.makeReady(m)
}

// makeReady puts m in the ready queue if it has events it can take now.
func (c *Core) makeReady(m *Module) {
	if !m.ready && !m.held && m.queue.len() > 0 {
		m.ready = true
		c.readyQueue.push(m)
	}
}

// Ready reports whether a module can take events now.
func (c *Core) Ready() bool { return c.readyQueue.len() > 0 }

// Next removes and returns the module whose turn it is to get a batch, or
// nil if no module can take events now. The driver then calls ApplyPassive
// or TakeBatch for it.
func (c *Core) Next() *Module {
	if c.readyQueue.len() == 0 {
		return nil
	}
	m := c.readyQueue.popFront()
	m.ready = false
	return m
}

// ApplyPassive applies the next batch of passive module m, which Next
// returned, and routes its output, then the follow-ups of the batch's
// events (or diverts both). A module's error or panic, and an invalid event
// in its output, come back as a *ModuleError.
func (c *Core) ApplyPassive(m *Module) error {
	n := min(m.queue.len(), c.maxBatch)
	evs := m.queue.peek(n)
	c.batch.SetSlice(evs)
	if c.interceptor != nil {
		if err := c.intercept(m); err != nil {
			c.batch.SetSlice(nil)
			return fmt.Errorf("interceptor failed on %s: %w", DescribeEvents(evs), err)
		}
	}
	var start time.Duration
	if !c.noBusyTiming {
		start = c.Clock()
	}
	out, err := applyPassive(m.passive, &c.batch)
	if !c.noBusyTiming {
		m.Counters.BusyNs.Add(int64(c.Clock() - start))
	}
	m.Counters.Batches.Add(1)
	m.Counters.EventsIn.Add(uint64(n))
	// Read the output before the batch list is emptied: a module may
	// return its input list as output.
	outEvs := out.Slice()
	c.batch.SetSlice(nil)
	if err != nil {
		return NewModuleError(m, evs, err)
	}
	m.Counters.EventsOut.Add(uint64(len(outEvs)))
	// The view evs stays valid while routing pushes to m's own queue; only
	// pop moves the queue's contents.
	err = c.release(m, outEvs, evs)
	m.queue.pop(n)
	c.buffered -= n
	c.makeReady(m)
	return err
}

// TakeBatch removes the next batch of external module m, which Next
// returned, appends it to dst and returns it, after showing it to the
// interceptor. m gets no further batch until Release.
func (c *Core) TakeBatch(m *Module, dst []stdtypes.Event) ([]stdtypes.Event, error) {
	n := min(m.queue.len(), c.maxBatch)
	dst = append(dst, m.queue.peek(n)...)
	m.queue.pop(n)
	c.buffered -= n
	m.held = true
	m.Counters.Batches.Add(1)
	m.Counters.EventsIn.Add(uint64(n))
	if c.interceptor != nil {
		c.batch.SetSlice(dst[len(dst)-n:])
		err := c.intercept(m)
		c.batch.SetSlice(nil)
		if err != nil {
			return dst, fmt.Errorf("interceptor failed on %s: %w", DescribeEvents(dst), err)
		}
	}
	return dst, nil
}

// intercept shows c.batch, the next batch of m, to the interceptor, with
// the events that are inputs marked if it wants them.
func (c *Core) intercept(m *Module) error {
	if c.inputInterceptor == nil {
		return c.interceptor.Intercept(&c.batch)
	}
	n := c.batch.Len()
	c.inputFlags = append(c.inputFlags[:0], make([]bool, n)...)
	end := m.taken + uint64(n)
	for m.inputAt.len() > 0 {
		at := m.inputAt.peek(1)[0]
		if at >= end {
			break
		}
		c.inputFlags[at-m.taken] = true
		m.inputAt.pop(1)
	}
	m.taken = end
	return c.inputInterceptor.InterceptInputs(&c.batch, c.inputFlags)
}

// Release tells the core that external module m has processed batch, the
// one TakeBatch returned: the follow-ups of its events are routed (or
// diverted) and m can get its next batch.
func (c *Core) Release(m *Module, batch []stdtypes.Event) error {
	m.held = false
	err := c.release(m, nil, batch)
	c.makeReady(m)
	return err
}

// release routes out, then the follow-ups of in; or diverts them. A typed
// nil event would panic when asked for its destination; that is the
// module's bug, reported as its error.
func (c *Core) release(m *Module, out, in []stdtypes.Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &ModuleError{Module: m.ID, Events: "its output", Panicked: true,
				Err: fmt.Errorf("invalid event in output: %v", r)}
		}
	}()
	if c.divert != nil {
		c.divertBuf = append(c.divertBuf[:0], out...)
		for _, ev := range in {
			c.divertBuf = append(c.divertBuf, ev.FollowUps()...)
		}
		err := c.divert(c.divertBuf)
		clear(c.divertBuf)
		return err
	}
	if err := c.Route(out, m, nil); err != nil {
		return err
	}
	for _, ev := range in {
		if next := ev.FollowUps(); len(next) > 0 {
			if err := c.Route(next, m, ev); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyPassive calls m.ApplyEvents, turning a panic into an error.
func applyPassive(m modules.PassiveModule, evs *stdtypes.EventList) (out *stdtypes.EventList, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return m.ApplyEvents(evs)
}

// Recover turns a panic in f into a *PanicError, for drivers that call
// external modules.
func Recover(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return f()
}
