package bracha

import (
	"fmt"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

var (
	_ = codec.Register[Broadcast]("rbc.Broadcast")
	_ = codec.Register[Deliver]("rbc.Deliver")
	_ = codec.Register[Tick]("rbc.Tick")
	_ = codec.Register[Send]("rbc.Send")
	_ = codec.Register[Echo]("rbc.Echo")
	_ = codec.Register[Ready]("rbc.Ready")
)

// Broadcast asks the protocol module of node Origin to broadcast Value as
// instance (Origin, Seq).
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

// SubmittedItem makes Broadcast a testsim.Submission.
func (b *Broadcast) SubmittedItem() testsim.Item {
	return testsim.Item{ID: ItemID(b.Origin, b.Seq), Value: b.Value}
}

// Deliver tells the application that instance (Origin, Seq) delivered
// Value.
type Deliver struct {
	stdtypes.Header
	Origin stdtypes.NodeID
	Seq    uint64
	Value  string
}

// DeliveredItem makes Deliver a testsim.Delivery.
func (d *Deliver) DeliveredItem() testsim.Item {
	return testsim.Item{ID: ItemID(d.Origin, d.Seq), Origin: d.Origin, Value: d.Value}
}

// ItemID names instance (origin, seq) for the property checkers.
func ItemID(origin stdtypes.NodeID, seq uint64) string { return fmt.Sprintf("%s/%d", origin, seq) }

// Tick is the timer's reminder to retransmit.
type Tick struct {
	stdtypes.Header
}

// Send is the origin's proposal of Value for instance (sender, Seq).
type Send struct {
	stdtypes.MessageBase
	Seq   uint64
	Value string
	Done  bool
}

// Echo repeats the value a node got in the origin's Send.
type Echo struct {
	stdtypes.MessageBase
	Origin stdtypes.NodeID
	Seq    uint64
	Value  string
	Done   bool
}

// Ready says that a node is ready to deliver Value.
type Ready struct {
	stdtypes.MessageBase
	Origin stdtypes.NodeID
	Seq    uint64
	Value  string
	Done   bool
}
