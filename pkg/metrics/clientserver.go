package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/trantor/client"
	"github.com/mirframework/mir/stdtypes"
)

// ClientServer is a Trantor client server (client.Server, the active
// module that takes clients' transactions over TCP) that also reports
// what the server counts (client.ServerMetrics) and how long this node
// takes to execute a transaction: from its arrival, when the server
// hands it to the node (mempool.NewTxs), to its result, when the node
// hands that back to the server to reply (client.Executed or
// client.Reply). That is the node's own part of a client's latency:
// ordering, fetching the batch and executing it, as this node saw them.
// It leaves out the network to the client and the wait for f+1 replies,
// which only the client sees.
//
// A transaction is timed on the node it arrives at before it executes
// there; a client of pkg/trantor/client sends each one to every node, so
// every node times nearly all of them. Those answered from the server's
// cache (submitted again after they executed) are not timed.
//
// Use it in place of the server in the node's modules; the server itself
// is still started and stopped as before:
//
//	mods[trantor.ClientsID] = metrics.NewClientServer(server)
type ClientServer struct {
	server *client.Server
	out    chan *stdtypes.EventList
	// forward starts the goroutine that passes the server's events on,
	// once, at the first ApplyEvents (the node's Init), with the node's
	// context.
	forward sync.Once
	timer   txTimer
}

var (
	_ modules.ActiveModule  = (*ClientServer)(nil)
	_ modules.StatsReporter = (*ClientServer)(nil)
)

// NewClientServer returns s timed.
func NewClientServer(s *client.Server) *ClientServer {
	c := &ClientServer{server: s, out: make(chan *stdtypes.EventList)}
	c.timer.reset(time.Now())
	return c
}

// EventsOut returns the channel of the server's events (mempool.NewTxs).
func (c *ClientServer) EventsOut() <-chan *stdtypes.EventList { return c.out }

// ApplyEvents notes the results among events and hands events to the
// server. The first call starts passing on what the server emits, until
// ctx (the node's) ends.
func (c *ClientServer) ApplyEvents(ctx context.Context, events *stdtypes.EventList) error {
	c.forward.Do(func() { go c.forwardLoop(ctx) })
	now := time.Now()
	for ev := range events.All() {
		switch ev := ev.(type) {
		case *client.Executed:
			c.timer.done(now, len(ev.Txs), func(i int) mempool.TxID { return ev.Txs[i].TxID })
		case *client.Reply:
			c.timer.done(now, 1, func(int) mempool.TxID { return mempool.TxID{ClientID: ev.ClientID, TxNo: ev.TxNo} })
		}
	}
	return c.server.ApplyEvents(ctx, events)
}

// forwardLoop passes what the server emits to the node, noting when each
// transaction arrived, until ctx ends.
func (c *ClientServer) forwardLoop(ctx context.Context) {
	in := c.server.EventsOut()
	for {
		var evs *stdtypes.EventList
		select {
		case evs = <-in:
		case <-ctx.Done():
			return
		}
		now := time.Now()
		for ev := range evs.All() {
			if txs, ok := ev.(*mempool.NewTxs); ok {
				c.timer.arrived(now, txs.Txs)
			}
		}
		select {
		case c.out <- evs:
		case <-ctx.Done():
			return
		}
	}
}

// ReportStats returns a ClientServerStats (modules.StatsReporter).
func (c *ClientServer) ReportStats() any {
	s := c.timer.stats()
	s.ServerMetrics = c.server.Metrics()
	return s
}

// ClientServerStats is what a ClientServer reports.
type ClientServerStats struct {
	client.ServerMetrics
	// LatencyCounts counts the timed transactions by the time from their
	// arrival to their result: LatencyCounts[i] those above the bound
	// ClientLatencyBounds()[i-1] and at most [i], the last those above
	// every bound. LatencySum is the sum of their times.
	LatencyCounts [len(clientLatencyBounds) + 1]uint64
	LatencySum    time.Duration
	// Untimed counts transactions not timed because maxTimedTxs were
	// being timed already; Expired those timed that had no result within
	// timedAge to twice that (the client gave up on them, or the node
	// skipped their slot by a state transfer).
	Untimed, Expired uint64
}

