package mir

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
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
	mod    *moduleState
	err    error
}

// moduleState is the event loop's view of one module.
type moduleState struct {
	id      stdtypes.ModuleID
	stats   *moduleStats
	passive modules.PassiveModule
	active  modules.ActiveModule

	// queue holds the events waiting for the module.
	queue fifo[stdtypes.Event]
	// ready tells whether the module is in the loop's ready queue.
	ready bool

	// The fields below are for active modules only, which run ApplyEvents
	// on a worker goroutine, one batch at a time.

	// busy tells whether the worker holds a batch.
	busy bool
	// work hands a batch to the worker; it has room for one.
	work chan *stdtypes.EventList
	// batch is the list handed to the worker, reused from batch to batch.
	batch stdtypes.EventList
	// batchBuf backs batch.
	batchBuf []stdtypes.Event
}

// maxDirectActive is how many active modules the loop reads directly. A
// Go select has a fixed set of cases, so the number is fixed too; four
// covers a transport, a timer, a crypto pool and a client receiver, and
// saves them a goroutine hop per list emitted.
const maxDirectActive = 4

// loop is the state of one run of the event loop. Its fields are owned by
// the goroutine running loop.run; other goroutines reach it via the inbox.
type loop struct {
	node      *Node
	modCtx    context.Context
	debug     bool
	eventsOut chan *stdtypes.EventList
	logger    *logging.Logger

	mods    map[stdtypes.ModuleID]*moduleState
	ordered []*moduleState

	// readyQueue holds the modules that have events and can take them, in
	// the order they became ready: each gets one batch in turn.
	readyQueue fifo[*moduleState]
	// buffered counts the events in all modules' queues.
	buffered int
	paused   bool

	maxBatch, pauseAbove, resumeBelow int

	// The output channels of the first maxDirectActive active modules are
	// read by the loop itself, in one select with its other inputs; a nil
	// entry is absent or closed. Further active modules get a goroutine
	// each that forwards their output through the node's emitted channel.
	direct     [maxDirectActive]<-chan *stdtypes.EventList
	directMods [maxDirectActive]*moduleState
	hasReaders bool

	// batch is the list handed to passive modules, reused.
	batch stdtypes.EventList
	// debugOut collects what one batch produced, in debug mode.
	debugOut []stdtypes.Event

	// epoch is when the loop started. Durations measured as time.Since(epoch)
	// read only the monotonic clock, half the cost of time.Now, which also
	// reads the wall clock; on the hottest path that matters.
	epoch time.Time
}

// clock returns the monotonic time since the loop started.
func (l *loop) clock() time.Duration { return time.Since(l.epoch) }

func newLoop(n *Node, modCtx context.Context, debug bool, eventsOut chan *stdtypes.EventList) *loop {
	l := &loop{
		node:        n,
		modCtx:      modCtx,
		debug:       debug,
		eventsOut:   eventsOut,
		logger:      n.logger,
		mods:        make(map[stdtypes.ModuleID]*moduleState, len(n.moduleIDs)),
		maxBatch:    n.Config.MaxEventBatchSize,
		pauseAbove:  n.Config.PauseInputThreshold,
		resumeBelow: n.Config.ResumeInputThreshold,
		epoch:       time.Now(),
	}
	for i, id := range n.moduleIDs {
		ms := &moduleState{id: id, stats: n.stats[i]}
		switch m := n.modules[id].(type) {
		case modules.PassiveModule:
			ms.passive = m
		case modules.ActiveModule:
			ms.active = m
			ms.work = make(chan *stdtypes.EventList, 1)
		}
		l.mods[id] = ms
		l.ordered = append(l.ordered, ms)
	}
	return l
}

