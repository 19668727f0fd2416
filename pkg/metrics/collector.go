package metrics

import (
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/net"
	"github.com/mirframework/mir/pkg/net/tcp"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdtypes"
)

// Source is what a Collector reads at every scrape: a *mir.Node.
type Source interface {
	Stats() mir.NodeStats
}

// Label names. Their values are bounded: node and module IDs are fixed
// when a node is built (submodules made at run time, such as an orderer
// per segment, report through their parent), peers are members.
const (
	labelNode   = "node"
	labelModule = "module"
	labelPeer   = "peer"
	labelReason = "reason"
)

var moduleLabels = []string{labelNode, labelModule}

// Collector is a prometheus.Collector that exports, at every scrape, what
// a node and its modules report (mir.Node.Stats): the node's own counters
// per module, a transport's counters per peer, and every other report,
// field by field (see the package documentation). It reads the node at
// scrape time and keeps nothing between scrapes: a node not scraped costs
// nothing, and a module's counters stay in the module.
//
// It is an unchecked collector (Describe sends nothing): which families
// exist depends on the node's modules, known only when it reports.
type Collector struct {
	node    stdtypes.NodeID
	src     Source
	reports reportTypes
}

var _ prometheus.Collector = (*Collector)(nil)

// Option configures a Collector.
type Option func(*Collector)

// Gauges marks the named fields of the report type of report (a value of
// it, such as mempool.Stats{}) as gauges: values that go down as well as
// up. Nested fields are named by dotted paths ("Log.Segments"). Without
// it, unsigned integers and durations are counters (exported with
// "_total"), other numbers and booleans gauges. It panics if the type
// has no such field, so that a renamed field fails the program's tests
// rather than turning into a counter.
func Gauges(report any, fields ...string) Option {
	return func(c *Collector) { c.reports.kinds.set("Gauges", report, fields, kindGauge) }
}

// Omit leaves the named fields of the report type of report out, such
// as a value another family already exports.
func Omit(report any, fields ...string) Option {
	return func(c *Collector) { c.reports.kinds.set("Omit", report, fields, kindOmit) }
}

// builtin are the options for Mir's own reports: their unsigned fields
// that are gauges, and the WAL's commit time, which is the sum of the
// mir_wal_commit_seconds histogram.
var builtin = []Option{
	Gauges(mempool.Stats{}, "HeldTxs", "HeldBytes", "Clients", "Requests"),
	Gauges(reliablenet.Stats{}, "Pending", "PendingBytes"),
	Gauges(iss.Stats{}, "Epoch", "NextSeqNr", "StableEpoch", "GCIndex"),
	Omit(wal.ModuleStats{}, "Log.CommitTime"),
}

// NewCollector returns a collector of what src (node's mir.Node) reports,
// with the label node set to node.
func NewCollector(node stdtypes.NodeID, src Source, opts ...Option) *Collector {
	c := &Collector{node: node, src: src, reports: reportTypes{kinds: make(fieldKinds)}}
	for _, opt := range builtin {
		opt(c)
	}
	for _, opt := range opts {
		opt(c)
	}
	return c
}

// Describe sends nothing: the collector is unchecked.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect reads the node's statistics and sends them as metrics.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Stats()
	node := string(c.node)
	gauge(ch, descBuffered, float64(s.BufferedEvents), node)
	gauge(ch, descInputPaused, boolValue(s.InputPaused), node)
	counter(ch, descInputPauses, s.InputPauses, node)
	for _, id := range sortedKeys(s.Modules) {
		m, labels := s.Modules[id], []string{node, string(id)}
		counter(ch, descEventsIn, m.EventsIn, labels...)
		counter(ch, descEventsOut, m.EventsOut, labels...)
		counter(ch, descBatches, m.Batches, labels...)
		ch <- prometheus.MustNewConstMetric(descBusy, prometheus.CounterValue, m.Busy.Seconds(), labels...)
		counter(ch, descModuleDropped, m.DroppedUnknown, node, string(id), "unknown_destination")
		counter(ch, descModuleDropped, m.DroppedMessages, node, string(id), "no_receiver")
	}
	for _, id := range sortedKeys(s.Reports) {
		c.collectReport(ch, []string{node, string(id)}, s.Reports[id])
	}
}

