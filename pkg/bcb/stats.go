package bcb

import (
	"sync/atomic"

	"github.com/mirframework/mir/pkg/dsl"
)

// Stats counts what a module did and what it dropped, by reason. Every
// dropped message is also logged, at LevelDebug, with its sender and the
// reason, if the module has a logger.
type Stats struct {
	// Broadcasts counts the instances this node started as leader, and
	// Delivered the instances it delivered (its own included).
	Broadcasts uint64
	Delivered  uint64
	// Sent counts the messages the module handed to the reliablenet
	// module to send (reliablenet.SendMessage). Set against the
	// reliablenet module's own Stats.Sent, it tells whether all of them
	// reached it: a node that means to stop once the other nodes have its
	// messages must not look at reliablenet's Pending while some are
	// still on their way to it, in the node's event buffer.
	Sent uint64
	// GaveUp counts the leader's instances it stopped retransmitting
	// before every node acknowledged them (ModuleParams.RetainTicks).
	GaveUp uint64

	// Messages dropped, by reason:

	// UnknownSender: from a node outside the membership.
	UnknownSender uint64
	// Malformed: a signature of impossible length, a Low above Seq, a Seq
	// Window or more above Low (a correct leader never has more instances
	// than that in flight; so a node's window, which starts at Low or
	// above, always has room for what its leader sends).
	Malformed uint64
	// Oversize: a payload above MaxPayloadBytes.
	Oversize uint64
	// UnknownInstance: an ECHO or an ACK for an instance this node never
	// led, an ACK before the instance had a certificate.
	UnknownInstance uint64
	// Stale: for an instance already finished (delivered, certified or
	// forgotten), or of an earlier incarnation of its leader; mostly
	// copies that the reliablenet module sent again because an
	// acknowledgment was late.
	Stale uint64
	// Duplicate: a second SEND, ECHO or ACK of one node, a FINAL while
	// another certificate of the instance is being verified.
	Duplicate uint64
	// Equivocation: a SEND with another payload than an earlier SEND of
	// the same instance; the node echoes the first only.
	Equivocation uint64
	// BadSignature: an ECHO whose signature did not verify.
	BadSignature uint64
	// BadCertificate: a FINAL whose certificate has too few or repeated or
	// unknown signers, or a signature that does not verify.
	BadCertificate uint64
	// BadAck: an ACK that names another payload than the instance's.
	BadAck uint64
	// UnknownMessages: messages of a type the module does not handle, or
	// nil (counted by package dsl).
	UnknownMessages uint64
}

// Dropped returns the number of messages dropped, for any reason.
func (s Stats) Dropped() uint64 {
	return s.UnknownSender + s.Malformed + s.Oversize + s.UnknownInstance +
		s.Stale + s.Duplicate + s.Equivocation + s.BadSignature + s.BadCertificate + s.BadAck + s.UnknownMessages
}

// Invalid returns the number of messages dropped because a correct node
// would never have sent them: everything but copies that came late
// (Stale) or twice (Duplicate).
func (s Stats) Invalid() uint64 {
	return s.Dropped() - s.Stale - s.Duplicate
}

// reason indexes counters.
type reason int

const (
	rUnknownSender reason = iota
	rMalformed
	rOversize
	rUnknownInstance
	rStale
	rDuplicate
	rEquivocation
	rBadSignature
	rBadCertificate
	rBadAck
	rBroadcasts
	rDelivered
	rSent
	rGaveUp
	numReasons
)

// counters are atomic so that Stats may be read from any goroutine while
// the node runs.
type counters [numReasons]atomic.Uint64

func (c *counters) inc(r reason) { c[r].Add(1) }

func (c *counters) stats(d dsl.Stats) Stats {
	return Stats{
		Broadcasts:      c[rBroadcasts].Load(),
		Delivered:       c[rDelivered].Load(),
		Sent:            c[rSent].Load(),
		GaveUp:          c[rGaveUp].Load(),
		UnknownSender:   c[rUnknownSender].Load(),
		Malformed:       c[rMalformed].Load(),
		Oversize:        c[rOversize].Load(),
		UnknownInstance: c[rUnknownInstance].Load(),
		Stale:           c[rStale].Load(),
		Duplicate:       c[rDuplicate].Load(),
		Equivocation:    c[rEquivocation].Load(),
		BadSignature:    c[rBadSignature].Load(),
		BadCertificate:  c[rBadCertificate].Load(),
		BadAck:          c[rBadAck].Load(),
		UnknownMessages: d.UnknownMessages,
	}
}
