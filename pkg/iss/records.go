package iss

import (
	"github.com/mirframework/mir/pkg/checkpoint"
	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// ISS's own events: what it persists in the WAL, and the event it sends
// itself to learn that the WAL has handed back everything. They are
// registered with the codec (the WAL and the event log encode them); the
// names are part of every encoding.
var (
	_ = codec.Register[StableRecord]("iss.StableRecord")
	_ = codec.Register[EpochRecord]("iss.EpochRecord")
	_ = codec.Register[RecoveryDone]("iss.RecoveryDone")
)

// StableRecord is how ISS persists a stable checkpoint: at a restart it
// restores the application from the latest one and orders on from the
// epoch after it. Its retention index is Cert.Epoch + 1, the first epoch
// it is needed for.
type StableRecord struct {
	stdtypes.Header
	Cert  checkpoint.Certificate
	State checkpoint.State
}

// EpochRecord is how ISS persists that it started epoch Epoch, at slot
// First, with the leaders Leaders. At a restart ISS starts the epochs
// after its latest stable checkpoint again as the log re-reaches them, and
// checks that it chooses the same leaders: the orderers' records of the
// epoch belong to those segments. Its retention index is Epoch.
type EpochRecord struct {
	stdtypes.Header
	Epoch   stdtypes.EpochNr
	First   stdtypes.SeqNr
	Leaders []stdtypes.NodeID
}

// RecoveryDone is the event ISS sends itself when it gets its Init. The
// node hands the WAL's records to their modules right after the Init
// events, before any other input, so RecoveryDone reaches ISS after all of
// them: ISS then knows what it recovered, and starts.
type RecoveryDone struct {
	stdtypes.Header
}