// collectReport sends the metrics of one module's report.
func (c *Collector) collectReport(ch chan<- prometheus.Metric, labels []string, report any) {
	switch r := report.(type) {
	case tcp.Metrics:
		collectTCP(ch, labels, r)
		return
	case net.TransportStats:
		collectTransport(ch, labels, r)
		return
	case batchfetcher.Stats:
		collectBatchFetcher(ch, labels, r)
	case wal.ModuleStats:
		collectWAL(ch, labels, r.Log)
	case iss.Stats:
		collectISS(ch, labels, r)
	case ClientServerStats:
		collectClientServer(ch, labels, r)
		return
	}
	v := reflect.ValueOf(report)
	if v.Kind() == reflect.Pointer && !v.IsNil() {
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return // a report that is no struct has no fields to export
	}
	c.reports.of(v.Type()).collect(ch, v, labels)
}

var (
	descBuffered = prometheus.NewDesc("mir_node_buffered_events",
		"Events waiting in the node's buffer.", []string{labelNode}, nil)
	descInputPaused = prometheus.NewDesc("mir_node_input_paused",
		"1 while the node does not read from its active modules (backpressure: the buffer is above PauseInputThreshold), else 0.",
		[]string{labelNode}, nil)
	descInputPauses = prometheus.NewDesc("mir_node_input_pauses_total",
		"Times the node paused reading from its active modules (backpressure).", []string{labelNode}, nil)
	descEventsIn = prometheus.NewDesc("mir_module_events_in_total",
		"Events the node dispatched to the module.", moduleLabels, nil)
	descEventsOut = prometheus.NewDesc("mir_module_events_out_total",
		"Events the module produced (passive) or emitted (active).", moduleLabels, nil)
	descBatches = prometheus.NewDesc("mir_module_batches_total",
		"Calls of the module's ApplyEvents.", moduleLabels, nil)
	descBusy = prometheus.NewDesc("mir_module_busy_seconds_total",
		"Time spent in the module's ApplyEvents.", moduleLabels, nil)
	descModuleDropped = prometheus.NewDesc("mir_module_dropped_events_total",
		"Events the node dropped: reason unknown_destination, emitted by this active module for a module the node lacks; "+
			"no_receiver, messages from other nodes for this module, which takes none.",
		[]string{labelNode, labelModule, labelReason}, nil)
)

// collectBatchFetcher sends the batch fetcher's dropped transactions by
// reason, an array the generic export leaves out.
func collectBatchFetcher(ch chan<- prometheus.Metric, labels []string, s batchfetcher.Stats) {
	for r, n := range s.Dropped {
		reason := strings.ReplaceAll(batchfetcher.DropReason(r).String(), " ", "_")
		counter(ch, descBatchFetcherDropped, n, labels[0], labels[1], reason)
	}
}

// collectWAL sends the WAL's commit times as a histogram, an array the
// generic export leaves out.
func collectWAL(ch chan<- prometheus.Metric, labels []string, s wal.Stats) {
	var bounds []float64
	for _, b := range wal.CommitBounds() {
		bounds = append(bounds, b.Seconds())
	}
	histogram(ch, descWALCommit, bounds, s.CommitCounts[:], s.CommitTime, labels)
}

// histogram sends a histogram of counts, per bucket: counts[i] are the
// values above bounds[i-1] (seconds) and at most bounds[i], the last
// count those above every bound; sum is their sum.
func histogram(ch chan<- prometheus.Metric, d *prometheus.Desc, bounds []float64, counts []uint64, sum time.Duration, labels []string) {
	buckets := make(map[float64]uint64, len(bounds))
	var count uint64
	for i, bound := range bounds {
		count += counts[i]
		buckets[bound] = count
	}
	count += counts[len(bounds)]
	ch <- prometheus.MustNewConstHistogram(d, count, sum.Seconds(), buckets, labels...)
}

// collectISS sends the current epoch's leaders, one sample of 1 per
// leader, a list the generic export leaves out.
func collectISS(ch chan<- prometheus.Metric, labels []string, s iss.Stats) {
	for _, l := range s.Leaders {
		gauge(ch, descISSLeader, 1, labels[0], labels[1], string(l))
	}
}

var descISSLeader = prometheus.NewDesc("mir_iss_leader",
	"1 for each leader of the node's current ISS epoch (label leader); the nodes the leader policy left out have no sample.",
	[]string{labelNode, labelModule, "leader"}, nil)

var descWALCommit = prometheus.NewDesc("mir_wal_commit_seconds",
	"Time to write and sync one group of WAL records (the disk's latency as a record sees it once the committer takes it).",
	moduleLabels, nil)

var descBatchFetcherDropped = prometheus.NewDesc("mir_batchfetcher_dropped_transactions_total",
	"Transactions of ordered batches that did not execute, by reason (batchfetcher.DropReason).",
	[]string{labelNode, labelModule, labelReason}, nil)

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// sortedKeys returns m's keys in order, so that a scrape lists modules
// and peers in the same order every time.
func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
