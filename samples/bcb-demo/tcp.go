package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/internal/cli"
	"github.com/mirframework/mir/pkg/bcb"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/net/tcp"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// leaderPollPeriod is how often a follower that has delivered its -count
// looks whether the leader has left. The transport has no event for a
// closed connection, only metrics.
const leaderPollPeriod = 20 * time.Millisecond

// tcpNode is one node of a membership, over TCP, and what main looks at.
type tcpNode struct {
	id, leader stdtypes.NodeID
	// n is the size of the membership.
	n         int
	transport *tcp.Transport
	node      *mir.Node
	mods      nodeModules
	// acks watches the acknowledgments of the leader's instances: on the
	// leader only, nil elsewhere.
	acks *ackTracker
	// deliveries gets the node's deliveries, from the app module.
	deliveries chan delivery
	// window is the bcb module's ModuleParams.Window.
	window uint64
	// printer prints the deliveries, once run has started.
	printer *orderedPrinter
}

func newTCPNode(o options, logger *logging.Logger) (*tcpNode, error) {
	members, key, err := cli.LoadNode(o.membership, stdtypes.NodeID(o.id), o.key)
	if err != nil {
		return nil, err
	}
	n := &tcpNode{id: stdtypes.NodeID(o.id), leader: stdtypes.NodeID(o.leader), n: members.Len(), deliveries: make(chan delivery, 1024)}
	if n.leader == "" {
		n.leader = members.IDs()[0]
	}
	if _, ok := members.Node(n.leader); !ok {
		return nil, fmt.Errorf("leader %q is not in %s", n.leader, o.membership)
	}
	switch {
	case n.id != n.leader && len(o.texts) > 0:
		return nil, fmt.Errorf("node %s is not the leader (%s): only the leader takes texts", n.id, n.leader)
	case n.id == n.leader && o.count > 0:
		return nil, fmt.Errorf("-count is for the other nodes: the leader stops after its input")
	}
	pubs := make(map[stdtypes.NodeID]crypto.PublicKey, members.Len())
	for _, m := range members.Nodes() {
		pubs[m.ID] = m.PublicKey
	}
	if n.transport, err = tcp.New(n.id, members, key, tcp.Options{Logger: logger}); err != nil {
		return nil, err
	}
	// The incarnation must be higher at every start of the node, so that
	// the others take the instances it leads now for new ones (see
	// bcb.ModuleParams.Incarnation): the start time, read here, outside
	// the protocol, which stays deterministic.
	incarnation := uint64(time.Now().UnixNano())
	if err := n.buildNode(members.IDs(), incarnation, key, pubs, logger.With("node", o.id)); err != nil {
		n.transport.Stop() // Never started; this releases what New made.
		return nil, err
	}
	return n, nil
}

// buildNode makes the node's modules and the node.
func (n *tcpNode) buildNode(ids []stdtypes.NodeID, incarnation uint64, key crypto.PrivateKey, pubs map[stdtypes.NodeID]crypto.PublicKey, logger *logging.Logger) error {
	params := bcbParams(ids, incarnation)
	n.window = params.Window
	mods, m, err := newModules(n.id, params, key, pubs, n.transport, n.deliveries, logger)
	if err != nil {
		return err
	}
	n.mods = m
	var interceptor eventlog.Interceptor // A nil *ackTracker would not be a nil interface.
	if n.id == n.leader {
		n.acks = newAckTracker(bcb.DefaultModuleConfig().Self, n.id, incarnation, ids, params.Window)
		interceptor = n.acks
	}
	n.node, err = mir.NewNode(n.id, mir.DefaultNodeConfig().WithLogger(logger), mods, interceptor)
	return err
}

