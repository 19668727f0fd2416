package availability

import (
	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdtypes"
)

// The messages between availability modules, the records availability
// persists and its timeout are registered with the codec: the network
// encodes the messages, the WAL the records, an event log all of them.
// The names are part of every encoding: renaming one makes recorded data
// unreadable.
var (
	_ = codec.Register[RequestSigMsg]("availability.RequestSig")
	_ = codec.Register[SigMsg]("availability.Sig")
	_ = codec.Register[FetchMsg]("availability.Fetch")
	_ = codec.Register[FetchResponseMsg]("availability.FetchResponse")
	_ = codec.Register[BatchRecord]("availability.BatchRecord")
	_ = codec.Register[CollectedRecord]("availability.CollectedRecord")
	_ = codec.Register[FetchTimeout]("availability.FetchTimeout")
)

// RequestSigMsg (REQUESTSIG) is a leader's batch, for epoch Epoch and the
// buckets Buckets of its segment: the receiver stores it durably, signs
// its digest (BatchDigest, with the sender as the leader) and answers
// with a SigMsg.
type RequestSigMsg struct {
	stdtypes.MessageBase
	Epoch   stdtypes.EpochNr
	Buckets []int
	Txs     []mempool.Tx
}

// SigMsg (SIG) answers a REQUESTSIG: Sig is the sender's signature of
// SignedBytes(Digest).
type SigMsg struct {
	stdtypes.MessageBase
	Digest []byte
	Sig    []byte
}

// FetchMsg (FETCH) asks a signer of a certificate for the transactions of
// the batch with digest Digest.
type FetchMsg struct {
	stdtypes.MessageBase
	Digest []byte
}

// FetchResponseMsg (FETCHRESPONSE) answers a FETCH with the batch's
// transactions; the receiver checks them against the digest.
type FetchResponseMsg struct {
	stdtypes.MessageBase
	Digest []byte
	Txs    []mempool.Tx
}

// BatchRecord is what availability persists of a batch before it signs
// it, addressed to itself, with the batch's epoch as retention index: the
// WAL hands it back at a restart, before any input, and the node serves
// the batch again.
type BatchRecord struct {
	stdtypes.Header
	Epoch   stdtypes.EpochNr
	Leader  stdtypes.NodeID
	Buckets []int
	Txs     []mempool.Tx
}

// CollectedRecord persists the lowest epoch whose batches availability
// keeps, after a garbage collection, so that a restarted node neither
// accepts batches of the epochs it collected (the WAL would not persist
// them, as they are below its truncation) nor signs them.
type CollectedRecord struct {
	stdtypes.Header
	Low stdtypes.EpochNr
}

// FetchTimeout tells availability that the signer asked in attempt
// Attempt of fetch ID did not answer in time.
type FetchTimeout struct {
	stdtypes.Header
	ID      uint64
	Attempt uint64
}
