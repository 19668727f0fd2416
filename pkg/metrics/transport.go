package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/mirframework/mir/pkg/net"
	"github.com/mirframework/mir/pkg/net/tcp"
	"github.com/mirframework/mir/stdtypes"
)

// The transport's families, per peer (the node itself included, for the
// messages it sends itself) and for the transport as a whole. The
// families every transport has (net.TransportStats) come first; the TCP
// transport's own (tcp.Metrics) after.
var (
	peerLabels         = []string{labelNode, labelModule, labelPeer}
	peerDirLabels      = []string{labelNode, labelModule, labelPeer, "direction"}
	descMessagesSent   = peerDesc("mir_transport_messages_sent_total", "Messages handed to the network for the peer (TCP: written and flushed).")
	descMessagesRecv   = peerDesc("mir_transport_messages_received_total", "Messages from the peer put in the queue to the node.")
	descMessagesDroppd = prometheus.NewDesc("mir_transport_messages_dropped_total",
		"Messages dropped: direction out, for the peer before they left (queue full, peer down, too large); "+
			"direction in, from the peer on arrival (undecodable, queue to the node full, transport stopped).",
		peerDirLabels, nil)
	descTransportDropped = prometheus.NewDesc("mir_transport_dropped_sends_total",
		"SendMessage events and messages the transport dropped, not for a peer: reason invalid (failed validation), "+
			"unknown_destination (a node outside the membership, once per destination), "+
			"received (messages from other nodes addressed to the transport itself), "+
			"too_large (TCP: beyond the frame limit, once per destination, also counted in the peer's dropped out).",
		[]string{labelNode, labelModule, labelReason}, nil)

	descBytesSent    = peerDesc("mir_transport_sent_bytes_total", "Bytes of the frames written to the peer, headers included, TLS not.")
	descBytesRecv    = peerDesc("mir_transport_received_bytes_total", "Bytes of the frames read from the peer, headers included, TLS not.")
	descQueueMsgs    = peerDesc("mir_transport_queue_messages", "Messages waiting in the peer's send queue.")
	descQueueBytes   = peerDesc("mir_transport_queue_bytes", "Bytes waiting in the peer's send queue.")
	descConnected    = peerDesc("mir_transport_connected", "1 while the connection to the peer is up, else 0.")
	descInbound      = peerDesc("mir_transport_inbound_connected", "1 while the peer's connection to this node is up, else 0.")
	descConnects     = peerDesc("mir_transport_connects_total", "Connections to the peer set up.")
	descReconnects   = peerDesc("mir_transport_reconnects_total", "Connections to the peer set up after the first.")
	descDialFailures = peerDesc("mir_transport_dial_failures_total", "Attempts to connect to the peer that failed.")
	descBadFrames    = peerDesc("mir_transport_bad_frames_total",
		"The peer's connections to this node closed for a frame too large, truncated or undecodable.")
	descRefused = prometheus.NewDesc("mir_transport_refused_connections_total",
		"Incoming connections not set up (bad or missing certificate, unknown key, wrong hello, set-up timeout, too many at once).",
		moduleLabels, nil)
)

func peerDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, peerLabels, nil)
}

// collectTransport sends what every transport counts.
func collectTransport(ch chan<- prometheus.Metric, labels []string, s net.TransportStats) {
	node, module := labels[0], labels[1]
	for _, peer := range sortedKeys(s.Peers) {
		p, pl := s.Peers[peer], []string{node, module, string(peer)}
		counter(ch, descMessagesSent, p.Out, pl...)
		counter(ch, descMessagesRecv, p.In, pl...)
		counter(ch, descMessagesDroppd, p.DroppedOut, node, module, string(peer), "out")
		counter(ch, descMessagesDroppd, p.DroppedIn, node, module, string(peer), "in")
	}
	counter(ch, descTransportDropped, s.DroppedInvalid, node, module, "invalid")
	counter(ch, descTransportDropped, s.DroppedUnknown, node, module, "unknown_destination")
	counter(ch, descTransportDropped, s.DroppedReceived, node, module, "received")
}

// collectTCP sends the TCP transport's counters: those of every transport,
// and bytes, queues, connections.
func collectTCP(ch chan<- prometheus.Metric, labels []string, m tcp.Metrics) {
	common := net.TransportStats{
		Peers:          make(map[stdtypes.NodeID]net.PeerStats, len(m.Peers)),
		DroppedInvalid: m.DroppedInvalid, DroppedUnknown: m.DroppedUnknown, DroppedReceived: m.DroppedReceived,
	}
	for id, p := range m.Peers {
		common.Peers[id] = net.PeerStats{Out: p.MessagesOut, In: p.MessagesIn, DroppedOut: p.DroppedOut, DroppedIn: p.DroppedIn}
	}
	collectTransport(ch, labels, common)
	node, module := labels[0], labels[1]
	counter(ch, descTransportDropped, m.DroppedTooLarge, node, module, "too_large")
	counter(ch, descRefused, m.Refused, node, module)
	for _, peer := range sortedKeys(m.Peers) {
		p, pl := m.Peers[peer], []string{node, module, string(peer)}
		counter(ch, descBytesSent, p.BytesOut, pl...)
		counter(ch, descBytesRecv, p.BytesIn, pl...)
		gauge(ch, descQueueMsgs, float64(p.QueueMessages), pl...)
		gauge(ch, descQueueBytes, float64(p.QueueBytes), pl...)
		gauge(ch, descConnected, boolValue(p.Connected), pl...)
		gauge(ch, descInbound, boolValue(p.Inbound), pl...)
		counter(ch, descConnects, p.Connects, pl...)
		counter(ch, descReconnects, p.Reconnects(), pl...)
		counter(ch, descDialFailures, p.DialFailures, pl...)
		counter(ch, descBadFrames, p.BadFrames, pl...)
	}
}

func counter(ch chan<- prometheus.Metric, d *prometheus.Desc, v uint64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}

func gauge(ch chan<- prometheus.Metric, d *prometheus.Desc, v float64, labels ...string) {
	ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}