// run starts the transport and the node, leads or follows, and stops them.
func (n *tcpNode) run(ctx context.Context, o options, stdin io.Reader, stdout io.Writer) error {
	defer n.transport.Stop()
	if err := n.transport.Start(); err != nil {
		return err
	}
	n.printer = newOrderedPrinter(stdout, n.id, n.leader, n.window, o.gapTimeout)
	gaps := newGapTicker(o.gapTimeout)
	defer gaps.Stop()
	fmt.Fprintf(stdout, "node %s of %d listening on %s; node %s broadcasts\n", n.id, n.n, n.transport.Addr(), n.leader)

	runCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nodeDone := make(chan error, 1)
	go func() { nodeDone <- n.node.Run(runCtx) }()
	l := &loop{nodeDone: nodeDone, gaps: gaps.C}

	var result error
	if n.id == n.leader {
		// The input goes in from its own goroutine, so that deliveries
		// are printed while standard input is still being read.
		inputDone := make(chan inputResult, 1)
		go func() { inputDone <- feed(runCtx, n.node, o.texts, stdin) }()
		result = n.lead(ctx, l, o.timeout, inputDone, stdout)
		// The input goroutine ends with runCtx unless it waits for a line
		// of standard input: nothing can stop that but the line, or the
		// process's end.
		cancel()
		if !l.inputOver {
			select {
			case <-inputDone:
			case <-time.After(time.Second):
			}
		}
	} else {
		result = n.follow(ctx, l, o, stdout)
	}
	n.node.Stop()
	if !l.nodeStopped {
		if err := <-nodeDone; err != nil && !errors.Is(err, mir.ErrStopped) && !errors.Is(err, context.Canceled) && result == nil {
			result = fmt.Errorf("node %s: %w", n.id, err)
		}
	}
	// Print what the node delivered and main did not take yet (the app
	// module sends nothing more once the node has stopped).
	for len(n.deliveries) > 0 {
		n.deliver(l, <-n.deliveries)
	}
	n.printer.flush()
	dropped, invalid := n.mods.dropped()
	fmt.Fprintf(stdout, "messages dropped: %d, of which invalid: %d\n", dropped, invalid)
	return result
}

// loop is what the main loop of a node learned that run needs after it.
type loop struct {
	nodeDone <-chan error
	// gaps ticks when the printer should look at its gap (newGapTicker).
	gaps <-chan time.Time
	// nodeStopped tells that the node stopped and nodeDone was read.
	nodeStopped bool
	// inputOver tells that the leader's input ended.
	inputOver bool
	// delivered counts the node's deliveries of the leader's instances.
	delivered uint64
}

// deliver prints a delivery and counts it.
func (n *tcpNode) deliver(l *loop, dv delivery) {
	n.printer.print(dv.ev, time.Now())
	if dv.ev.ID.Leader == n.leader {
		l.delivered++
	}
}

// stopped turns the end of the node into an error.
func (n *tcpNode) stopped(l *loop, err error) error {
	l.nodeStopped = true
	if err == nil || errors.Is(err, mir.ErrStopped) {
		return fmt.Errorf("node %s stopped before the end", n.id)
	}
	return fmt.Errorf("node %s: %w", n.id, err)
}

// lead prints deliveries until the leader has delivered all its input and
// every other node has acknowledged it; or the node fails, the input fails,
// the timeout passes after the input ends, or ctx ends.
func (n *tcpNode) lead(ctx context.Context, l *loop, timeout time.Duration, inputDone <-chan inputResult, stdout io.Writer) error {
	var total uint64
	var deadline <-chan time.Time
	for !l.inputOver || l.delivered < total || !n.acks.complete(total) {
		select {
		case dv := <-n.deliveries:
			n.deliver(l, dv)
		case now := <-l.gaps:
			n.printer.expire(now)
		case <-n.acks.changed:
		case in := <-inputDone:
			if in.err != nil {
				l.inputOver = true
				return in.err
			}
			l.inputOver, total = true, in.count
			deadline = time.After(timeout)
			inputDone = nil
		case err := <-l.nodeDone:
			return n.stopped(l, err)
		case <-deadline:
			return fmt.Errorf("gave up after %v: delivered %d of %d; acknowledged by %s", timeout, l.delivered, total, n.acks.progress())
		case <-ctx.Done():
			return fmt.Errorf("interrupted: delivered %d; acknowledged by %s", l.delivered, n.acks.progress())
		}
	}
	n.printer.flush()
	fmt.Fprintf(stdout, "node %s delivered all %d, and every node acknowledged them\n", n.id, total)
	return nil
}

