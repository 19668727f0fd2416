package pbft

import (
	"sync/atomic"

	"github.com/mirframework/mir/pkg/dsl"
)

// Stats counts what an orderer did and what it dropped, by reason. Every
// dropped message is also logged, at LevelDebug, with its sender and the
// reason, if the orderer has a logger.
type Stats struct {
	// Delivered counts the slots delivered, Aborted those of them
	// delivered as ⊥, CaughtUp those delivered through catch-up.
	Delivered uint64
	Aborted   uint64
	CaughtUp  uint64
	// ViewChanges counts the views this node moved to after view 0.
	ViewChanges uint64
	// LateProposals counts Proposals that came after the slot was
	// proposed (empty, after MaxProposeDelay or a Hurry): the value is
	// not proposed.
	LateProposals uint64
	// Buffered counts messages of a later view kept for later.
	Buffered uint64

	// Messages dropped, by reason:

	// UnknownSender: from a node that is not a voter of the segment.
	UnknownSender uint64
	// Malformed: a digest of the wrong size, a message that is not
	// possible in its view (a PREPARE from the view's leader, a
	// PREPREPARE outside view 0), a VIEWCHANGE whose sets are out of
	// order or whose values do not match their digests.
	Malformed uint64
	// Oversize: a value above MaxValueBytes, more entries than the
	// segment has room for.
	Oversize uint64
	// BadSlot: a sequence number that is not one of the segment's.
	BadSlot uint64
	// Stale: for a view the node has left, a slot it already delivered.
	Stale uint64
	// Duplicate: a message the node already has (a retransmission).
	Duplicate uint64
	// Equivocation: a second, different message of one sender for the
	// same view and slot; the node keeps the first.
	Equivocation uint64
	// NotLeader: a PREPREPARE or a NEWVIEW from a node that does not lead
	// the view.
	NotLeader uint64
	// InvalidValue: a PREPREPARE whose value the validator refused.
	InvalidValue uint64
	// BadSignature: a VIEWCHANGE whose signature does not verify, a
	// NEWVIEW with one that does not.
	BadSignature uint64
	// BadNewView: a NEWVIEW whose proof does not hold: too little weight,
	// repeated or unknown signers, PREPREPAREs other than those the
	// VIEWCHANGEs determine.
	BadNewView uint64
	// BadDigest: a catch-up response that does not match the digests of
	// a weak quorum's DONEs.
	BadDigest uint64
	// NotReady: a request the node cannot answer yet (a DONE or a slot it
	// has not delivered), or a response it did not ask for.
	NotReady uint64
	// BufferFull: a message of a later view the buffer refused.
	BufferFull uint64
	// UnknownMessages: messages of a type the orderer does not handle, or
	// nil (counted by package dsl).
	UnknownMessages uint64
}

// Dropped returns the number of messages dropped, for any reason.
func (s Stats) Dropped() uint64 {
	return s.UnknownSender + s.Malformed + s.Oversize + s.BadSlot + s.Stale + s.Duplicate +
		s.Equivocation + s.NotLeader + s.InvalidValue + s.BadSignature + s.BadNewView +
		s.BadDigest + s.NotReady + s.BufferFull + s.UnknownMessages
}

// reason indexes counters.
type reason int

const (
	rDelivered reason = iota
	rAborted
	rCaughtUp
	rViewChanges
	rLateProposals
	rBuffered
	rUnknownSender
	rMalformed
	rOversize
	rBadSlot
	rStale
	rDuplicate
	rEquivocation
	rNotLeader
	rInvalidValue
	rBadSignature
	rBadNewView
	rBadDigest
	rNotReady
	rBufferFull
	numReasons
)

// counters are atomic so that Stats may be read from any goroutine while
// the node runs.
type counters struct {
	c [numReasons]atomic.Uint64
	// sum, if not nil, is the factory's (Factory.Stats): every count goes
	// there too, so that the factory's sums outlive the orderers it
	// garbage-collects.
	sum *counters
}

func (c *counters) inc(r reason) {
	c.c[r].Add(1)
	if c.sum != nil {
		c.sum.c[r].Add(1)
	}
}

func (c *counters) stats(d dsl.Stats) Stats {
	return Stats{
		Delivered:       c.c[rDelivered].Load(),
		Aborted:         c.c[rAborted].Load(),
		CaughtUp:        c.c[rCaughtUp].Load(),
		ViewChanges:     c.c[rViewChanges].Load(),
		LateProposals:   c.c[rLateProposals].Load(),
		Buffered:        c.c[rBuffered].Load(),
		UnknownSender:   c.c[rUnknownSender].Load(),
		Malformed:       c.c[rMalformed].Load(),
		Oversize:        c.c[rOversize].Load(),
		BadSlot:         c.c[rBadSlot].Load(),
		Stale:           c.c[rStale].Load(),
		Duplicate:       c.c[rDuplicate].Load(),
		Equivocation:    c.c[rEquivocation].Load(),
		NotLeader:       c.c[rNotLeader].Load(),
		InvalidValue:    c.c[rInvalidValue].Load(),
		BadSignature:    c.c[rBadSignature].Load(),
		BadNewView:      c.c[rBadNewView].Load(),
		BadDigest:       c.c[rBadDigest].Load(),
		NotReady:        c.c[rNotReady].Load(),
		BufferFull:      c.c[rBufferFull].Load(),
		UnknownMessages: d.UnknownMessages,
	}
}
