package availability

import (
	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdtypes"
)

// The events between availability and the batch fetcher. Availability is
// also ISS's proposer and validator: it answers iss.RequestProposal,
// iss.CancelProposal and iss.VerifyProposal, and asks the mempool for
// batches (mempool.RequestBatch). The names are part of every encoding:
// renaming one makes recorded data unreadable.
var (
	_ = codec.Register[RequestTxs]("availability.RequestTxs")
	_ = codec.Register[ProvideTxs]("availability.ProvideTxs")
)

// RequestTxs asks availability for the transactions of the batch that
// Cert (an ordered value: an encoded availability certificate) certifies.
// It answers with a ProvideTxs to ReplyTo with the same Ref: at once if it
// stores the batch, or once it fetched it from the certificate's signers.
// A Cert that is not a valid certificate is an error: ISS ordered it, so
// the validators of a strong quorum accepted it.
type RequestTxs struct {
	stdtypes.Header
	ReplyTo stdtypes.ModuleID
	Ref     uint64
	Cert    []byte
}

// ProvideTxs answers a RequestTxs with the batch's transactions, in the
// batch's order.
type ProvideTxs struct {
	stdtypes.Header
	Ref uint64
	Txs []mempool.Tx
}