// clientLatencyBounds are the upper bounds of the latency buckets, in
// seconds: 1, 1.5, 2, 3, 5 and 7.5 per decade from 1 ms, to 30 s (a
// quantile read from them is within about a quarter of the true value).
var clientLatencyBounds = [...]float64{
	0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075,
	0.01, 0.015, 0.02, 0.03, 0.05, 0.075,
	0.1, 0.15, 0.2, 0.3, 0.5, 0.75,
	1, 1.5, 2, 3, 5, 7.5,
	10, 15, 20, 30,
}

// ClientLatencyBounds returns the upper bounds of
// ClientServerStats.LatencyCounts's buckets, in seconds, ascending.
func ClientLatencyBounds() []float64 { return append([]float64(nil), clientLatencyBounds[:]...) }

// Limits of the timing.
const (
	// maxTimedTxs bounds the transactions timed at once, in each of the
	// two generations (txTimer): an entry is about 100 bytes, so at most
	// about 13 MiB. At 50,000 transactions/s and a latency of a second,
	// 50,000 are in flight.
	maxTimedTxs = 1 << 16
	// timedAge is how long a generation takes arrivals: a transaction is
	// timed for timedAge to twice that, far longer than a client waits
	// (pkg/loadgen gives up after 10 s by default).
	timedAge = 30 * time.Second
)

// txTimer holds the arrival times of transactions until their results,
// and the histogram of the times between. Its entries are in two
// generations: arrivals go to cur, and every timedAge cur becomes prev
// and the old prev is dropped, so that a transaction that never executes
// here is forgotten. It is safe for concurrent use.
type txTimer struct {
	mu sync.Mutex
	// base is the origin of the times, monotonic; curSince when cur
	// started taking arrivals.
	base      time.Time
	curSince  time.Duration
	cur, prev map[mempool.TxID]time.Duration
	// s holds the counts; its ServerMetrics are not used.
	s ClientServerStats
}

func (t *txTimer) reset(now time.Time) {
	t.base = now
	t.cur = make(map[mempool.TxID]time.Duration)
}

// arrived notes the arrival of txs at now. A transaction already timed
// (a client sent it again) keeps its first arrival.
func (t *txTimer) arrived(now time.Time, txs []mempool.Tx) {
	t.mu.Lock()
	defer t.mu.Unlock()
	at := now.Sub(t.base)
	if at-t.curSince >= timedAge {
		t.s.Expired += uint64(len(t.prev))
		t.prev, t.cur, t.curSince = t.cur, make(map[mempool.TxID]time.Duration), at
	}
	for _, tx := range txs {
		if _, ok := t.cur[tx.TxID]; ok {
			continue
		}
		if _, ok := t.prev[tx.TxID]; ok {
			continue
		}
		if len(t.cur) >= maxTimedTxs {
			t.s.Untimed++
			continue
		}
		t.cur[tx.TxID] = at
	}
}

// done records the latency of the n transactions id(0), ..., id(n-1),
// whose results came at now, if they were timed.
func (t *txTimer) done(now time.Time, n int, id func(int) mempool.TxID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	at := now.Sub(t.base)
	for i := range n {
		tx := id(i)
		arrived, ok := t.cur[tx]
		if ok {
			delete(t.cur, tx)
		} else if arrived, ok = t.prev[tx]; ok {
			delete(t.prev, tx)
		} else {
			continue
		}
		t.record(at - arrived)
	}
}

