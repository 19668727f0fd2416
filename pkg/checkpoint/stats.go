package checkpoint

import (
	"sync/atomic"

	"github.com/mirframework/mir/pkg/dsl"
)

// Stats counts what the module did and what it dropped, by reason. Every
// dropped message is also logged, at LevelDebug, with its sender and the
// reason, if the module has a logger.
type Stats struct {
	// Started counts the Starts; Stable the Stables of this node's own
	// checkpoints (after a Start), Transferred those of checkpoints
	// fetched from other nodes (state transfer).
	Started     uint64
	Stable      uint64
	Transferred uint64
	// CertificatesSent counts the STABLECHECKPOINTs sent (to all, or in
	// answer), SnapshotsServed the SNAPSHOTRESPONSEs.
	CertificatesSent uint64
	SnapshotsServed  uint64

	// Messages dropped, by reason:

	// UnknownSender: a CHECKPOINT from a node that is not a voter of its
	// epoch; a STABLECHECKPOINT for an epoch whose voters the node does
	// not know, from a node that is not one of the latest voters it knows.
	UnknownSender uint64
	// Malformed: a hash or a signature of impossible length, a State
	// with invalid memberships.
	Malformed uint64
	// Oversize: a State beyond MaxStateBytes.
	Oversize uint64
	// FarEpoch: a CHECKPOINT for an epoch EpochWindow or more beyond the
	// latest stable checkpoint.
	FarEpoch uint64
	// Stale: for an epoch at or below the latest stable checkpoint, or a
	// certificate for an epoch whose state transfer is under way.
	Stale uint64
	// Duplicate: a second CHECKPOINT of a sender for an epoch, a
	// STABLECHECKPOINT while another of the same sender is being verified.
	Duplicate uint64
	// Mismatch: a CHECKPOINT for another slot or state hash than this
	// node's own checkpoint of the epoch.
	Mismatch uint64
	// BadSignature: a CHECKPOINT whose signature did not verify.
	BadSignature uint64
	// BadCertificate: a STABLECHECKPOINT whose certificate is invalid
	// (VerifyCertificate, or a signature that did not verify).
	BadCertificate uint64
	// BadState: a SNAPSHOTRESPONSE whose State does not match the
	// certificate (epoch, slot or hash).
	BadState uint64
	// Unsolicited: a SNAPSHOTRESPONSE the node did not ask for.
	Unsolicited uint64
	// NotRetained: a SNAPSHOTREQUEST for a State the node does not keep.
	NotRetained uint64
	// RateLimited: a SNAPSHOTREQUEST or a stale CHECKPOINT beyond
	// MaxServesPerPeriod.
	RateLimited uint64
	// UnknownMessages: messages of a type the module does not handle, or
	// nil (counted by package dsl).
	UnknownMessages uint64
}

// Dropped returns the number of messages dropped, for any reason.
func (s Stats) Dropped() uint64 {
	return s.UnknownSender + s.Malformed + s.Oversize + s.FarEpoch + s.Stale + s.Duplicate + s.Mismatch +
		s.BadSignature + s.BadCertificate + s.BadState + s.Unsolicited + s.NotRetained + s.RateLimited + s.UnknownMessages
}

// reason indexes counters.
type reason int

const (
	rUnknownSender reason = iota
	rMalformed
	rOversize
	rFarEpoch
	rStale
	rDuplicate
	rMismatch
	rBadSignature
	rBadCertificate
	rBadState
	rUnsolicited
	rNotRetained
	rRateLimited
	rStarted
	rStable
	rTransferred
	rCertificatesSent
	rSnapshotsServed
	numReasons
)

// counters are atomic so that Stats may be read from any goroutine while
// the node runs.
type counters [numReasons]atomic.Uint64

func (c *counters) inc(r reason) { c[r].Add(1) }

func (c *counters) stats(d dsl.Stats) Stats {
	return Stats{
		Started:          c[rStarted].Load(),
		Stable:           c[rStable].Load(),
		Transferred:      c[rTransferred].Load(),
		CertificatesSent: c[rCertificatesSent].Load(),
		SnapshotsServed:  c[rSnapshotsServed].Load(),
		UnknownSender:    c[rUnknownSender].Load(),
		Malformed:        c[rMalformed].Load(),
		Oversize:         c[rOversize].Load(),
		FarEpoch:         c[rFarEpoch].Load(),
		Stale:            c[rStale].Load(),
		Duplicate:        c[rDuplicate].Load(),
		Mismatch:         c[rMismatch].Load(),
		BadSignature:     c[rBadSignature].Load(),
		BadCertificate:   c[rBadCertificate].Load(),
		BadState:         c[rBadState].Load(),
		Unsolicited:      c[rUnsolicited].Load(),
		NotRetained:      c[rNotRetained].Load(),
		RateLimited:      c[rRateLimited].Load(),
		UnknownMessages:  d.UnknownMessages,
	}
}
