package protocol

import (
	"errors"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// Messages and events are registered with the codec: the network encodes
// messages, and an event log will record both.
var (
	_ = codec.Register[Ping]("pingpong.Ping")
	_ = codec.Register[Pong]("pingpong.Pong")
	_ = codec.Register[Tick]("pingpong.Tick")
	_ = codec.Register[PingSent]("pingpong.PingSent")
	_ = codec.Register[PongReceived]("pingpong.PongReceived")
	_ = codec.Register[Finished]("pingpong.Finished")
)

// ErrZeroSeq is returned by Validate for sequence number 0: sequence
// numbers start at 1, so 0 marks a malformed message.
var ErrZeroSeq = errors.New("sequence number 0")

// Ping asks a peer for a Pong with the same sequence number.
type Ping struct {
	stdtypes.MessageBase
	Seq uint64
}

// Validate reports whether the Ping is well-formed.
func (m *Ping) Validate() error {
	if m.Seq == 0 {
		return ErrZeroSeq
	}
	return nil
}

// Pong answers the Ping with the same sequence number.
type Pong struct {
	stdtypes.MessageBase
	Seq uint64
}

// Validate reports whether the Pong is well-formed.
func (m *Pong) Validate() error {
	if m.Seq == 0 {
		return ErrZeroSeq
	}
	return nil
}

// Tick is what the timer hands the protocol every interval: time to ping.
type Tick struct {
	stdtypes.Header
}

// NewTick returns a Tick for the protocol module dest.
func NewTick(dest stdtypes.ModuleID) *Tick { return &Tick{Header: stdtypes.NewHeader(dest)} }

// PingSent tells the reporter that Ping Seq has just been sent to every
// target.
type PingSent struct {
	stdtypes.Header
	Seq uint64
}

// NewPingSent returns a PingSent for the reporter dest.
func NewPingSent(dest stdtypes.ModuleID, seq uint64) *PingSent {
	return &PingSent{Header: stdtypes.NewHeader(dest), Seq: seq}
}

// PongReceived tells the reporter that From answered Ping Seq.
type PongReceived struct {
	stdtypes.Header
	From stdtypes.NodeID
	Seq  uint64
}

// NewPongReceived returns a PongReceived for the reporter dest.
func NewPongReceived(dest stdtypes.ModuleID, from stdtypes.NodeID, seq uint64) *PongReceived {
	return &PongReceived{Header: stdtypes.NewHeader(dest), From: from, Seq: seq}
}

// Finished tells the reporter that the pinger has all the pongs it wanted.
type Finished struct {
	stdtypes.Header
}

// NewFinished returns a Finished for the reporter dest.
func NewFinished(dest stdtypes.ModuleID) *Finished {
	return &Finished{Header: stdtypes.NewHeader(dest)}
}
