package batchfetcher

import (
	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdtypes"
)

// The events between the batch fetcher and the application (in Trantor,
// the module that wraps the user's App). The names are part of every
// encoding: renaming one makes recorded data unreadable.
var (
	_ = codec.Register[Execute]("batchfetcher.Execute")
	_ = codec.Register[SnapshotRequest]("batchfetcher.SnapshotRequest")
	_ = codec.Register[AppSnapshot]("batchfetcher.AppSnapshot")
	_ = codec.Register[RestoreApp]("batchfetcher.RestoreApp")
)

// Execute hands the application the transactions of slot SeqNr of epoch
// Epoch to execute, in order: those of the slot's batch that were not
// executed before, that fall in the slot's leader's buckets and in their
// client's window. Slots come in the order of the log; a slot with no
// such transaction (⊥, an empty value, all dropped) gives no Execute.
// Txs share memory with the batch availability provided: the application
// must not modify them.
type Execute struct {
	stdtypes.Header
	Epoch stdtypes.EpochNr
	SeqNr stdtypes.SeqNr
	Txs   []mempool.Tx
}

// SnapshotRequest asks the application for its state after every Execute
// it received so far (the slots before SeqNr, the first of the epoch after
// Epoch), and for the membership it decides (see iss.SnapshotRequest). The
// answer is an AppSnapshot to ReplyTo, with the same Epoch. The
// application answers before it handles the Executes that follow the
// request: it handles its events in the order the fetcher emitted them.
type SnapshotRequest struct {
	stdtypes.Header
	ReplyTo stdtypes.ModuleID
	Epoch   stdtypes.EpochNr
	SeqNr   stdtypes.SeqNr
}

// AppSnapshot answers a SnapshotRequest: Data is the application's state,
// in whatever encoding it chooses (RestoreApp hands it back), and
// NextVoters the membership it decides (empty: unchanged; see
// iss.Snapshot).
type AppSnapshot struct {
	stdtypes.Header
	Epoch      stdtypes.EpochNr
	Data       []byte
	NextVoters membership.Voters
}

// RestoreApp tells the application to replace its state with Data, the
// Data of an AppSnapshot of epoch Epoch, taken before slot SeqNr: the
// Executes that follow are of slots from SeqNr on.
type RestoreApp struct {
	stdtypes.Header
	Epoch stdtypes.EpochNr
	SeqNr stdtypes.SeqNr
	Data  []byte
}
