package tcp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	gonet "net"
	"sync"
	"sync/atomic"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Transport is the TCP transport of one node. It implements net.Transport;
// see the package documentation for how it works.
type Transport struct {
	id      stdtypes.NodeID
	members *membership.Membership
	opts    Options
	logger  *logging.Logger
	// serverTLS is the listener's TLS configuration.
	serverTLS *tls.Config
	// dec decodes the messages of data frames, within MaxFrameBytes.
	dec *codec.Decoder

	// peers holds every other member; read-only after New.
	peers map[stdtypes.NodeID]*peer
	// self counts the messages the node sends itself.
	self counters

	// out is the incoming queue, the node's EventsOut: lists of
	// MessageReceived events.
	out chan *stdtypes.EventList

	// mu guards state, listener, conns and stopWatch. ApplyEvents holds it
	// for reading throughout, so that Stop, which takes it for writing,
	// comes entirely before or after each call.
	mu       sync.RWMutex
	state    net.State
	listener gonet.Listener
	// conns holds every open connection, so that Stop can close them.
	conns     map[gonet.Conn]struct{}
	stopWatch func() bool
	watching  atomic.Bool

	// ctx ends when the transport stops; dials and handshakes use it.
	ctx    context.Context
	cancel context.CancelFunc
	// stopped is closed once Stop has finished.
	stopped chan struct{}
	// wg counts the transport's goroutines.
	wg sync.WaitGroup
	// handshakes is a semaphore of MaxPendingHandshakes slots.
	handshakes chan struct{}
	// warnings limits the warnings about refused connections and lost
	// peers (see warnInterval).
	warnings *warnLimiter

	droppedInvalid, droppedUnknown, droppedTooLarge, refused atomic.Uint64
	// stray counts the messages for the transport itself it dropped.
	stray modules.StrayMessages

	// arena and selfList are used by ApplyEvents only, which the node
	// never runs twice at once.
	arena    frameArena
	selfList *stdtypes.EventList
}

var _ net.Transport = (*Transport)(nil)

// New returns the transport of node self, a member of members, whose
// private key is key (the one whose public key the membership gives self).
// The transport does nothing until Start.
func New(self stdtypes.NodeID, members *membership.Membership, key crypto.PrivateKey, opts Options) (*Transport, error) {
	if members == nil {
		return nil, errors.New("tcp: nil membership")
	}
	node, ok := members.Node(self)
	if !ok {
		return nil, fmt.Errorf("tcp: node %q is not in the membership", self)
	}
	if !key.Public().Equal(node.PublicKey) {
		return nil, fmt.Errorf("tcp: the private key does not match the public key of node %q in the membership", self)
	}
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("tcp: invalid options: %w", err)
	}
	if opts.ListenAddr == "" {
		opts.ListenAddr = node.Addr
	}
	cert, err := selfSignedCert(self, key)
	if err != nil {
		return nil, fmt.Errorf("tcp: %w", err)
	}
	dec, err := codec.NewDecoder(codec.Limits{MaxBytes: opts.MaxFrameBytes})
	if err != nil {
		return nil, fmt.Errorf("tcp: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &Transport{
		id:         self,
		members:    members,
		opts:       opts,
		logger:     opts.Logger.With("node", string(self), "module", "tcp"),
		serverTLS:  serverTLSConfig(cert, members),
		dec:        dec,
		peers:      make(map[stdtypes.NodeID]*peer, members.Len()),
		out:        make(chan *stdtypes.EventList, opts.IncomingQueueLists),
		conns:      make(map[gonet.Conn]struct{}),
		ctx:        ctx,
		cancel:     cancel,
		stopped:    make(chan struct{}),
		handshakes: make(chan struct{}, opts.MaxPendingHandshakes),
		warnings:   newWarnLimiter(),
	}
	for _, n := range members.Nodes() {
		if n.ID != self {
			t.peers[n.ID] = newPeer(t, n, clientTLSConfig(cert, n.ID, n.PublicKey))
		}
	}
	return t, nil
}

// ID returns the ID of the transport's node.
func (t *Transport) ID() stdtypes.NodeID { return t.id }

// Addr returns the address the transport listens on; nil before Start.
func (t *Transport) Addr() gonet.Addr {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.listener == nil {
		return nil
	}
	return t.listener.Addr()
}