// run is the event loop. It returns why the node stopped.
func (l *loop) run(ctx context.Context) error {
	if !l.debug {
		// Init goes first into every queue, so it is each module's first event.
		for _, ms := range l.ordered {
			l.enqueue(ms, stdevents.NewInit(ms.id))
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
		if l.readyQueue.len() > 0 {
			if err := l.dispatch(l.readyQueue.popFront()); err != nil {
				return err
			}
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
		if ch == nil {
			continue
		}
		select {
		case evs, ok := <-ch:
			if err := l.handleDirect(i, evs, ok); err != nil {
				return err
			}
		default:
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
	return l.handle(inboxItem{kind: itemEmitted, events: evs, mod: l.directMods[i]})
}

// stopReason is the error Run returns once a stop was requested.
func stopReason(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return ErrStopped
}

// handle processes one item from the inbox.
func (l *loop) handle(item inboxItem) error {
	switch item.kind {
	case itemInjected:
		return l.routeAll(item.events.Slice(), nil, nil)
	case itemEmitted:
		item.mod.stats.eventsOut.Add(uint64(item.events.Len()))
		if l.debug {
			return l.emitDebug(item.events.Slice())
		}
		return l.routeAll(item.events.Slice(), item.mod, nil)
	case itemActiveDone:
		return l.activeDone(item.mod, item.err)
	}
	panic(fmt.Sprintf("mir: unknown inbox item kind %d", item.kind))
}

// enqueue adds ev to ms's queue.
func (l *loop) enqueue(ms *moduleState, ev stdtypes.Event) {
	ms.queue.push(ev)
	l.buffered++
	l.makeReady(ms)
}

// makeReady puts ms in the ready queue if it has events it can take now.
func (l *loop) makeReady(ms *moduleState) {
	if !ms.ready && !ms.busy && ms.queue.len() > 0 {
		ms.ready = true
		l.readyQueue.push(ms)
	}
}

// routeAll puts each event in the queue of the module its destination names.
// from is the module that produced the events (nil for injected ones) and
// parent the event whose follow-ups they are (nil for output); both only
// serve error messages.
func (l *loop) routeAll(evs []stdtypes.Event, from *moduleState, parent stdtypes.Event) error {
	for _, ev := range evs {
		if ev == nil {
			return fmt.Errorf("%s produced a nil event", describeSource(from, parent))
		}
		dest := ev.Dest()
		ms, ok := l.mods[dest.Top()]
		if !ok {
			return fmt.Errorf("%s from %s: destination %q: %w",
				describeEvent(ev), describeSource(from, parent), dest, ErrUnknownModule)
		}
		l.enqueue(ms, ev)
	}
	l.updateInputGate()
	return nil
}

// describeSource names where events came from, for error messages.
func describeSource(from *moduleState, parent stdtypes.Event) string {
	switch {
	case parent != nil:
		return "the follow-ups of " + describeEvent(parent)
	case from != nil:
		return fmt.Sprintf("module %q", from.id)
	}
	return "InjectEvents"
}

// dispatch hands ms its next batch of events.
func (l *loop) dispatch(ms *moduleState) error {
	ms.ready = false
	n := min(ms.queue.len(), l.maxBatch)
	if ms.active != nil {
		return l.dispatchActive(ms, n)
	}
	return l.dispatchPassive(ms, n)
}

// dispatchPassive applies a batch of n events to passive module ms on the
// loop's goroutine and routes what comes out.
func (l *loop) dispatchPassive(ms *moduleState, n int) (err error) {
	evs := ms.queue.peek(n)
	l.batch.SetSlice(evs)
	if l.node.interceptor != nil {
		if err := l.node.interceptor.Intercept(&l.batch); err != nil {
			return fmt.Errorf("interceptor failed on %s: %w", describeEvents(evs), err)
		}
	}
	start := l.clock()
	out, err := applyPassive(ms.passive, &l.batch)
	ms.stats.busyNs.Add(int64(l.clock() - start))
	ms.stats.batches.Add(1)
	ms.stats.eventsIn.Add(uint64(n))
	// Read the output before the batch list is emptied: a module may
	// return its input list as output.
	outEvs := out.Slice()
	l.batch.SetSlice(nil)
	if err != nil {
		return l.moduleError(ms, evs, err)
	}
	ms.stats.eventsOut.Add(uint64(len(outEvs)))

	// Output first, then the follow-ups of the batch's events, which were
	// waiting for exactly this moment.
	if l.debug {
		err = l.emitDebugBatch(outEvs, evs)
	} else {
		err = l.routeOutput(ms, outEvs, evs)
	}
	ms.queue.pop(n)
	l.buffered -= n
	l.makeReady(ms)
	l.updateInputGate()
	return err
}

// routeOutput routes a passive module's output and the follow-ups of its
// input. A typed nil event in the output would panic when asked for its
// destination; that is the module's bug, reported as its error.
func (l *loop) routeOutput(ms *moduleState, out, in []stdtypes.Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &ModuleError{Module: ms.id, Events: "its output", Panicked: true,
				Err: fmt.Errorf("invalid event in output: %v", r)}
		}
	}()
	if err := l.routeAll(out, ms, nil); err != nil {
		return err
	}
	for _, ev := range in {
		if next := ev.FollowUps(); len(next) > 0 {
			if err := l.routeAll(next, ms, ev); err != nil {
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
			err = &panicError{value: r, stack: debug.Stack()}
		}
	}()
	return m.ApplyEvents(evs)
}

// applyActive calls m.ApplyEvents, turning a panic into an error.
func applyActive(ctx context.Context, m modules.ActiveModule, evs *stdtypes.EventList) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &panicError{value: r, stack: debug.Stack()}
		}
	}()
	return m.ApplyEvents(ctx, evs)
}