// follow prints deliveries until ctx ends, and then settles (at most
// linger); or, with a count, until the node has delivered that many of the
// leader's instances and the leader has left, or linger has passed since.
// With a count, it gives up when the leader's instances stop coming for
// the timeout: the leader is gone, or cut off.
func (n *tcpNode) follow(ctx context.Context, l *loop, o options, stdout io.Writer) error {
	count := o.count
	// poll and lingerEnd are set once the count is reached; idle, while
	// it is not.
	var poll, lingerEnd, idle <-chan time.Time
	var idleTimer *time.Timer
	if count > 0 {
		idleTimer = time.NewTimer(o.timeout)
		defer idleTimer.Stop()
		idle = idleTimer.C
	}
	for done := false; !done; {
		if count > 0 && l.delivered >= count && poll == nil {
			// The last ACK may still be in the transport's queue, which
			// Stop drops: wait for the leader, which leaves once every
			// node acknowledged everything.
			if n.leaderGone() {
				break
			}
			ticker := time.NewTicker(leaderPollPeriod)
			defer ticker.Stop()
			poll, lingerEnd, idle = ticker.C, time.After(o.linger), nil
		}
		select {
		case dv := <-n.deliveries:
			before := l.delivered
			n.deliver(l, dv)
			if idle != nil && l.delivered > before {
				idleTimer.Reset(o.timeout)
			}
		case now := <-l.gaps:
			n.printer.expire(now)
		case <-idle:
			state := "up"
			if n.leaderGone() {
				state = "down"
			}
			return fmt.Errorf("gave up after %v without a delivery: delivered %d of %d (the connection from leader %s is %s)",
				o.timeout, l.delivered, count, n.leader, state)
		case <-poll:
			done = n.leaderGone()
		case <-lingerEnd:
			done = true
		case err := <-l.nodeDone:
			return n.stopped(l, err)
		case <-ctx.Done():
			if err := n.settle(l, o.linger); err != nil {
				return err
			}
			if count > 0 && l.delivered < count {
				return fmt.Errorf("interrupted after %d of %d deliveries", l.delivered, count)
			}
			return nil
		}
	}
	n.printer.flush()
	fmt.Fprintf(stdout, "node %s delivered all %d\n", n.id, l.delivered)
	return nil
}

// settle lets what the node owes the leader reach it before the node
// stops, for at most linger: its ECHOs and ACKs, which the reliablenet
// module holds until the leader acknowledges them, and what waits in the
// transport's queues, which Stop drops. A follower that stopped at once
// would take with it the ACKs of what it delivered last: the leader would
// wait for them until it gave up on the node (bcb.ModuleParams.RetainTicks),
// and go on sending it those instances meanwhile, so that the node, if it
// restarted, would deliver them again. It stops waiting if the leader
// has left, and prints what the node delivers meanwhile.
func (n *tcpNode) settle(l *loop, linger time.Duration) error {
	if n.settled() {
		return nil
	}
	ticker := time.NewTicker(leaderPollPeriod)
	defer ticker.Stop()
	end := time.After(linger)
	for {
		select {
		case dv := <-n.deliveries:
			n.deliver(l, dv)
		case <-ticker.C:
			if n.settled() {
				return nil
			}
		case <-end:
			return nil
		case err := <-l.nodeDone:
			return n.stopped(l, err)
		}
	}
}

// settled tells whether the leader has everything the node sent it, or
// has left: every message the bcb module sent reached the reliablenet
// module (an ACK emitted with the delivery main just printed may still
// wait in the node's event buffer, where reliablenet's Pending does not
// see it), the reliablenet module has nothing unacknowledged in flight (a
// follower sends only to the leader), and the transport's queues are
// empty.
func (n *tcpNode) settled() bool {
	if n.leaderGone() {
		return true
	}
	if rst := n.mods.rnet.Stats(); rst.Sent < n.mods.bcb.Stats().Sent || rst.Pending > 0 {
		return false
	}
	for _, p := range n.transport.Metrics().Peers {
		if p.QueueMessages > 0 {
			return false
		}
	}
	return true
}

// leaderGone tells whether the leader's connection to this node is down.
// The node got the leader's messages on it, so the leader has left (or
// the connection broke, which the leader would redial).
func (n *tcpNode) leaderGone() bool {
	return !n.transport.Metrics().Peers[n.leader].Inbound
}

