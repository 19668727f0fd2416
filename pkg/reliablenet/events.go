package reliablenet

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Events and messages are registered with the codec: the network encodes
// the messages, and an event log records both. The names are part of every
// encoding: renaming one makes recorded data unreadable.
var (
	_ = codec.Register[SendMessage]("reliablenet.SendMessage")
	_ = codec.Register[MarkReceived]("reliablenet.MarkReceived")
	_ = codec.Register[Cancel]("reliablenet.Cancel")
	_ = codec.Register[CancelPrefix]("reliablenet.CancelPrefix")
	_ = codec.Register[Tick]("reliablenet.Tick")
	_ = codec.Register[DataMsg]("reliablenet.Data")
	_ = codec.Register[AckMsg]("reliablenet.Ack")
)

// MsgID names a message a protocol sends reliably, so that it can cancel it
// later. It is the protocol's choice, unique among the messages it has in
// flight to one destination module; a prefix of it names a group (see
// CancelPrefix): "3/17/final" is in the groups "3/17/" and "3/". IDs stay
// on the node: the network never sees them.
type MsgID string

// MaxMsgIDBytes bounds a message ID, which the module keeps for every
// message in flight.
const MaxMsgIDBytes = 256

// validate reports why id cannot name a message.
func (id MsgID) validate() error {
	if len(id) == 0 || len(id) > MaxMsgIDBytes {
		return fmt.Errorf("message ID of %d bytes; want 1 to %d", len(id), MaxMsgIDBytes)
	}
	return nil
}

// ErrInvalidEvent is wrapped by the errors of events a local module got
// wrong: they stop the node.
var ErrInvalidEvent = errors.New("invalid event")

// ErrFull is wrapped by the error of a SendMessage beyond
// ModuleParams.MaxPendingMessages or MaxPendingBytes.
var ErrFull = errors.New("too much in flight")

// SendMessage asks the module to send Msg to module MsgDest of each of
// Destinations, and to retransmit it to each until it acknowledges it or
// the message is cancelled. A destination may be this node: the module
// delivers the message to MsgDest at once.
//
// A destination may get the message more than once: each copy that
// arrives is delivered (see the package documentation).
type SendMessage struct {
	stdtypes.Header
	// MsgDest is the module that receives Msg, on each destination
	// node; it must be one of ModuleConfig.Users.
	MsgDest stdtypes.ModuleID
	// MsgID names the message until it is acknowledged or cancelled: no
	// other message to MsgDest in flight may have it.
	MsgID MsgID
	// Msg is the message. Like any emitted event, it must not change
	// afterwards: the module sends it again as it is.
	Msg stdtypes.Message
	// Destinations are the nodes to send to, each once.
	Destinations []stdtypes.NodeID
}

// NewSendMessage returns a SendMessage of msg, named id, to the
// recipients, for the reliablenet module rnet. It keeps to.Nodes (To made
// them a copy of their own). As
// with stdevents.NewSendMessage, the module the message is for comes
// inside to, so that it cannot be swapped with rnet unnoticed:
//
//	reliablenet.NewSendMessage(mc.ReliableNet, "7/final", msg, stdevents.To(mc.Self, nodes...))
func NewSendMessage(rnet stdtypes.ModuleID, id MsgID, msg stdtypes.Message, to stdevents.Recipients) *SendMessage {
	return &SendMessage{
		Header: stdtypes.NewHeader(rnet), MsgDest: to.Module, MsgID: id, Msg: msg,
		Destinations: to.Nodes,
	}
}

// validate reports what the local caller got wrong.
func (ev *SendMessage) validate() error {
	if err := validateName(ev.MsgDest, ev.MsgID); err != nil {
		return err
	}
	switch {
	case ev.Msg == nil:
		return errors.New("no message")
	case len(ev.Destinations) == 0:
		return errors.New("no destinations")
	}
	return validateNodes(ev.Destinations)
}

// MarkReceived tells the module that the Destinations need the message
// MsgID to MsgDest no more (the protocol learned that they have it, or
// gave up on them): it stops retransmitting it to them. Unknown IDs and
// destinations are ignored: the message may be acknowledged already.
type MarkReceived struct {
	stdtypes.Header
	MsgDest      stdtypes.ModuleID
	MsgID        MsgID
	Destinations []stdtypes.NodeID
}

