package local

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// DefaultQueueCapacity is the default bound of a transport's incoming
// queue, in lists of messages. A list holds what one batch of a sender had
// for this node: one message under light load, under heavy load as many as
// the batch had SendMessage events listing this node (a batch holds up to
// the sender's MaxEventBatchSize events, 512 by default). So the queue absorbs
// bursts of at least 4096 messages from any mix of senders, and a node
// that falls behind, or whose input is paused by backpressure, holds at
// most 4096 lists before messages to it are dropped. (A stopped node holds
// none: Stop empties the queue.)
const DefaultQueueCapacity = 4096

// Options configure a Network. The zero value is the default.
type Options struct {
	// QueueCapacity bounds each transport's incoming queue, in lists of
	// messages (see DefaultQueueCapacity); a list that does not fit is
	// dropped and counted. 0 means DefaultQueueCapacity.
	QueueCapacity int

	// ShareMessages turns off the codec round trip: receivers get the
	// very message values the sender emitted. By default every message to
	// another node is encoded with package codec at the sender and decoded
	// for each receiver, as a real network would do. That costs time but
	// catches, in tests, message types that are not registered or that do
	// not survive encoding (unexported fields, pointers shared between
	// nodes), and no receiver shares memory with its sender: a test
	// passing in process then also passes over TCP. Set it for benchmarks
	// of protocol logic or message types that are never meant to be
	// serialized. Messages to self are never encoded, whatever this says.
	ShareMessages bool

	// Logger receives the transports' log messages: warnings for invalid
	// send requests, debug messages for drops. Nil logs nothing.
	Logger *logging.Logger
}

// Network connects the transports of a fixed set of nodes in one process.
// Its membership is fixed when it is created, so routing a message takes
// no lock.
type Network struct {
	nodes []stdtypes.NodeID // Sorted.
	// transports is read-only after NewNetwork.
	transports    map[stdtypes.NodeID]*Transport
	queueCapacity int
	shareMessages bool
}

// NewNetwork returns a network of the given nodes, each with a transport
// (see Transport). The IDs must be non-empty and distinct.
func NewNetwork(nodes []stdtypes.NodeID, opts Options) (*Network, error) {
	if len(nodes) == 0 {
		return nil, errors.New("local: a network needs at least one node")
	}
	if opts.QueueCapacity < 0 {
		return nil, fmt.Errorf("local: QueueCapacity is %d; it must not be negative", opts.QueueCapacity)
	}
	if opts.QueueCapacity == 0 {
		opts.QueueCapacity = DefaultQueueCapacity
	}
	n := &Network{
		nodes:         slices.Sorted(slices.Values(nodes)),
		transports:    make(map[stdtypes.NodeID]*Transport, len(nodes)),
		queueCapacity: opts.QueueCapacity,
		shareMessages: opts.ShareMessages,
	}
	for i, id := range n.nodes {
		if id == "" {
			return nil, errors.New("local: empty node ID")
		}
		if i > 0 && n.nodes[i-1] == id {
			return nil, fmt.Errorf("local: node %q listed twice", id)
		}
	}
	for _, id := range n.nodes {
		n.transports[id] = newTransport(n, id, opts.Logger.With("node", string(id)))
	}
	return n, nil
}

// Nodes returns the IDs of the network's nodes, sorted.
func (n *Network) Nodes() []stdtypes.NodeID { return slices.Clone(n.nodes) }

// Transport returns the transport of node id. Every call returns the same
// transport for the same node.
func (n *Network) Transport(id stdtypes.NodeID) (*Transport, error) {
	t, ok := n.transports[id]
	if !ok {
		return nil, fmt.Errorf("local: node %q: %w", id, net.ErrUnknownNode)
	}
	return t, nil
}

// Stop stops every transport of the network.
func (n *Network) Stop() {
	for _, id := range n.nodes {
		n.transports[id].Stop()
	}
}