// record adds one latency to the histogram.
func (t *txTimer) record(d time.Duration) {
	sec := d.Seconds()
	i := 0
	for i < len(clientLatencyBounds) && sec > clientLatencyBounds[i] {
		i++
	}
	t.s.LatencyCounts[i]++
	t.s.LatencySum += d
}

// stats returns the counts.
func (t *txTimer) stats() ClientServerStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.s
}

// The client server's families.
var (
	descClientLatency = prometheus.NewDesc("mir_client_server_latency_seconds",
		"Time from a transaction's arrival at this node's client server to its result there (ordered, fetched and executed by this node), "+
			"for the transactions that arrived before they executed.", moduleLabels, nil)
	descClientUntimed = prometheus.NewDesc("mir_client_server_untimed_transactions_total",
		"Transactions left out of mir_client_server_latency_seconds: reason full (too many were being timed), "+
			"expired (no result here within 30 to 60 s).", []string{labelNode, labelModule, labelReason}, nil)
	// clientServerCounters are client.ServerMetrics's fields, in order.
	clientServerCounters = []struct {
		desc  *prometheus.Desc
		value func(client.ServerMetrics) uint64
	}{
		{moduleDesc("mir_client_server_connections_accepted_total", "Client connections accepted."),
			func(m client.ServerMetrics) uint64 { return m.Accepted }},
		{moduleDesc("mir_client_server_connections_refused_total", "Client connections refused: too many at once (MaxConns)."),
			func(m client.ServerMetrics) uint64 { return m.Refused }},
		{moduleDesc("mir_client_server_too_many_clients_total", "Client connections closed for speaking for too many clients (MaxClientsPerConn, MaxClients)."),
			func(m client.ServerMetrics) uint64 { return m.TooManyClients }},
		{moduleDesc("mir_client_server_bad_frames_total", "Client connections closed for a bad frame (too large, truncated, undecodable, another client's)."),
			func(m client.ServerMetrics) uint64 { return m.BadFrames }},
		{moduleDesc("mir_client_server_timeouts_total", "Client connections closed for idling, for a frame that came too slowly, or for replies not read in time."),
			func(m client.ServerMetrics) uint64 { return m.Timeouts }},
		{moduleDesc("mir_client_server_throttled_frames_total", "Frames from clients delayed by the per-connection rate limit (FramesPerSecond)."),
			func(m client.ServerMetrics) uint64 { return m.Throttled }},
		{moduleDesc("mir_client_server_transactions_total", "Transactions read from clients and handed to the node."),
			func(m client.ServerMetrics) uint64 { return m.Txs }},
		{moduleDesc("mir_client_server_replies_total", "Replies queued to a client's connection."),
			func(m client.ServerMetrics) uint64 { return m.Replies }},
		{moduleDesc("mir_client_server_dropped_replies_total", "Replies dropped: the client had no connection, or its queue was full."),
			func(m client.ServerMetrics) uint64 { return m.RepliesDropped }},
		{moduleDesc("mir_client_server_cached_replies_total", "Transactions submitted again after they executed, answered from the reply cache."),
			func(m client.ServerMetrics) uint64 { return m.CachedReplies }},
		{moduleDesc("mir_client_server_stray_messages_total", "Messages from other nodes addressed to the client server, dropped."),
			func(m client.ServerMetrics) uint64 { return m.StrayMessages }},
	}
)

func moduleDesc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, moduleLabels, nil)
}

// collectClientServer sends a ClientServer's families.
func collectClientServer(ch chan<- prometheus.Metric, labels []string, s ClientServerStats) {
	for _, c := range clientServerCounters {
		counter(ch, c.desc, c.value(s.ServerMetrics), labels...)
	}
	histogram(ch, descClientLatency, clientLatencyBounds[:], s.LatencyCounts[:], s.LatencySum, labels)
	counter(ch, descClientUntimed, s.Untimed, labels[0], labels[1], "full")
	counter(ch, descClientUntimed, s.Expired, labels[0], labels[1], "expired")
}
