package bcb

import (
	"fmt"
	"strconv"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// Events and messages are registered with the codec: the network encodes
// the messages, and an event log records both. The names are part of every
// encoding: renaming one makes recorded data unreadable.
var (
	_ = codec.Register[Broadcast]("bcb.Broadcast")
	_ = codec.Register[Deliver]("bcb.Deliver")
	_ = codec.Register[Tick]("bcb.Tick")
	_ = codec.Register[SendMsg]("bcb.Send")
	_ = codec.Register[EchoMsg]("bcb.Echo")
	_ = codec.Register[FinalMsg]("bcb.Final")
	_ = codec.Register[AckMsg]("bcb.Ack")
)

// InstanceID names one instance of the broadcast: the Seq-th broadcast of
// node Leader in its incarnation Incarnation (ModuleParams.Incarnation).
// Every node can lead instances of its own; a node that restarts numbers
// its broadcasts from 0 again, in a new incarnation.
type InstanceID struct {
	Leader      stdtypes.NodeID
	Incarnation uint64
	Seq         uint64
}

// String returns "leader/incarnation/seq".
func (id InstanceID) String() string {
	return string(id.Leader) + "/" + strconv.FormatUint(id.Incarnation, 10) + "/" + strconv.FormatUint(id.Seq, 10)
}

// Broadcast asks the module (on the leader's node) to broadcast Payload as
// instance (this node, its incarnation, Seq). A node's broadcasts are numbered 0, 1, 2, ...
// without gaps: Seq must be the number of Broadcasts the module has had
// before. Anything else is a bug of the local caller and stops the node.
type Broadcast struct {
	stdtypes.Header
	Seq     uint64
	Payload []byte
}

// NewBroadcast returns a Broadcast of payload as the node's seq-th
// instance, for the bcb module dest.
func NewBroadcast(dest stdtypes.ModuleID, seq uint64, payload []byte) *Broadcast {
	return &Broadcast{Header: stdtypes.NewHeader(dest), Seq: seq, Payload: payload}
}

// Deliver tells the application module (ModuleConfig.App) that instance ID
// delivered Payload. A node delivers each instance at most once, and no two
// correct nodes deliver different payloads for one instance.
type Deliver struct {
	stdtypes.Header
	ID      InstanceID
	Payload []byte
}

// NewDeliver returns a Deliver of payload for instance id to module dest.
func NewDeliver(dest stdtypes.ModuleID, id InstanceID, payload []byte) *Deliver {
	return &Deliver{Header: stdtypes.NewHeader(dest), ID: id, Payload: payload}
}

// Tick is the timer's tick (ModuleParams.TickPeriod), which counts
// ModuleParams.RetainTicks.
type Tick struct {
	stdtypes.Header
}

// NewTick returns a Tick for the bcb module dest.
func NewTick(dest stdtypes.ModuleID) *Tick { return &Tick{Header: stdtypes.NewHeader(dest)} }

// The messages. The leader of an instance is never written in a message:
// it is the sender of a SendMsg or a FinalMsg and the receiver of an
// EchoMsg or an AckMsg, as the transport authenticates them, so no message
// can name a leader other than the one it comes from or goes to. Each
// names the leader's incarnation and the sequence number.

// SendMsg is the textbook's [SEND, m]: the leader proposes Payload for its
// instance (Incarnation, Seq).
type SendMsg struct {
	stdtypes.MessageBase
	Incarnation uint64
	Seq         uint64
	// Low is the lowest instance the leader has not finished: it has
	// given up on the ones below it did not see delivered everywhere, and
	// receivers may forget them too. Seq is less than Low+Window.
	Low     uint64
	Payload []byte
}

// EchoMsg is the textbook's [ECHO, m, σ], sent back to the leader, without
// m: Sig is the sender's signature of the instance's digest (Digest).
type EchoMsg struct {
	stdtypes.MessageBase
	Incarnation uint64
	Seq         uint64
	Sig         []byte
}

// FinalMsg is the textbook's [FINAL, m, Σ]: the payload and a certificate,
// the signatures Sigs[i] by Signers[i] of the instance's digest, from more
// than (n+f)/2 distinct nodes.
type FinalMsg struct {
	stdtypes.MessageBase
	Incarnation uint64
	Seq         uint64
	Low         uint64 // As in SendMsg.
	Payload     []byte
	Signers     []stdtypes.NodeID
	Sigs        [][]byte
}

// AckMsg tells the leader that the sender delivered instance
// (Incarnation, Seq), with the payload whose Digest it names, so that the
// leader can forget the instance once every node has it. It is not in the
// textbook: a leader there keeps every instance for ever.
type AckMsg struct {
	stdtypes.MessageBase
	Incarnation uint64
	Seq         uint64
	Digest      []byte
}

// MaxSignatureBytes bounds a signature in a message: an Ed25519 signature
// has 64 bytes, an ECDSA P-256 one at most 72. Anything longer is invalid
// and is dropped before it costs a verification.
const MaxSignatureBytes = 128

// validSig reports whether sig has a plausible length.
func validSig(sig []byte) error {
	if len(sig) == 0 || len(sig) > MaxSignatureBytes {
		return fmt.Errorf("signature of %d bytes", len(sig))
	}
	return nil
}
