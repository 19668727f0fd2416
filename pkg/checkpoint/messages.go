package checkpoint

import (
	"slices"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// The module's messages and its own timer events, registered with the
// codec: the network encodes the messages, and an event log records both.
// The names are part of every encoding: renaming one makes recorded data
// unreadable.
var (
	_ = codec.Register[CheckpointMsg]("checkpoint.Checkpoint")
	_ = codec.Register[StableCheckpointMsg]("checkpoint.StableCheckpoint")
	_ = codec.Register[SnapshotRequestMsg]("checkpoint.SnapshotRequest")
	_ = codec.Register[SnapshotResponseMsg]("checkpoint.SnapshotResponse")
	_ = codec.Register[Tick]("checkpoint.Tick")
	_ = codec.Register[SnapshotTimeout]("checkpoint.SnapshotTimeout")
	_ = codec.Register[SendLatest]("checkpoint.SendLatest")
)

// CheckpointMsg is CHECKPOINT: the sender, a voter of epoch Epoch, signed
// SignedBytes(Epoch, SeqNr, StateHash). It goes to the epoch's other
// voters through the reliablenet module.
type CheckpointMsg struct {
	stdtypes.MessageBase
	Epoch     stdtypes.EpochNr
	SeqNr     stdtypes.SeqNr
	StateHash []byte
	Sig       []byte
}

// StableCheckpointMsg is STABLECHECKPOINT: the sender's latest stable
// checkpoint certificate, sent to every node it knows every
// ModuleParams.ResendPeriod, and to a node that sends it messages of an
// epoch it has garbage-collected.
type StableCheckpointMsg struct {
	stdtypes.MessageBase
	Cert Certificate
}

// SnapshotRequestMsg is SNAPSHOTREQUEST: the sender asks for the State of
// the stable checkpoint of epoch Epoch.
type SnapshotRequestMsg struct {
	stdtypes.MessageBase
	Epoch stdtypes.EpochNr
}

// SnapshotResponseMsg is SNAPSHOTRESPONSE: the State of a retained stable
// checkpoint. The receiver checks it against the certificate it holds.
type SnapshotResponseMsg struct {
	stdtypes.MessageBase
	State State
}

// Tick is the timer's reminder (ModuleParams.ResendPeriod) to send the
// latest stable certificate to all, and to renew the serving budget.
type Tick struct {
	stdtypes.Header
}

// NewTick returns a Tick for the checkpoint module dest.
func NewTick(dest stdtypes.ModuleID) *Tick { return &Tick{Header: stdtypes.NewHeader(dest)} }

// SnapshotTimeout tells the module that ModuleParams.SnapshotTimeout has
// passed since it asked a signer for the State of epoch Epoch (its
// Attempt-th request of that state transfer): if the State has not come,
// it asks the next signer.
type SnapshotTimeout struct {
	stdtypes.Header
	Epoch   stdtypes.EpochNr
	Attempt uint64
}

// SendLatest asks the module to send its latest stable certificate to the
// nodes To: ISS sends it for a node whose messages are of an epoch it has
// garbage-collected, so that the node catches up by state transfer
// without waiting for the periodic STABLECHECKPOINT. Each node gets it at
// most once per ResendPeriod, within MaxServesPerPeriod.
type SendLatest struct {
	stdtypes.Header
	To []stdtypes.NodeID
}

// NewSendLatest returns a SendLatest to nodes to, for the checkpoint
// module dest. It copies to.
func NewSendLatest(dest stdtypes.ModuleID, to ...stdtypes.NodeID) *SendLatest {
	return &SendLatest{Header: stdtypes.NewHeader(dest), To: slices.Clone(to)}
}