// Transport is the transport of one node of a Network. It implements
// net.Transport.
//
// It runs no goroutine: the sender's ApplyEvents puts each message, as a
// ready stdevents.MessageReceived, straight into the receiver's incoming
// queue, which is the channel the receiving node reads (EventsOut). The
// messages a batch has for one node go as one list, so a busy sender costs
// the receiver one channel operation per batch, not per message, and the
// messages between two nodes arrive in the order they were sent (a
// property of this transport only; protocols must not rely on it). If the
// receiver's queue is full, the whole list is dropped and counted: the
// sender never waits for the receiver.
type Transport struct {
	id      stdtypes.NodeID
	network *Network
	logger  *logging.Logger

	// queue is the incoming queue: lists of MessageReceived events for
	// the node, which reads them as the transport's EventsOut. Senders
	// only ever try to send on it without blocking.
	queue chan *stdtypes.EventList

	// mu guards state and stopWatch. Senders hold it for reading while
	// they check the state and queue a list, so that Stop, which holds it
	// for writing, sees every list queued before it and none after.
	mu    sync.RWMutex
	state net.State
	// stopWatch cancels the stop on the end of ApplyEvents' context; nil
	// until the first ApplyEvents.
	stopWatch func() bool
	// watching is set by the first ApplyEvents, which starts the watch.
	watching atomic.Bool

	// peers holds the counters of each node of the network, this one
	// included. The map is read-only after creation.
	peers          map[stdtypes.NodeID]*peerCounters
	droppedInvalid atomic.Uint64
	droppedUnknown atomic.Uint64
	// stray counts the messages for the transport itself it dropped.
	stray modules.StrayMessages

	// outbox collects, during one ApplyEvents, the lists for each
	// destination, in the order of first use. Only ApplyEvents touches
	// it, and the node never runs two ApplyEvents of a module at once.
	outbox []outgoing
}

// outgoing is a list of messages for one destination transport.
type outgoing struct {
	to   *Transport
	list *stdtypes.EventList
}

// peerCounters are the live counters behind net.PeerStats.
type peerCounters struct {
	out, in, droppedOut, droppedIn atomic.Uint64
}

func newTransport(n *Network, id stdtypes.NodeID, logger *logging.Logger) *Transport {
	t := &Transport{
		id:      id,
		network: n,
		logger:  logger,
		queue:   make(chan *stdtypes.EventList, n.queueCapacity),
		peers:   make(map[stdtypes.NodeID]*peerCounters, len(n.nodes)),
	}
	for _, peer := range n.nodes {
		t.peers[peer] = &peerCounters{}
	}
	return t
}

var _ net.Transport = (*Transport)(nil)

// ID returns the ID of the transport's node.
func (t *Transport) ID() stdtypes.NodeID { return t.id }

// Start makes the transport reachable: until then, messages to it are
// dropped. It returns net.ErrStopped after Stop, and nil if the transport
// is started already.
func (t *Transport) Start() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.state.Start(nil); err != nil {
		return fmt.Errorf("local: transport of node %q: %w", t.id, err)
	}
	return nil
}

// Stop makes the transport unreachable and drops the messages in its
// queue that the node has not read yet, counting them as dropped. The
// transport stops by itself when the context of its ApplyEvents ends.
func (t *Transport) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.state.Stop() {
		return
	}
	if t.stopWatch != nil {
		t.stopWatch()
	}
	t.drain()
}

// drain empties the queue, moving what it held from the receive counters
// to the drop counters. t.mu is held for writing, so no sender adds to the
// queue meanwhile; the node may still take lists, which is fine.
func (t *Transport) drain() {
	for {
		select {
		case list := <-t.queue:
			for _, ev := range list.Slice() {
				c := t.peers[ev.(*stdevents.MessageReceived).From]
				c.in.Add(^uint64(0)) // Minus one.
				c.droppedIn.Add(1)
			}
		default:
			return
		}
	}
}

// EventsOut returns the incoming queue: the lists of MessageReceived events
// for this node.
func (t *Transport) EventsOut() <-chan *stdtypes.EventList { return t.queue }

// Stats returns a snapshot of the transport's counters.
func (t *Transport) Stats() net.TransportStats {
	s := net.TransportStats{
		Peers:           make(map[stdtypes.NodeID]net.PeerStats, len(t.peers)),
		DroppedInvalid:  t.droppedInvalid.Load(),
		DroppedUnknown:  t.droppedUnknown.Load(),
		DroppedReceived: t.stray.Count(),
	}
	for id, c := range t.peers {
		s.Peers[id] = net.PeerStats{
			Out:        c.out.Load(),
			In:         c.in.Load(),
			DroppedOut: c.droppedOut.Load(),
			DroppedIn:  c.droppedIn.Load(),
		}
	}
	return s
}

