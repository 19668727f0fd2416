package reliablenet

import (
	"sync/atomic"

	"github.com/mirframework/mir/pkg/dsl"
)

// Stats counts what a module did and what it dropped, by reason. Every
// dropped message is also logged, at LevelDebug, with its sender and the
// reason, if the module has a logger.
type Stats struct {
	// Sending side. Sent counts the SendMessages, Retransmitted the copies
	// sent again (one per destination), Completed the messages every
	// destination acknowledged, Cancelled those cancelled before (by
	// Cancel, CancelPrefix, or MarkReceived for the last destinations).
	Sent, Retransmitted, Completed, Cancelled uint64
	// Pending and PendingBytes are what is in flight now.
	Pending, PendingBytes uint64

	// Receiving side: Delivered counts the messages delivered to their
	// destination modules (copies included), AcksSent the AckMsgs sent.
	Delivered, AcksSent uint64

	// Acknowledgments that acknowledged nothing, one count per number in
	// an AckMsg:

	// AcksStale: for an earlier incarnation of this node.
	AcksStale uint64
	// AcksUnknown: for a message not in flight (acknowledged, cancelled,
	// never sent), or not sent to the acknowledging node.
	AcksUnknown uint64
	// AcksDuplicate: for a destination that acknowledged the message
	// already (each copy that arrives is acknowledged).
	AcksDuplicate uint64

	// Messages dropped, by reason:

	// Malformed: a DataMsg without a message or with an invalid
	// destination module ID, an AckMsg with more than MaxAcksPerMessage
	// numbers.
	Malformed uint64
	// Forbidden: a DataMsg for a module that is not one of
	// ModuleConfig.Users.
	Forbidden uint64
	// UnknownMessages: messages of a type the module does not handle, or
	// nil (counted by package dsl).
	UnknownMessages uint64
}

// Invalid returns the number of messages dropped because a correct node
// with the same modules would never have sent them.
func (s Stats) Invalid() uint64 { return s.Malformed + s.Forbidden + s.UnknownMessages }

// counter indexes counters.
type counter int

const (
	cSent counter = iota
	cRetransmitted
	cCompleted
	cCancelled
	cPending
	cPendingBytes
	cDelivered
	cAcksSent
	cAcksStale
	cAcksUnknown
	cAcksDuplicate
	cMalformed
	cForbidden
	numCounters
)

// counters are atomic so that Stats may be read from any goroutine while
// the node runs.
type counters [numCounters]atomic.Uint64

func (c *counters) add(k counter, n uint64) { c[k].Add(n) }
func (c *counters) inc(k counter)           { c[k].Add(1) }
func (c *counters) set(k counter, v uint64) { c[k].Store(v) }

func (c *counters) stats(d dsl.Stats) Stats {
	return Stats{
		Sent:            c[cSent].Load(),
		Retransmitted:   c[cRetransmitted].Load(),
		Completed:       c[cCompleted].Load(),
		Cancelled:       c[cCancelled].Load(),
		Pending:         c[cPending].Load(),
		PendingBytes:    c[cPendingBytes].Load(),
		Delivered:       c[cDelivered].Load(),
		AcksSent:        c[cAcksSent].Load(),
		AcksStale:       c[cAcksStale].Load(),
		AcksUnknown:     c[cAcksUnknown].Load(),
		AcksDuplicate:   c[cAcksDuplicate].Load(),
		Malformed:       c[cMalformed].Load(),
		Forbidden:       c[cForbidden].Load(),
		UnknownMessages: d.UnknownMessages,
	}
}
