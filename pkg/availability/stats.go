package availability

import "sync/atomic"

// Stats counts what availability did and what it dropped, by reason.
// Every dropped message is also logged, at LevelDebug, with its sender and
// the reason, if the module has a logger.
type Stats struct {
	// Certificates counts the certificates this node made as a leader,
	// Signed the batches of other leaders it stored and signed, Verified
	// and Rejected the certificates it checked for ISS, Served the FETCHes
	// it answered and Fetched the batches it fetched from signers.
	Certificates uint64
	Signed       uint64
	Verified     uint64
	Rejected     uint64
	Served       uint64
	Fetched      uint64
	// Collected counts the batches dropped at stable checkpoints.
	Collected uint64
	// Lost counts this node's batches whose certificate went to an
	// orderer and was not delivered by the end of its epoch (its slot
	// ended ⊥ after a view change): their transactions went back to the
	// mempool.
	Lost uint64

	// Messages dropped, by reason:

	// UnknownSender: from a node that is no voter of the epoch, a SIG from
	// a node that was not asked, a FETCHRESPONSE from a node that is no
	// signer of the certificate.
	UnknownSender uint64
	// Malformed: a digest or signature of the wrong length, buckets out
	// of range or order, an empty batch.
	Malformed uint64
	// Oversize: a batch or transaction beyond the size limits.
	Oversize uint64
	// OutsideBuckets: a transaction outside the batch's buckets
	// (ModuleParams.BucketOf).
	OutsideBuckets uint64
	// Stale: for an epoch already collected, a SIG for a batch no longer
	// collecting signatures, a FETCHRESPONSE for no fetch in progress.
	Stale uint64
	// Duplicate: a second REQUESTSIG of a batch, a second SIG of a node.
	Duplicate uint64
	// Flood: a REQUESTSIG of a leader that has MaxBatchesPerSender
	// batches stored here already, a FETCH of a batch this node answered
	// the same node maxServesPerNode (8) times already.
	Flood uint64
	// BadSignature: a SIG whose signature did not verify.
	BadSignature uint64
	// BadDigest: a FETCHRESPONSE whose transactions do not match the
	// certificate's digest.
	BadDigest uint64
	// NotStored: a FETCH of a batch this node does not keep.
	NotStored uint64
	// UnknownMessages: messages of a type availability does not handle.
	UnknownMessages uint64
}

// Dropped returns the number of messages dropped, for any reason.
func (s Stats) Dropped() uint64 {
	return s.UnknownSender + s.Malformed + s.Oversize + s.OutsideBuckets + s.Stale + s.Duplicate +
		s.Flood + s.BadSignature + s.BadDigest + s.NotStored + s.UnknownMessages
}

// reason indexes counters.
type reason int

const (
	rCertificates reason = iota
	rSigned
	rVerified
	rRejected
	rServed
	rFetched
	rCollected
	rLost
	rUnknownSender
	rMalformed
	rOversize
	rOutsideBuckets
	rStale
	rDuplicate
	rFlood
	rBadSignature
	rBadDigest
	rNotStored
	rUnknownMessages
	numReasons
)

var reasonNames = [numReasons]string{
	"certificates", "signed", "verified", "rejected", "served", "fetched", "collected", "lost",
	"unknown sender", "malformed", "oversize", "outside buckets", "stale", "duplicate",
	"flood", "bad signature", "bad digest", "not stored", "unknown message",
}

// counters are atomic so that Stats may be read from any goroutine while
// the node runs.
type counters [numReasons]atomic.Uint64

func (c *counters) inc(r reason) { c[r].Add(1) }

func (c *counters) stats() Stats {
	return Stats{
		Certificates: c[rCertificates].Load(), Signed: c[rSigned].Load(),
		Verified: c[rVerified].Load(), Rejected: c[rRejected].Load(),
		Served: c[rServed].Load(), Fetched: c[rFetched].Load(), Collected: c[rCollected].Load(),
		Lost:          c[rLost].Load(),
		UnknownSender: c[rUnknownSender].Load(), Malformed: c[rMalformed].Load(),
		Oversize: c[rOversize].Load(), OutsideBuckets: c[rOutsideBuckets].Load(),
		Stale: c[rStale].Load(), Duplicate: c[rDuplicate].Load(), Flood: c[rFlood].Load(),
		BadSignature: c[rBadSignature].Load(), BadDigest: c[rBadDigest].Load(),
		NotStored: c[rNotStored].Load(), UnknownMessages: c[rUnknownMessages].Load(),
	}
}