// panicError carries a module's panic and where it happened.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("%v\n%s", p.value, p.stack) }

// moduleError wraps what a module returned with the module and its batch.
func (l *loop) moduleError(ms *moduleState, evs []stdtypes.Event, err error) error {
	_, panicked := err.(*panicError)
	return &ModuleError{Module: ms.id, Events: describeEvents(evs), Panicked: panicked, Err: err}
}

// dispatchActive hands a batch of n events to active module ms's worker.
// The module's queue keeps the rest until the worker is done.
func (l *loop) dispatchActive(ms *moduleState, n int) error {
	ms.batchBuf = append(ms.batchBuf[:0], ms.queue.peek(n)...)
	ms.batch.SetSlice(ms.batchBuf)
	ms.queue.pop(n)
	l.buffered -= n
	l.updateInputGate()
	if l.node.interceptor != nil {
		if err := l.node.interceptor.Intercept(&ms.batch); err != nil {
			return fmt.Errorf("interceptor failed on %s: %w", describeEvents(ms.batchBuf), err)
		}
	}
	ms.stats.batches.Add(1)
	ms.stats.eventsIn.Add(uint64(n))
	ms.busy = true
	ms.work <- &ms.batch // never blocks: the worker is idle, the channel empty
	return nil
}

// activeDone takes back the batch an active module's worker finished, and
// releases the follow-ups of its events.
func (l *loop) activeDone(ms *moduleState, err error) error {
	ms.busy = false
	evs := ms.batchBuf
	if err != nil {
		return l.moduleError(ms, evs, err)
	}
	if l.debug {
		err = l.emitDebugBatch(nil, evs)
	} else {
		err = l.routeOutput(ms, nil, evs)
	}
	clear(ms.batchBuf)
	ms.batch.SetSlice(nil)
	l.makeReady(ms)
	return err
}

// emitDebugBatch writes, in debug mode, a batch's output followed by the
// follow-ups of its input to eventsOut, as one list.
func (l *loop) emitDebugBatch(out, in []stdtypes.Event) error {
	l.debugOut = append(l.debugOut[:0], out...)
	for _, ev := range in {
		l.debugOut = append(l.debugOut, ev.FollowUps()...)
	}
	err := l.emitDebug(l.debugOut)
	clear(l.debugOut)
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
	l.node.bufferedEvents.Store(int64(l.buffered))
	switch {
	case !l.paused && l.buffered > l.pauseAbove:
		l.paused = true
		l.node.inputPaused.Store(true)
		l.logger.Log(logging.LevelDebug, "input paused", "buffered", l.buffered)
	case l.paused && l.buffered < l.resumeBelow:
		l.paused = false
		l.node.inputPaused.Store(false)
		l.logger.Log(logging.LevelDebug, "input resumed", "buffered", l.buffered)
	}
}

// startActive starts, for every active module, a goroutine that runs its
// ApplyEvents, and decides who reads what it emits: the loop itself for the
// first maxDirectActive modules, a goroutine of its own for each of the rest.
func (l *loop) startActive(wg *sync.WaitGroup) {
	nDirect := 0
	for _, ms := range l.ordered {
		if ms.active == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.workActive(ms)
		}()
		out := ms.active.EventsOut()
		switch {
		case out == nil:
		case nDirect < maxDirectActive:
			l.direct[nDirect] = out
			l.directMods[nDirect] = ms
			nDirect++
		default:
			l.hasReaders = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				l.readActive(ms, out)
			}()
		}
	}
}

// readActive forwards what ms emits to the loop. It does not look at
// backpressure: while input is paused, the loop stops receiving from the
// emitted channel, so this goroutine blocks holding at most one list and
// stops reading the module.
//
// Each step tries a plain non-blocking channel operation before a blocking
// select over several channels: on a busy node the plain one nearly always
// succeeds, and it costs a fraction of a multi-way select.
func (l *loop) readActive(ms *moduleState, out <-chan *stdtypes.EventList) {
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
		item := inboxItem{kind: itemEmitted, events: evs, mod: ms}
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

// workActive runs ms's ApplyEvents on the batches the loop hands over.
func (l *loop) workActive(ms *moduleState) {
	done := l.modCtx.Done()
	for {
		select {
		case batch := <-ms.work:
			start := l.clock()
			err := applyActive(l.modCtx, ms.active, batch)
			ms.stats.busyNs.Add(int64(l.clock() - start))
			if !l.send(inboxItem{kind: itemActiveDone, mod: ms, err: err}) {
				return
			}
		case <-done:
			return
		}
	}
}
