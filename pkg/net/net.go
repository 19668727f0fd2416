package net

import (
	"errors"
	"fmt"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Transport carries messages between nodes. It is the active module a node
// runs under the transport's module ID (typically "net").
//
// ApplyEvents handles:
//   - stdevents.Init: nothing to do;
//   - stdevents.SendMessage: deliver Msg to module MsgDest on each node of
//     Destinations, once per entry, where the transport of that node emits
//     a stdevents.MessageReceived{From: this node's ID} on its EventsOut.
//     A message to the node itself is handed straight back, never encoded.
//     A SendMessage that fails ValidateSendMessage is dropped and counted
//     in TransportStats.DroppedInvalid, not treated as an error; a
//     destination the transport does not know is dropped and counted in
//     TransportStats.DroppedUnknown;
//   - stdevents.MessageReceived: a message from another node addressed to
//     the transport itself. A node never hands it one (a transport is no
//     modules.MessageReceiver), but whatever drives it, it is dropped and
//     counted in TransportStats.DroppedReceived, never an error.
//
// Any other event is an error, which stops the node: it is a wiring bug.
//
// A transport delivers every message to the module its sender named,
// whatever that is: it knows nothing of the node's modules. The node then
// hands it on only to a module that takes messages from other nodes
// (modules.MessageReceiver), and drops and counts one for a module that
// does not exist (mir.ModuleStats.DroppedUnknown of the transport) or that
// takes none (mir.ModuleStats.DroppedMessages of that module). So nothing
// a peer sends can stop the node.
//
// Sending never blocks for long: a message that does not fit in a bounded
// queue is dropped and counted. Transports lose messages (see the package
// documentation); protocols must tolerate it.
//
// The lifecycle is: construct (implementation-specific: membership,
// addresses, keys), Start, run the node, Stop. The methods beyond the
// module's are the few every implementation needs and a deployment must
// call whatever the transport:
type Transport interface {
	modules.ActiveModule

	// Start makes the transport ready to send and receive: a TCP transport
	// listens and dials here, so that a port in use or a bad address is an
	// error before the node runs, not a failure inside the event loop.
	// Call it once, before running the node; the transport's ApplyEvents
	// fails with ErrNotStarted if it was not called. A stopped transport
	// cannot be started again: Start then returns ErrStopped. (State
	// keeps these rules for an implementation.)
	Start() error

	// Stop stops sending and receiving and releases what the transport
	// holds (connections, goroutines, queued messages). Messages sent to or
	// by a stopped transport are dropped and counted. Stop may be called
	// more than once and at any time, also while the node runs; it waits
	// for no message to be delivered. A transport also stops by itself when
	// the context of its ApplyEvents ends, that is, when its node stops.
	Stop()

	// Stats returns a snapshot of the transport's counters. It is safe to
	// call from any goroutine at any time.
	Stats() TransportStats
}

// ErrStopped is returned by Transport.Start once the transport has been
// stopped.
var ErrStopped = errors.New("transport stopped")

// ErrUnknownNode is returned by a network of transports (local.Network,
// sim.Network) asked about a node that is not one of its nodes.
var ErrUnknownNode = errors.New("unknown node")

// Reasons a SendMessage is invalid. ValidateSendMessage wraps one of them.
var (
	ErrNilMessage     = errors.New("nil message")
	ErrNoDestinations = errors.New("no destinations")
	ErrBadModuleID    = errors.New("invalid destination module")
)

// ValidateSendMessage reports why ev cannot be sent: it has no message, no
// destination node, or an invalid destination module ID. Every transport
// calls it before sending, and drops and counts what it rejects.
func ValidateSendMessage(ev *stdevents.SendMessage) error {
	switch {
	case ev == nil:
		return fmt.Errorf("nil SendMessage event: %w", ErrNilMessage)
	case ev.Msg == nil:
		return ErrNilMessage
	case len(ev.Destinations) == 0:
		return ErrNoDestinations
	}
	if err := ev.MsgDest.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadModuleID, err)
	}
	return nil
}

// PeerStats counts the messages exchanged with one peer (which may be the
// node itself). A message sent to several nodes counts once per
// destination. Each drop is counted once, where it happened: by the sender
// if the message never left it, by the receiver if it arrived and could not
// be queued. So, between two transports a and b, every message a counts in
// Out for b ends up in b's In or DroppedIn for a, unless it is still in
// flight.
type PeerStats struct {
	// Out is the number of messages handed to the network for this peer.
	Out uint64
	// In is the number of messages from this peer put in the queue to the
	// node.
	In uint64
	// DroppedOut is the number of messages for this peer dropped before
	// they left this node: the transport was stopped, a send queue was
	// full, the connection was down.
	DroppedOut uint64
	// DroppedIn is the number of messages from this peer dropped on
	// arrival: the incoming queue was full, the transport was not started
	// or stopped, the message did not decode.
	DroppedIn uint64
}

// Add returns the sum of s and o.
func (s PeerStats) Add(o PeerStats) PeerStats {
	return PeerStats{
		Out:        s.Out + o.Out,
		In:         s.In + o.In,
		DroppedOut: s.DroppedOut + o.DroppedOut,
		DroppedIn:  s.DroppedIn + o.DroppedIn,
	}
}

// TransportStats are a transport's counters since it was created.
type TransportStats struct {
	// Peers holds the counters of each peer the transport knows, the node
	// itself included. Unknown destinations are not in it, so that its
	// size is bounded by the membership.
	Peers map[stdtypes.NodeID]PeerStats
	// DroppedInvalid is the number of SendMessage events dropped because
	// they failed ValidateSendMessage.
	DroppedInvalid uint64
	// DroppedUnknown is the number of messages dropped because their
	// destination is not a node the transport knows, once per destination.
	DroppedUnknown uint64
	// DroppedReceived is the number of messages from other nodes
	// (stdevents.MessageReceived) addressed to the transport itself, which
	// takes none, and which it dropped.
	DroppedReceived uint64
}

// Total returns the sum of the counters of all peers.
func (s TransportStats) Total() PeerStats {
	var t PeerStats
	for _, p := range s.Peers {
		t = t.Add(p)
	}
	return t
}