// Start listens, then starts dialing every peer in the background: a peer
// that is not up yet is redialed until it is. It returns an error if the
// transport cannot listen, net.ErrStopped after Stop, and nil if the
// transport is started already.
func (t *Transport) Start() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.state.Start(t.start); err != nil {
		return fmt.Errorf("tcp: transport of node %q: %w", t.id, err)
	}
	return nil
}

// start listens and starts the transport's goroutines. t.mu is held.
func (t *Transport) start() error {
	l := t.opts.Listener
	if l == nil {
		var err error
		var lc gonet.ListenConfig
		if l, err = lc.Listen(t.ctx, "tcp", t.opts.ListenAddr); err != nil {
			return err
		}
	}
	t.listener = l
	t.wg.Add(1)
	go t.acceptLoop(l)
	for _, p := range t.peers {
		t.wg.Add(1)
		go p.run()
	}
	if t.opts.StatsPeriod > 0 {
		t.wg.Add(1)
		go t.logMetrics(t.ctx, t.opts.StatsPeriod)
	}
	t.logger.LogAttrs(logging.LevelDebug, "listening", slog.String("addr", l.Addr().String()))
	return nil
}

// Stop closes the listener and every connection, waits for the transport's
// goroutines to end, and drops what waits in the send queues and in the
// incoming queue, counting it. A call while another is in progress waits
// for it. The transport also stops when the context of its ApplyEvents
// ends, that is, when its node stops.
func (t *Transport) Stop() {
	t.mu.Lock()
	if !t.state.Stop() {
		t.mu.Unlock()
		<-t.stopped
		return
	}
	t.cancel()
	if t.stopWatch != nil {
		t.stopWatch()
	}
	l := t.listener
	conns := make([]gonet.Conn, 0, len(t.conns))
	for c := range t.conns {
		conns = append(conns, c)
	}
	t.mu.Unlock()

	if l != nil {
		l.Close()
	} else if t.opts.Listener != nil {
		t.opts.Listener.Close() // Never started: the listener is ours all the same.
	}
	for _, c := range conns {
		c.Close()
	}
	t.wg.Wait()
	for _, p := range t.peers {
		p.close()
	}
	t.drain()
	close(t.stopped)
}

// drain empties the incoming queue, moving what it held from the receive
// counters to the drop counters. Nothing adds to it any more.
func (t *Transport) drain() {
	for {
		select {
		case list := <-t.out:
			for _, ev := range list.Slice() {
				c := t.countersOf(ev.(*stdevents.MessageReceived).From)
				c.msgsIn.Add(^uint64(0)) // Minus one.
				c.droppedIn.Add(1)
			}
		default:
			return
		}
	}
}

// countersOf returns the counters of member id.
func (t *Transport) countersOf(id stdtypes.NodeID) *counters {
	if id == t.id {
		return &t.self
	}
	return &t.peers[id].counters
}

// track registers an open connection, so that Stop closes it. It returns
// false, and the caller must close the connection, if the transport is
// stopping.
func (t *Transport) track(c gonet.Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state == net.StateStopped {
		return false
	}
	t.conns[c] = struct{}{}
	return true
}

// untrack closes c and forgets it.
func (t *Transport) untrack(c gonet.Conn) {
	c.Close()
	t.mu.Lock()
	delete(t.conns, c)
	t.mu.Unlock()
}

// isStopping reports whether Stop has begun.
func (t *Transport) isStopping() bool { return t.ctx.Err() != nil }

// EventsOut returns the incoming queue: lists of MessageReceived events.
func (t *Transport) EventsOut() <-chan *stdtypes.EventList { return t.out }