// ApplyEvents sends the messages of the SendMessage events in events. It
// drops and counts a MessageReceived (TransportStats.DroppedReceived), and
// returns an error, which stops the node, for any other event but Init, if
// the transport was never started, and for a message that does not survive
// the codec round trip (see Options.ShareMessages). It never blocks.
func (t *Transport) ApplyEvents(ctx context.Context, events *stdtypes.EventList) error {
	if t.watching.CompareAndSwap(false, true) {
		t.watch(ctx)
	}
	t.mu.RLock()
	st := t.state
	t.mu.RUnlock()
	switch st {
	case net.StateNew:
		return fmt.Errorf("local: transport of node %q: %w", t.id, net.ErrNotStarted)
	case net.StateStopped:
		t.dropStopped(events)
		return nil
	}

	defer t.clearOutbox()
	for _, ev := range events.Slice() {
		if t.stray.Drop(ev) {
			continue // A peer's message for the transport itself.
		}
		switch ev := ev.(type) {
		case *stdevents.Init:
		case *stdevents.SendMessage:
			if err := t.send(ev); err != nil {
				return fmt.Errorf("local: transport of node %q: %w", t.id, err)
			}
		case nil:
			return fmt.Errorf("local: transport of node %q: nil event", t.id)
		default:
			return fmt.Errorf("local: transport of node %q: unexpected event %s", t.id, stdtypes.TypeName(ev))
		}
	}
	for _, o := range t.outbox {
		o.to.deliver(t.id, o.list)
	}
	return nil
}

// watch stops the transport once ctx ends: the node cancels it when it
// stops, and nothing reads the queue after that. context.AfterFunc starts
// no goroutine until ctx ends, and Stop cancels it.
func (t *Transport) watch(ctx context.Context) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state == net.StateStopped {
		return
	}
	t.stopWatch = context.AfterFunc(ctx, t.Stop)
}

// send validates one SendMessage and adds its message, for each
// destination, to the outbox.
func (t *Transport) send(ev *stdevents.SendMessage) error {
	if err := net.ValidateSendMessage(ev); err != nil {
		t.droppedInvalid.Add(1)
		t.logger.LogAttrs(logging.LevelWarn, "local: dropping invalid SendMessage", slog.String("error", err.Error()))
		return nil
	}
	var data []byte // The encoding of ev.Msg, made at most once.
	for _, dest := range ev.Destinations {
		to, ok := t.network.transports[dest]
		if !ok {
			t.droppedUnknown.Add(1)
			t.logger.LogAttrs(logging.LevelDebug, "local: dropping message to unknown node",
				slog.String("to", string(dest)), slog.String("msg", stdtypes.TypeName(ev.Msg)))
			continue
		}
		msg := ev.Msg
		if dest != t.id && !t.network.shareMessages {
			var err error
			if msg, data, err = net.CopyMessage(ev.Msg, data); err != nil {
				return err
			}
		}
		t.peers[dest].out.Add(1)
		t.queueFor(to).PushBack(stdevents.NewMessageReceived(ev.MsgDest, t.id, msg))
	}
	return nil
}

// queueFor returns the outbox list for to, adding one if needed. Batches
// name few destinations, so a linear search beats a map.
func (t *Transport) queueFor(to *Transport) *stdtypes.EventList {
	for _, o := range t.outbox {
		if o.to == to {
			return o.list
		}
	}
	list := stdtypes.EmptyList()
	t.outbox = append(t.outbox, outgoing{to: to, list: list})
	return list
}

// clearOutbox empties the outbox, keeping its space. The lists themselves
// now belong to their receivers.
func (t *Transport) clearOutbox() {
	clear(t.outbox)
	t.outbox = t.outbox[:0]
}

// dropStopped counts the messages of events, sent by a stopped transport,
// as dropped. The transport is going away with its node, so nothing else
// about the events matters.
func (t *Transport) dropStopped(events *stdtypes.EventList) {
	for _, ev := range events.Slice() {
		send, ok := ev.(*stdevents.SendMessage)
		if !ok {
			continue
		}
		if net.ValidateSendMessage(send) != nil {
			t.droppedInvalid.Add(1)
			continue
		}
		for _, dest := range send.Destinations {
			if c, ok := t.peers[dest]; ok {
				c.droppedOut.Add(1)
			} else {
				t.droppedUnknown.Add(1)
			}
		}
	}
}

// deliver puts list, messages from node from, in t's queue, or drops it if
// the queue is full or t is not running. It never blocks.
func (t *Transport) deliver(from stdtypes.NodeID, list *stdtypes.EventList) {
	c := t.peers[from]
	n := uint64(list.Len())
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.state != net.StateStarted {
		c.droppedIn.Add(n)
		t.logger.LogAttrs(logging.LevelDebug, "local: dropping messages to a transport not running",
			slog.String("from", string(from)), slog.Uint64("messages", n))
		return
	}
	select {
	case t.queue <- list:
		c.in.Add(n)
	default:
		c.droppedIn.Add(n)
		t.logger.LogAttrs(logging.LevelDebug, "local: incoming queue full, dropping messages",
			slog.String("from", string(from)), slog.Uint64("messages", n))
	}
}

// ReportStats returns the transport's counters for the node's statistics
// (modules.StatsReporter).
func (t *Transport) ReportStats() any { return t.Stats() }
