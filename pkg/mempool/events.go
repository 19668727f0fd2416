package mempool

import (
	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/stdtypes"
)

// The events between the mempool, the module that brings clients'
// transactions (Trantor's client server), the module that cuts batches
// for proposals (availability) and the one that executes (the batch
// fetcher). The names are part of every encoding: renaming one makes
// recorded data unreadable.
var (
	_ = codec.Register[NewTxs]("mempool.NewTxs")
	_ = codec.Register[RequestBatch]("mempool.RequestBatch")
	_ = codec.Register[NewBatch]("mempool.NewBatch")
	_ = codec.Register[CancelBatch]("mempool.CancelBatch")
	_ = codec.Register[ReturnTxs]("mempool.ReturnTxs")
	_ = codec.Register[Executed]("mempool.Executed")
	_ = codec.Register[Watermarks]("mempool.Watermarks")
	_ = codec.Register[EpochExecuted]("mempool.EpochExecuted")
)

// TxID names a transaction: its client and the client's number for it. A
// client numbers its transactions from 0; each is executed at most once.
type TxID struct {
	ClientID string
	TxNo     uint64
}

// Tx is a client's transaction: what it asks the replicated application
// to execute.
type Tx struct {
	TxID
	Data []byte
}

// NewTxs hands the mempool transactions from clients. They are untrusted
// input: the mempool drops (and counts) those it does not keep.
type NewTxs struct {
	stdtypes.Header
	Txs []Tx
}

// RequestBatch asks the mempool for a batch of transactions of the given
// buckets (of ISS's NumBuckets). The mempool answers with a NewBatch to
// ReplyTo with the same Ref once it has a batch to give: at once if it
// holds enough transactions of those buckets, else when its batch timeout
// expires with at least one, or when one arrives. It never answers with an
// empty batch; a CancelBatch takes the request back.
//
// Epoch is the epoch of the proposal the batch is for. The mempool answers
// only once it knows that every slot of the epochs before Epoch was
// executed (EpochExecuted): a bucket changes leader at every epoch, and
// until this node has executed the slots of the earlier epochs, its
// mempool still holds, waiting, the transactions another leader ordered
// there, and would give them out to be ordered a second time.
type RequestBatch struct {
	stdtypes.Header
	ReplyTo stdtypes.ModuleID
	Ref     uint64
	Buckets []int
	Epoch   stdtypes.EpochNr
}

// NewBatch answers a RequestBatch. The transactions are the mempool's
// until they are executed (Executed) or handed back (ReturnTxs): it does
// not give them out again meanwhile.
type NewBatch struct {
	stdtypes.Header
	Ref uint64
	Txs []Tx
}

// CancelBatch takes back the RequestBatch with Ref, if the mempool has not
// answered it yet; one already answered is a no-op.
type CancelBatch struct {
	stdtypes.Header
	Ref uint64
}

// ReturnTxs hands back transactions of a NewBatch that will not be
// executed from it (its proposal was not ordered): the mempool may give
// them out again.
type ReturnTxs struct {
	stdtypes.Header
	Txs []TxID
}

// Executed tells the mempool that these transactions were executed (by the
// batch fetcher, in the order of the log), wherever they came from: it
// forgets them and drops them when they come again.
type Executed struct {
	stdtypes.Header
	Txs []TxID
}

// Watermarks tells the mempool which transactions of each client a state
// the node restored records as executed (the batch fetcher's, at a state
// transfer or a restart): those it holds, waiting or out in a batch, are
// retired as if Executed named them, and dropped when they come again.
// Without it, a node that restored a state would take and propose again
// the transactions that state executed. Watermarks below the mempool's
// change nothing.
type Watermarks struct {
	stdtypes.Header
	Clients []ClientWatermark
}

// EpochExecuted tells the mempool that every slot of epoch Epoch and of
// the epochs before it was executed, and that the Executed events of
// their transactions came before it (the batch fetcher sends it once it
// has handed on the epoch's last slot, or restored a state taken after
// the epoch, after the Watermarks of that state). The mempool then answers
// the RequestBatch events of epoch Epoch+1. One of an epoch below one it
// was told changes nothing.
type EpochExecuted struct {
	stdtypes.Header
	Epoch stdtypes.EpochNr
}

// ClientWatermark is what a state records of one client: every
// transaction numbered below Low was executed, and those in Above
// (increasing, each above Low).
type ClientWatermark struct {
	ClientID string
	Low      uint64
	Above    []uint64
}
