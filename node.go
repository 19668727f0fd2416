package mir

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/mirframework/mir/internal/engine"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// ErrStopped is returned by Run and Debug after Stop, and by InjectEvents
// once the node no longer takes events.
var ErrStopped = errors.New("node stopped")

// inboxCapacity bounds the channel through which injected events and the
// active modules' workers reach the event loop.
const inboxCapacity = 64

// emittedCapacity bounds the channel through which the lists that active
// modules emit reach the event loop. The loop stops receiving from it while
// input is paused, so it is part of what the buffer can exceed
// PauseInputThreshold by: a few lists let the readers run ahead of the loop
// without making that excess large.
const emittedCapacity = 8

// Node is one participant of a distributed system: it runs a set of modules
// and routes events among them. Create it with NewNode, then call Run (or
// Debug) once.
type Node struct {
	// ID is this node's identity in the system.
	ID stdtypes.NodeID
	// Config is the node's configuration. It must not change after NewNode.
	Config *NodeConfig

	modules     modules.Modules
	interceptor eventlog.Interceptor
	logger      *logging.Logger

	// moduleIDs are the IDs of modules, sorted; they fix the order of Init
	// events and of statistics.
	moduleIDs []stdtypes.ModuleID
	// stats holds one entry per module, in moduleIDs order.
	stats []*engine.Counters
	// bufferedEvents mirrors the loop's buffer length for Stats.
	bufferedEvents atomic.Int64
	inputPaused    atomic.Bool
	inputPauses    atomic.Uint64

	// inbox carries injected events and the workers' reports to the loop.
	inbox chan inboxItem
	// emitted carries what active modules emit to the loop.
	emitted chan inboxItem
	// stopRequested is set by Stop and by the end of Run's context; the
	// loop checks it between batches.
	stopRequested atomic.Bool
	stopCh        chan struct{}
	stopOnce      sync.Once
	// started is set by the first Run or Debug.
	started atomic.Bool
	// done is closed once the loop has ended.
	done chan struct{}
}

// NewNode returns a node with ID id, running modules m. The interceptor, if
// not nil, sees every event the node dispatches. The node only checks its
// arguments here; it starts when Run or Debug is called.
func NewNode(id stdtypes.NodeID, config *NodeConfig, m modules.Modules, interceptor eventlog.Interceptor) (*Node, error) {
	if config == nil {
		return nil, errors.New("node config is nil")
	}
	if err := config.Validate(); err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, errors.New("a node needs at least one module")
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("invalid modules: %w", err)
	}
	ids := make([]stdtypes.ModuleID, 0, len(m))
	for mid := range m {
		ids = append(ids, mid)
	}
	slices.Sort(ids)
	stats := make([]*engine.Counters, len(ids))
	for i := range stats {
		stats[i] = &engine.Counters{}
	}
	return &Node{
		ID:          id,
		Config:      config,
		modules:     m,
		interceptor: interceptor,
		logger:      config.Logger.With("node", string(id)),
		moduleIDs:   ids,
		stats:       stats,
		inbox:       make(chan inboxItem, inboxCapacity),
		emitted:     make(chan inboxItem, emittedCapacity),
		stopCh:      make(chan struct{}),
		done:        make(chan struct{}),
	}, nil
}

// Run runs the node until Stop is called (it then returns ErrStopped), ctx
// ends (it returns ctx's error), or something fails: a passive module or
// InjectEvents producing an event for a module that does not exist, a
// module returning an error or panicking, the interceptor returning an
// error. The error then names the module and the events. Nothing a peer
// sends can stop the node: an event that an active module emits for a
// module that does not exist is dropped and counted in
// ModuleStats.DroppedUnknown, since its destination may come from a peer,
// and a message from another node (stdevents.MessageReceived) for a module
// that takes none (see modules.MessageReceiver) is dropped and counted in
// that module's ModuleStats.DroppedMessages. Every module first receives
// an Init event, before any other; then come the events that the modules
// implementing modules.Recoverer (a write-ahead log) recovered, before any
// input (see there). A recovered event for a module the node does not
// have makes Run fail at once.
// Before returning, Run waits for the goroutines it started to end, which
// includes active modules returning from ApplyEvents.
func (n *Node) Run(ctx context.Context) error {
	return n.run(ctx, false, nil)
}

// Debug runs the node in debug mode: it processes only the events given to
// InjectEvents, and instead of processing what the modules produce
// (output, follow-ups, events emitted by active modules) it writes every
// such list to eventsOut, in the order produced. A nil eventsOut discards
// them. No Init is sent: inject it like any other event. This is how a
// recorded run is replayed and stepped through. Debug returns like Run.
func (n *Node) Debug(ctx context.Context, eventsOut chan *stdtypes.EventList) error {
	return n.run(ctx, true, eventsOut)
}

// InjectEvents hands events to the node from outside, as if an active
// module had emitted them (except that backpressure does not hold them
// back). It blocks until the node has taken them or ctx ends, and returns
// ErrStopped if the node has stopped. It may be called before Run.
func (n *Node) InjectEvents(ctx context.Context, events *stdtypes.EventList) error {
	if events.Len() == 0 {
		return nil
	}
	select {
	case <-n.done:
		return ErrStopped
	case <-n.stopCh:
		return ErrStopped
	default:
	}
	select {
	case n.inbox <- inboxItem{kind: itemInjected, events: events}:
		return nil
	case <-n.done:
		return ErrStopped
	case <-n.stopCh:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Stop stops the node: Run or Debug returns ErrStopped soon after, once the
// batch being processed is done. Stop returns at once; calling it more than
// once, or before Run, is fine (Run then returns ErrStopped at once).
func (n *Node) Stop() {
	n.stopOnce.Do(func() {
		n.stopRequested.Store(true)
		close(n.stopCh)
	})
}

func (n *Node) run(ctx context.Context, debug bool, eventsOut chan *stdtypes.EventList) error {
	if !n.started.CompareAndSwap(false, true) {
		return errors.New("node already started: Run and Debug may be called once")
	}
	defer close(n.done)
	if n.stopRequested.Load() {
		return ErrStopped
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}

	// Active modules get a context that ends when the loop does, so that
	// their goroutines end with the node however it stops.
	modCtx, cancel := context.WithCancel(ctx)
	l := newLoop(n, modCtx, debug, eventsOut)
	var wg sync.WaitGroup
	l.startActive(&wg)
	stopWatch := context.AfterFunc(ctx, func() { n.stopRequested.Store(true) })
	n.startStatsLogger(modCtx, &wg)

	err := l.run(ctx)

	stopWatch()
	cancel()
	wg.Wait()
	n.logger.Log(logging.LevelDebug, "node stopped", "reason", err)
	return err
}