// ApplyEvents sends the messages of the SendMessage events in events. It
// drops and counts a MessageReceived (Metrics.DroppedReceived), and returns
// an error, which stops the node, for any other event but Init, if the
// transport was never started, and for a message that package codec
// cannot encode (an unregistered type): those are bugs of the node, not of
// the network. It never blocks: messages go to the
// peers' queues, or are dropped and counted.
func (t *Transport) ApplyEvents(ctx context.Context, events *stdtypes.EventList) error {
	if t.watching.CompareAndSwap(false, true) {
		t.watch(ctx)
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	switch t.state {
	case net.StateNew:
		return fmt.Errorf("tcp: transport of node %q: %w", t.id, net.ErrNotStarted)
	case net.StateStopped:
		t.dropStopped(events)
		return nil
	}
	for _, ev := range events.Slice() {
		if t.stray.Drop(ev) {
			continue // A peer's message for the transport itself.
		}
		switch ev := ev.(type) {
		case *stdevents.Init:
		case *stdevents.SendMessage:
			if err := t.send(ev); err != nil {
				t.selfList = nil
				return fmt.Errorf("tcp: transport of node %q: %w", t.id, err)
			}
		case nil:
			return fmt.Errorf("tcp: transport of node %q: nil event", t.id)
		default:
			return fmt.Errorf("tcp: transport of node %q: unexpected event %s", t.id, stdtypes.TypeName(ev))
		}
	}
	t.deliverSelf()
	return nil
}

// watch stops the transport once ctx ends: the node cancels it when it
// stops, and nothing reads the incoming queue after that.
func (t *Transport) watch(ctx context.Context) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state == net.StateStopped {
		return
	}
	t.stopWatch = context.AfterFunc(ctx, t.Stop)
}

// send validates one SendMessage and queues its message for each
// destination. The message is encoded once, whatever the number of
// destinations, and not at all if it only goes to the node itself.
func (t *Transport) send(ev *stdevents.SendMessage) error {
	if err := net.ValidateSendMessage(ev); err != nil {
		t.droppedInvalid.Add(1)
		t.logger.LogAttrs(logging.LevelWarn, "dropping invalid SendMessage", slog.String("error", err.Error()))
		return nil
	}
	var f frame // Made at the first remote destination; released at the end.
	var tooLarge error
	for _, dest := range ev.Destinations {
		if dest == t.id {
			t.self.msgsOut.Add(1)
			if t.selfList == nil {
				t.selfList = stdtypes.EmptyList()
			}
			t.selfList.PushBack(stdevents.NewMessageReceived(ev.MsgDest, t.id, ev.Msg))
			continue
		}
		p, ok := t.peers[dest]
		if !ok {
			t.droppedUnknown.Add(1)
			t.logger.LogAttrs(logging.LevelDebug, "dropping message to unknown node",
				slog.String("to", string(dest)), slog.String("msg", stdtypes.TypeName(ev.Msg)))
			continue
		}
		if f.b == nil && tooLarge == nil {
			var err error
			f, err = t.arena.frame(ev.MsgDest, ev.Msg, t.opts.MaxFrameBytes)
			switch {
			case errors.Is(err, errFrameTooLarge):
				tooLarge = err
				t.logger.LogAttrs(logging.LevelWarn, "dropping message too large to send",
					slog.String("msg", stdtypes.TypeName(ev.Msg)), slog.String("error", err.Error()))
			case err != nil:
				return fmt.Errorf("message %s cannot be sent: %w", stdtypes.TypeName(ev.Msg), err)
			}
		}
		if tooLarge != nil {
			t.droppedTooLarge.Add(1)
			p.droppedOut.Add(1)
			continue
		}
		p.enqueue(f)
	}
	f.release()
	return nil
}

// deliverSelf hands the messages the node sent itself during this
// ApplyEvents back to it, as one list, or drops them if the incoming
// queue is full: ApplyEvents must not wait for the node, which may be
// waiting for it.
func (t *Transport) deliverSelf() {
	list := t.selfList
	if list == nil {
		return
	}
	t.selfList = nil
	n := uint64(list.Len())
	t.self.msgsIn.Add(n) // Before the node can see them, as in emit.
	select {
	case t.out <- list:
	default:
		t.self.msgsIn.Add(-n)
		t.self.droppedIn.Add(n)
		t.logger.LogAttrs(logging.LevelDebug, "incoming queue full, dropping messages to self", slog.Uint64("messages", n))
	}
}

// dropStopped counts the messages of events, sent by a stopped transport,
// as dropped.
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
			switch p, ok := t.peers[dest]; {
			case dest == t.id:
				t.self.droppedOut.Add(1)
			case ok:
				p.droppedOut.Add(1)
			default:
				t.droppedUnknown.Add(1)
			}
		}
	}
}
