package mir

import (
	"context"
	"fmt"
	"sync"

	"github.com/mirframework/mir/internal/engine"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// itemKind says what an inboxItem carries.
type itemKind uint8

const (
	// itemInjected: events given to InjectEvents.
	itemInjected itemKind = iota
	// itemEmitted: events an active module emitted on its own.
	itemEmitted
	// itemActiveDone: an active module returned from ApplyEvents.
	itemActiveDone
)

// inboxItem is what other goroutines send to the event loop. It is sent by
// value, so sending one allocates nothing.
type inboxItem struct {
	kind   itemKind
	events *stdtypes.EventList
	active *activeState
	err    error
}

// activeState is what the loop keeps for an active module, which runs
// ApplyEvents on a worker goroutine of its own, one batch at a time.
type activeState struct {
	mod    *engine.Module
	module modules.ActiveModule
	// work hands a batch to the worker; it has room for one, and the core
	// hands out no second batch before the first is released.
	work chan *stdtypes.EventList
	// batch is the list handed to the worker, reused from batch to batch.
	batch stdtypes.EventList
	// batchBuf backs batch.
	batchBuf []stdtypes.Event
}

// pollDrainMax bounds how many lists the loop takes from one active module
// in one look, so that one busy module cannot starve the others.
const pollDrainMax = 32

// maxDirectActive is how many active modules the loop reads directly. A
// Go select has a fixed set of cases, so the number is fixed too; four
// covers a transport, a timer, a crypto pool and a client receiver, and
// saves them a goroutine hop per list emitted.
const maxDirectActive = 4

// loop is one run of a node: the engine's core driven by an event loop on
// one goroutine, plus goroutines for the active modules, which reach the
// loop through the node's channels.
type loop struct {
	node      *Node
	core      *engine.Core
	modCtx    context.Context
	debug     bool
	eventsOut chan *stdtypes.EventList
	logger    *logging.Logger

	// actives holds the state of each active module, by module index; nil
	// for passive modules.
	actives []*activeState

	paused                  bool
	pauseAbove, resumeBelow int

	// The output channels of the first maxDirectActive active modules are
	// read by the loop itself, in one select with its other inputs; a nil
	// entry is absent or closed. Further active modules get a goroutine
	// each that forwards their output through the node's emitted channel.
	direct       [maxDirectActive]<-chan *stdtypes.EventList
	directActive [maxDirectActive]*activeState
	hasReaders   bool
}

func newLoop(n *Node, modCtx context.Context, debug bool, eventsOut chan *stdtypes.EventList) *loop {
	specs := make([]engine.Spec, len(n.moduleIDs))
	for i, id := range n.moduleIDs {
		specs[i] = engine.Spec{ID: id, Counters: n.stats[i], ReceivesMessages: modules.ReceivesMessages(n.modules[id])}
		if p, ok := n.modules[id].(modules.PassiveModule); ok {
			specs[i].Passive = p
		}
	}
	l := &loop{
		node:        n,
		core:        engine.New(specs, n.Config.MaxEventBatchSize, n.interceptor),
		modCtx:      modCtx,
		debug:       debug,
		eventsOut:   eventsOut,
		logger:      n.logger,
		actives:     make([]*activeState, len(n.moduleIDs)),
		pauseAbove:  n.Config.PauseInputThreshold,
		resumeBelow: n.Config.ResumeInputThreshold,
	}
	for i, m := range l.core.Modules() {
		if a, ok := n.modules[m.ID].(modules.ActiveModule); ok {
			l.actives[i] = &activeState{mod: m, module: a, work: make(chan *stdtypes.EventList, 1)}
		}
	}
	l.core.SetLogger(n.logger)
	if debug {
		l.core.Divert(l.emitDebug)
	}
	return l
}

// run is the event loop. It returns why the node stopped.
func (l *loop) run(ctx context.Context) error {
	if !l.debug {
		// Init goes first into every queue, so it is each module's first
		// event; what a write-ahead log recovered comes next, before any
		// input is read.
		l.core.EnqueueInit()
		if err := l.core.EnqueueRecovered(l.node.modules); err != nil {
			return fmt.Errorf("recovery: %w", err)
		}
	}
	for {
		if l.node.stopRequested.Load() {
			return stopReason(ctx)
		}
		// A non-blocking look at every input between batches keeps active
		// modules and workers served while passive modules are busy.
		if err := l.poll(); err != nil {
			return err
		}
		if m := l.core.Next(); m != nil {
			if err := l.dispatch(m); err != nil {
				return err
			}
			continue
		}
		if ready, err := l.spin(); err != nil {
			return err
		} else if ready {
			continue
		}
		if err := l.wait(ctx); err != nil {
			return err
		}
	}
}

// poll takes at most one item from each input that has one, without
// blocking. Active modules are not read while input is paused.
//
// Each look is a single-channel select with a default, which the runtime
// answers without taking a lock when the channel is empty.
func (l *loop) poll() error {
	select {
	case item := <-l.node.inbox:
		if err := l.handle(item); err != nil {
			return err
		}
	default:
	}
	if l.paused {
		return nil
	}
	for i, ch := range l.direct {
		// Take what the module has queued, up to pollDrainMax lists, so
		// that its events reach their modules in batches rather than one
		// list per turn of the loop.
		for range pollDrainMax {
			if ch == nil || l.paused {
				break
			}
			select {
			case evs, ok := <-ch:
				if err := l.handleDirect(i, evs, ok); err != nil {
					return err
				}
				ch = l.direct[i] // nil once closed
				continue
			default:
			}
			break
		}
	}
	if l.hasReaders {
		select {
		case item := <-l.node.emitted:
			return l.handle(item)
		default:
		}
	}
	return nil
}

// spinPolls is how many times the loop looks at its inputs before it
// blocks. Blocking and being woken costs the goroutine scheduler about a
// microsecond; a look costs a few nanoseconds per input. When input arrives
// in quick succession, as from a busy transport, a short spin catches the
// next list without the round trip through the scheduler; when it does not,
// the spin has cost well under a microsecond.
const spinPolls = 64

// spin polls the inputs up to spinPolls times and reports whether a module
// became ready or a stop was requested.
func (l *loop) spin() (bool, error) {
	for range spinPolls {
		if l.node.stopRequested.Load() {
			return true, nil
		}
		if err := l.poll(); err != nil {
			return false, err
		}
		if l.core.Ready() {
			return true, nil
		}
	}
	return false, nil
}

// wait blocks until an input has something or the node stops.
func (l *loop) wait(ctx context.Context) error {
	// Nil channels are never ready: that is how paused and absent inputs
	// drop out of the select.
	var direct [maxDirectActive]<-chan *stdtypes.EventList
	var emitted chan inboxItem
	if !l.paused {
		direct = l.direct
		if l.hasReaders {
			emitted = l.node.emitted
		}
	}
	select {
	case item := <-l.node.inbox:
		return l.handle(item)
	case item := <-emitted:
		return l.handle(item)
	case evs, ok := <-direct[0]:
		return l.handleDirect(0, evs, ok)
	case evs, ok := <-direct[1]:
		return l.handleDirect(1, evs, ok)
	case evs, ok := <-direct[2]:
		return l.handleDirect(2, evs, ok)
	case evs, ok := <-direct[3]:
		return l.handleDirect(3, evs, ok)
	case <-l.node.stopCh:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

// handleDirect processes what the loop received from the output channel of
// the i-th directly read active module.
func (l *loop) handleDirect(i int, evs *stdtypes.EventList, ok bool) error {
	if !ok {
		l.direct[i] = nil // closed: the module emits no more
		return nil
	}
	if evs.Len() == 0 {
		return nil
	}
	return l.handle(inboxItem{kind: itemEmitted, events: evs, active: l.directActive[i]})
}

// stopReason is the error Run returns once a stop was requested.
func stopReason(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return ErrStopped
}

// handle processes one item from the node's channels.
func (l *loop) handle(item inboxItem) error {
	var err error
	switch item.kind {
	case itemInjected:
		err = l.core.Route(item.events.Slice(), nil, nil)
	case itemEmitted:
		item.active.mod.Counters.EventsOut.Add(uint64(item.events.Len()))
		if l.debug {
			err = l.emitDebug(item.events.Slice())
			break
		}
		var dropped int
		dropped, err = l.core.RouteEmitted(item.events.Slice(), item.active.mod)
		if dropped > 0 {
			l.logger.Log(logging.LevelDebug, "dropped events for modules that do not exist or take no messages",
				"from", string(item.active.mod.ID), "count", dropped)
		}
	case itemActiveDone:
		err = l.activeDone(item.active, item.err)
	default:
		panic(fmt.Sprintf("mir: unknown inbox item kind %d", item.kind))
	}
	l.updateInputGate()
	return err
}

// dispatch hands module m, whose turn it is, its next batch.
func (l *loop) dispatch(m *engine.Module) error {
	var err error
	if m.Passive() {
		err = l.core.ApplyPassive(m)
	} else {
		err = l.dispatchActive(l.actives[m.Index])
	}
	l.updateInputGate()
	return err
}

// dispatchActive hands a batch to active module a's worker.
func (l *loop) dispatchActive(a *activeState) error {
	var err error
	a.batchBuf, err = l.core.TakeBatch(a.mod, a.batchBuf[:0])
	if err != nil {
		return err
	}
	a.batch.SetSlice(a.batchBuf)
	a.work <- &a.batch // never blocks: the worker is idle, the channel empty
	return nil
}

// activeDone takes back the batch an active module's worker finished, and
// releases the follow-ups of its events.
func (l *loop) activeDone(a *activeState, err error) error {
	if err != nil {
		return engine.NewModuleError(a.mod, a.batchBuf, err)
	}
	err = l.core.Release(a.mod, a.batchBuf)
	clear(a.batchBuf)
	a.batch.SetSlice(nil)
	return err
}

// emitDebug writes a copy of evs to eventsOut, blocking until it is taken
// or the node stops. Nothing is written for no events or a nil eventsOut.
func (l *loop) emitDebug(evs []stdtypes.Event) error {
	if len(evs) == 0 || l.eventsOut == nil {
		return nil
	}
	list := stdtypes.ListOf(evs...)
	select {
	case l.eventsOut <- list:
		return nil
	case <-l.node.stopCh:
		return ErrStopped
	case <-l.modCtx.Done():
		return stopReason(l.modCtx)
	}
}

// updateInputGate pauses reading from active modules when the buffer holds
// more than PauseInputThreshold events and resumes below
// ResumeInputThreshold.
func (l *loop) updateInputGate() {
	buffered := l.core.Buffered()
	l.node.bufferedEvents.Store(int64(buffered))
	switch {
	case !l.paused && buffered > l.pauseAbove:
		l.paused = true
		l.node.inputPaused.Store(true)
		l.node.inputPauses.Add(1)
		l.logger.Log(logging.LevelDebug, "input paused", "buffered", buffered)
	case l.paused && buffered < l.resumeBelow:
		l.paused = false
		l.node.inputPaused.Store(false)
		l.logger.Log(logging.LevelDebug, "input resumed", "buffered", buffered)
	}
}

// startActive starts, for every active module, a goroutine that runs its
// ApplyEvents, and decides who reads what it emits: the loop itself for the
// first maxDirectActive modules, a goroutine of its own for each of the rest.
func (l *loop) startActive(wg *sync.WaitGroup) {
	nDirect := 0
	for _, a := range l.actives {
		if a == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.workActive(a)
		}()
		out := a.module.EventsOut()
		switch {
		case out == nil:
		case nDirect < maxDirectActive:
			l.direct[nDirect] = out
			l.directActive[nDirect] = a
			nDirect++
		default:
			l.hasReaders = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				l.readActive(a, out)
			}()
		}
	}
}

// readActive forwards what active module a emits to the loop. It does not
// look at backpressure: while input is paused, the loop stops receiving
// from the emitted channel, so this goroutine blocks holding at most one
// list and stops reading the module.
//
// Each step tries a plain non-blocking channel operation before a blocking
// select over several channels: on a busy node the plain one nearly always
// succeeds, and it costs a fraction of a multi-way select.
func (l *loop) readActive(a *activeState, out <-chan *stdtypes.EventList) {
	done := l.modCtx.Done()
	for {
		var evs *stdtypes.EventList
		var ok bool
		select {
		case evs, ok = <-out:
		default:
			select {
			case evs, ok = <-out:
			case <-done:
				return
			}
		}
		if !ok {
			return // the module closed its channel: it emits no more
		}
		if evs.Len() == 0 {
			continue
		}
		item := inboxItem{kind: itemEmitted, events: evs, active: a}
		select {
		case l.node.emitted <- item:
			continue
		default:
		}
		select {
		case l.node.emitted <- item:
		case <-done:
			return
		}
	}
}

// workActive runs a's ApplyEvents on the batches the loop hands over.
func (l *loop) workActive(a *activeState) {
	done := l.modCtx.Done()
	for {
		select {
		case batch := <-a.work:
			start := l.core.Clock()
			err := engine.Recover(func() error { return a.module.ApplyEvents(l.modCtx, batch) })
			a.mod.Counters.BusyNs.Add(int64(l.core.Clock() - start))
			if !l.send(inboxItem{kind: itemActiveDone, active: a, err: err}) {
				return
			}
		case <-done:
			return
		}
	}
}

// send puts item in the inbox, blocking until there is room. It returns
// false if the node stopped first.
func (l *loop) send(item inboxItem) bool {
	select {
	case l.node.inbox <- item:
		return true
	default:
	}
	select {
	case l.node.inbox <- item:
		return true
	case <-l.modCtx.Done():
		return false
	}
}