// NewMarkReceived returns a MarkReceived of message id for the
// recipients (the module it was sent to, and the nodes that need it no
// more), for the reliablenet module rnet. It keeps to.Nodes, a copy To made.
func NewMarkReceived(rnet stdtypes.ModuleID, id MsgID, to stdevents.Recipients) *MarkReceived {
	return &MarkReceived{Header: stdtypes.NewHeader(rnet), MsgDest: to.Module, MsgID: id, Destinations: to.Nodes}
}

func (ev *MarkReceived) validate() error {
	if err := validateName(ev.MsgDest, ev.MsgID); err != nil {
		return err
	}
	if len(ev.Destinations) == 0 {
		// Not "all": a list that came out empty by mistake must not
		// cancel the message. Cancel does that.
		return errors.New("no destinations")
	}
	return validateNodes(ev.Destinations)
}

// Cancel tells the module to stop retransmitting the message MsgID to
// MsgDest, to every destination, and to forget it. An unknown ID is
// ignored.
type Cancel struct {
	stdtypes.Header
	MsgDest stdtypes.ModuleID
	MsgID   MsgID
}

// NewCancel returns a Cancel of message id to module msgDest, for the
// reliablenet module rnet.
func NewCancel(rnet, msgDest stdtypes.ModuleID, id MsgID) *Cancel {
	return &Cancel{Header: stdtypes.NewHeader(rnet), MsgDest: msgDest, MsgID: id}
}

// CancelPrefix cancels every message to MsgDest whose ID starts with
// Prefix; an empty Prefix cancels all of them. It is the protocol's garbage
// collection: with IDs such as "epoch/instance/kind", one CancelPrefix
// ends an epoch or an instance. It costs a pass over the messages in
// flight.
type CancelPrefix struct {
	stdtypes.Header
	MsgDest stdtypes.ModuleID
	Prefix  MsgID
}

// NewCancelPrefix returns a CancelPrefix of the messages to module
// msgDest whose IDs start with prefix, for the reliablenet module rnet.
func NewCancelPrefix(rnet, msgDest stdtypes.ModuleID, prefix MsgID) *CancelPrefix {
	return &CancelPrefix{Header: stdtypes.NewHeader(rnet), MsgDest: msgDest, Prefix: prefix}
}

// Tick is the timer's reminder to retransmit (ModuleParams.TickPeriod).
type Tick struct {
	stdtypes.Header
}

// NewTick returns a Tick for the reliablenet module rnet.
func NewTick(rnet stdtypes.ModuleID) *Tick { return &Tick{Header: stdtypes.NewHeader(rnet)} }

// validateName checks a destination module and a message ID from a local
// event.
func validateName(dest stdtypes.ModuleID, id MsgID) error {
	if err := dest.Validate(); err != nil {
		return fmt.Errorf("destination module: %w", err)
	}
	return id.validate()
}

// validateNodes checks that a list of nodes has no empty or repeated one.
func validateNodes(nodes []stdtypes.NodeID) error {
	for i, n := range nodes {
		if n == "" || slices.Contains(nodes[:i], n) {
			return fmt.Errorf("destinations %q: node IDs must be non-empty and distinct", nodes)
		}
	}
	return nil
}

// The messages between reliablenet modules.

// DataMsg carries a message sent reliably. Seq numbers the messages the
// sender's incarnation Incarnation sent: the two name it, on the wire,
// for the acknowledgment.
type DataMsg struct {
	stdtypes.MessageBase
	Incarnation uint64
	Seq         uint64
	// MsgDest is the module that gets Msg on the receiving node.
	MsgDest stdtypes.ModuleID
	Msg     stdtypes.Message
}

// AckMsg tells the sender of the DataMsgs Seqs, sent by its incarnation
// Incarnation, that they arrived and were delivered.
type AckMsg struct {
	stdtypes.MessageBase
	Incarnation uint64
	Seqs        []uint64
}

// MaxAcksPerMessage bounds the numbers in an AckMsg: a node acknowledges
// what one batch of its events brought in one AckMsg per peer, split
// beyond this; a longer one is invalid and dropped before it costs a
// lookup per number.
const MaxAcksPerMessage = 1024