// ackTracker watches, on the leader, the acknowledgments (bcb.AckMsg) that
// reach its bcb module: a node acknowledges an instance once it delivered
// it. It is the node's interceptor (eventlog.Interceptor), which sees
// every event on the node's event loop; it looks at the leader's
// broadcasts and the acknowledgments only, and tells main through changed.
//
// An acknowledgment counts if it names an instance of this incarnation of
// the leader and the digest of what the leader broadcast there: one of an
// earlier incarnation, whose instances had the same numbers, counts for
// nothing. The transport has authenticated its sender, and the demo
// trusts the members to tell the truth about what they delivered.
type ackTracker struct {
	module      stdtypes.ModuleID
	leader      stdtypes.NodeID
	incarnation uint64
	// changed has a value when acked changed since main last looked.
	changed chan struct{}
	// window is the bcb module's ModuleParams.Window. The leader has at
	// most window instances unfinished (not acknowledged by every node),
	// so a node acknowledges no instance window or more above the oldest
	// one it has not acknowledged, unless the leader gave up on it, after
	// which the leader cannot complete anyway. Ignoring acknowledgments
	// beyond bounds what a Byzantine node can make the tracker hold.
	window uint64

	mu sync.Mutex
	// acked holds, for each node but the leader, the instances it
	// acknowledged: all below low, and those in above.
	acked map[stdtypes.NodeID]*ackedSet
	// order is the nodes of acked, for messages.
	order []stdtypes.NodeID
	// digests are those of the leader's broadcasts from pruned on, the
	// first not acknowledged by every node: the bcb module holds no more
	// than Window + MaxQueuedBroadcasts of them (it stops the node
	// beyond), and neither does the tracker.
	digests map[uint64][]byte
	pruned  uint64
}

// ackedSet is the instances one node acknowledged.
type ackedSet struct {
	low   uint64
	above map[uint64]bool
}

func newAckTracker(module stdtypes.ModuleID, leader stdtypes.NodeID, incarnation uint64, ids []stdtypes.NodeID, window uint64) *ackTracker {
	t := &ackTracker{
		module: module, leader: leader, incarnation: incarnation, changed: make(chan struct{}, 1), window: window,
		acked: make(map[stdtypes.NodeID]*ackedSet), digests: make(map[uint64][]byte),
	}
	for _, id := range ids {
		if id != leader {
			t.acked[id] = &ackedSet{above: make(map[uint64]bool)}
			t.order = append(t.order, id)
		}
	}
	return t
}

var _ eventlog.Interceptor = (*ackTracker)(nil)

// Intercept notes the broadcasts and the acknowledgments among events.
func (t *ackTracker) Intercept(events *stdtypes.EventList) error {
	for _, ev := range events.Slice() {
		if ev.Dest() != t.module {
			continue
		}
		switch ev := ev.(type) {
		case *bcb.Broadcast:
			t.broadcast(ev)
		case *stdevents.MessageReceived:
			if ack, ok := ev.Msg.(*bcb.AckMsg); ok {
				t.add(ev.From, ack)
			}
		}
	}
	return nil
}

// broadcast notes the digest of a broadcast, which its acknowledgments
// name.
func (t *ackTracker) broadcast(b *bcb.Broadcast) {
	id := bcb.InstanceID{Leader: t.leader, Incarnation: t.incarnation, Seq: b.Seq}
	digest := bcb.Digest(id, b.Payload)
	t.mu.Lock()
	defer t.mu.Unlock()
	if b.Seq >= t.pruned && len(t.order) > 0 {
		t.digests[b.Seq] = digest
	}
}

func (t *ackTracker) add(from stdtypes.NodeID, ack *bcb.AckMsg) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, seq := t.acked[from], ack.Seq
	if s == nil || ack.Incarnation != t.incarnation || seq < s.low || seq-s.low >= t.window || s.above[seq] {
		return
	}
	if digest, ok := t.digests[seq]; !ok || !bytes.Equal(digest, ack.Digest) {
		return
	}
	s.above[seq] = true
	for s.above[s.low] {
		delete(s.above, s.low)
		s.low++
	}
	t.prune()
	select {
	case t.changed <- struct{}{}:
	default:
	}
}

// prune forgets the digests of the instances every node acknowledged.
func (t *ackTracker) prune() {
	low := t.pruned
	for i, id := range t.order {
		if l := t.acked[id].low; i == 0 || l < low {
			low = l
		}
	}
	for ; t.pruned < low; t.pruned++ {
		delete(t.digests, t.pruned)
	}
}

// complete tells whether every node acknowledged instances 0 to total-1.
func (t *ackTracker) complete(total uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, s := range t.acked {
		if s.low < total {
			return false
		}
	}
	return true
}

// progress tells, for messages, how many instances each node acknowledged
// without a gap.
func (t *ackTracker) progress() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	parts := make([]string, len(t.order))
	for i, id := range t.order {
		parts[i] = fmt.Sprintf("node %s: %d", id, t.acked[id].low)
	}
	return strings.Join(parts, ", ")
}
