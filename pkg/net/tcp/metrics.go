package tcp

import (
	"context"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/mirframework/mir/pkg/net"
	"github.com/mirframework/mir/stdtypes"
)

// PeerMetrics are the counters of one peer (or of the node itself), a
// superset of net.PeerStats.
type PeerMetrics struct {
	// MessagesOut is the number of messages written to the peer's
	// connection and flushed (for the node itself: handed back to it).
	// A message written just before a connection breaks counts here and
	// is lost all the same: the sender cannot know.
	MessagesOut uint64
	// MessagesIn is the number of messages from the peer put in the queue
	// to the node.
	MessagesIn uint64
	// BytesOut and BytesIn count the frames of those messages, headers
	// included, TLS overhead not. Zero for the node itself.
	BytesOut uint64
	BytesIn  uint64
	// DroppedOut is the number of messages for the peer dropped before
	// they left: the send queue was full (the peer is down or slow), the
	// transport stopped, the connection broke before they were flushed,
	// the message was too large for a frame.
	DroppedOut uint64
	// DroppedIn is the number of messages from the peer dropped on
	// arrival: the transport stopped before the node took them, a frame
	// did not decode, or (for the node itself) the incoming queue was
	// full.
	DroppedIn uint64
	// QueueMessages and QueueBytes are what waits in the send queue now.
	QueueMessages int
	QueueBytes    int
	// Connected tells whether the connection to the peer is up, and
	// Inbound whether the peer's connection to this node is.
	Connected bool
	Inbound   bool
	// Connects is the number of connections to the peer set up; the ones
	// after the first are reconnections. DialFailures is the number of
	// attempts that failed.
	Connects     uint64
	DialFailures uint64
	// BadFrames is the number of the peer's connections to this node
	// closed for a frame that was too large, truncated or undecodable.
	BadFrames uint64
}

// Reconnects returns the number of connections set up after the first.
func (m PeerMetrics) Reconnects() uint64 { return max(m.Connects, 1) - 1 }

// Metrics are a transport's counters since it was created: per peer, and
// for the transport as a whole.
type Metrics struct {
	// Peers holds the counters of every member, this node included.
	Peers map[stdtypes.NodeID]PeerMetrics
	// DroppedInvalid is the number of SendMessage events that failed
	// net.ValidateSendMessage.
	DroppedInvalid uint64
	// DroppedUnknown is the number of messages to nodes outside the
	// membership, once per destination.
	DroppedUnknown uint64
	// DroppedReceived is the number of messages from other nodes addressed
	// to the transport itself (net.TransportStats.DroppedReceived).
	DroppedReceived uint64
	// DroppedTooLarge is the number of messages not sent because their
	// frame would exceed Options.MaxFrameBytes, once per destination
	// (each also counts in the destination's DroppedOut).
	DroppedTooLarge uint64
	// Refused is the number of incoming connections that were not set
	// up: refused (no or a bad certificate, a key outside the
	// membership, a hello claiming another node's ID or reaching another
	// node, a set-up that timed out, too many set-ups at once), or closed
	// by the other end first.
	Refused uint64
}

// counters are the live counters behind PeerMetrics.
type counters struct {
	msgsOut, msgsIn, bytesOut, bytesIn atomic.Uint64
	droppedOut, droppedIn              atomic.Uint64
	connects, dialFailures, badFrames  atomic.Uint64
	connected, inboundUp               atomic.Bool
}

func (c *counters) snapshot() PeerMetrics {
	return PeerMetrics{
		MessagesOut:  c.msgsOut.Load(),
		MessagesIn:   c.msgsIn.Load(),
		BytesOut:     c.bytesOut.Load(),
		BytesIn:      c.bytesIn.Load(),
		DroppedOut:   c.droppedOut.Load(),
		DroppedIn:    c.droppedIn.Load(),
		Connected:    c.connected.Load(),
		Inbound:      c.inboundUp.Load(),
		Connects:     c.connects.Load(),
		DialFailures: c.dialFailures.Load(),
		BadFrames:    c.badFrames.Load(),
	}
}

// Metrics returns a snapshot of the transport's counters. It is safe to
// call from any goroutine at any time.
func (t *Transport) Metrics() Metrics {
	m := Metrics{
		Peers:           make(map[stdtypes.NodeID]PeerMetrics, len(t.peers)+1),
		DroppedInvalid:  t.droppedInvalid.Load(),
		DroppedUnknown:  t.droppedUnknown.Load(),
		DroppedReceived: t.stray.Count(),
		DroppedTooLarge: t.droppedTooLarge.Load(),
		Refused:         t.refused.Load(),
	}
	m.Peers[t.id] = t.self.snapshot()
	for id, p := range t.peers {
		pm := p.snapshot()
		pm.QueueMessages, pm.QueueBytes = p.queueLen()
		m.Peers[id] = pm
	}
	return m
}

// Stats returns the transport's counters in the form every transport
// shares (see Metrics for more).
func (t *Transport) Stats() net.TransportStats {
	m := t.Metrics()
	s := net.TransportStats{
		Peers:           make(map[stdtypes.NodeID]net.PeerStats, len(m.Peers)),
		DroppedInvalid:  m.DroppedInvalid,
		DroppedUnknown:  m.DroppedUnknown,
		DroppedReceived: m.DroppedReceived,
	}
	for id, p := range m.Peers {
		s.Peers[id] = net.PeerStats{Out: p.MessagesOut, In: p.MessagesIn, DroppedOut: p.DroppedOut, DroppedIn: p.DroppedIn}
	}
	return s
}

// logMetrics logs the metrics every period until ctx ends.
func (t *Transport) logMetrics(ctx context.Context, period time.Duration) {
	defer t.wg.Done()
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		m := t.Metrics()
		level := t.opts.StatsLevel
		t.logger.LogAttrs(level, "tcp transport stats",
			slog.Uint64("droppedInvalid", m.DroppedInvalid),
			slog.Uint64("droppedUnknown", m.DroppedUnknown),
			slog.Uint64("droppedReceived", m.DroppedReceived),
			slog.Uint64("droppedTooLarge", m.DroppedTooLarge),
			slog.Uint64("refused", m.Refused))
		ids := make([]stdtypes.NodeID, 0, len(m.Peers))
		for id := range m.Peers {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			p := m.Peers[id]
			t.logger.LogAttrs(level, "tcp peer stats",
				slog.String("peer", string(id)),
				slog.Uint64("msgsOut", p.MessagesOut), slog.Uint64("msgsIn", p.MessagesIn),
				slog.Uint64("bytesOut", p.BytesOut), slog.Uint64("bytesIn", p.BytesIn),
				slog.Uint64("droppedOut", p.DroppedOut), slog.Uint64("droppedIn", p.DroppedIn),
				slog.Int("queue", p.QueueMessages), slog.Int("queueBytes", p.QueueBytes),
				slog.Bool("connected", p.Connected), slog.Bool("inbound", p.Inbound),
				slog.Uint64("reconnects", p.Reconnects()), slog.Uint64("dialFailures", p.DialFailures),
				slog.Uint64("badFrames", p.BadFrames))
		}
	}
}

// ReportStats returns the transport's counters for the node's statistics
// (modules.StatsReporter).
func (t *Transport) ReportStats() any { return t.Metrics() }
