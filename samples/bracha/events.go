package bracha

import (
	"fmt"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// Events and messages are registered with the codec, one line each: the
// network encodes the messages, an event log records both. The names are
// part of every encoding: renaming one makes recorded data unreadable.
var (
	_ = codec.Register[Broadcast]("bracha.Broadcast")
	_ = codec.Register[Deliver]("bracha.Deliver")
	_ = codec.Register[SendMsg]("bracha.Send")
	_ = codec.Register[EchoMsg]("bracha.Echo")
	_ = codec.Register[ReadyMsg]("bracha.Ready")
	_ = codec.Register[HelloMsg]("bracha.Hello")
)

// Broadcast asks the protocol module of node Origin to broadcast Value as
// its instance Seq.
type Broadcast struct {
	stdtypes.Header
	Origin stdtypes.NodeID
	Seq    uint64
	Value  string
}

// NewBroadcast returns a Broadcast for the protocol module dest of node
// origin.
func NewBroadcast(dest stdtypes.ModuleID, origin stdtypes.NodeID, seq uint64, value string) *Broadcast {
	return &Broadcast{Header: stdtypes.NewHeader(dest), Origin: origin, Seq: seq, Value: value}
}

// Deliver tells the application that instance (Origin, Seq) delivered
// Value.
type Deliver struct {
	stdtypes.Header
	Origin stdtypes.NodeID
	Seq    uint64
	Value  string
}

// SubmittedItem makes Broadcast a testsim.Submission, which the property
// checkers of simulations understand.
func (b *Broadcast) SubmittedItem() testsim.Item {
	return testsim.Item{ID: ItemID(b.Origin, b.Seq), Value: b.Value}
}

// DeliveredItem makes Deliver a testsim.Delivery.
func (d *Deliver) DeliveredItem() testsim.Item {
	return testsim.Item{ID: ItemID(d.Origin, d.Seq), Origin: d.Origin, Value: d.Value}
}

// ItemID names instance (origin, seq) for the property checkers, and in
// the output of samples/bracha/node: "origin/seq".
func ItemID(origin stdtypes.NodeID, seq uint64) string { return fmt.Sprintf("%s/%d", origin, seq) }

// The messages. Their sender is not in them: the transport authenticates
// it, and hands it to the receiver with the message.

// SendMsg is the origin's SEND: Value, for its instance Seq.
type SendMsg struct {
	stdtypes.MessageBase
	Seq   uint64
	Value string
}

// EchoMsg is an ECHO: the sender got Value in the SEND of instance
// (Origin, Seq).
type EchoMsg struct {
	stdtypes.MessageBase
	Origin stdtypes.NodeID
	Seq    uint64
	Value  string
}

// ReadyMsg is a READY: the sender is ready to deliver Value for instance
// (Origin, Seq).
type ReadyMsg struct {
	stdtypes.MessageBase
	Origin stdtypes.NodeID
	Seq    uint64
	Value  string
}

// HelloMsg tells the other nodes that the sender started, as its
// Incarnation: each sends it again what it had sent it (see the package
// documentation, "Restarts").
type HelloMsg struct {
	stdtypes.MessageBase
	Incarnation uint64
}
