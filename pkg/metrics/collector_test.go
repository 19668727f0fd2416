package metrics

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/bcb"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/net"
	"github.com/mirframework/mir/pkg/net/tcp"
	"github.com/mirframework/mir/pkg/orderers/pbft"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdtypes"
)

// fixedSource reports what it holds.
type fixedSource struct{ s mir.NodeStats }

func (f *fixedSource) Stats() mir.NodeStats { return f.s }

// userStats is a report of a user's module: its package's name (metrics)
// names its families.
type userStats struct {
	Requests   uint64
	QueueLen   int
	Latency    time.Duration
	Healthy    bool
	Name       string         // not a number: left out
	PerPeer    map[string]int // not a number: left out
	Inner      innerStats
	unexported uint64
}

type innerStats struct{ Hits uint64 }

func TestCollectorExportsNodeAndReports(t *testing.T) {
	var commits [len(wal.Stats{}.CommitCounts)]uint64
	commits[0], commits[len(commits)-1] = 1, 2
	src := &fixedSource{s: mir.NodeStats{
		Modules: map[stdtypes.ModuleID]mir.ModuleStats{
			"iss": {EventsIn: 7, EventsOut: 3, Batches: 2, Busy: 1500 * time.Millisecond, DroppedMessages: 1},
		},
		BufferedEvents: 5, InputPaused: true, InputPauses: 2,
		Reports: map[stdtypes.ModuleID]any{
			"iss":     iss.Stats{Epoch: 4, Delivered: 10, Aborted: 1, Leaders: []stdtypes.NodeID{"0", "2"}},
			"mempool": mempool.Stats{Accepted: 9, HeldTxs: 3},
			"bf":      batchfetcher.Stats{Executed: 8, Dropped: [5]uint64{2}},
			"user":    userStats{Requests: 1, QueueLen: 2, Latency: time.Second, Healthy: true, Inner: innerStats{Hits: 4}, unexported: 6},
			"net": tcp.Metrics{Peers: map[stdtypes.NodeID]tcp.PeerMetrics{
				"1": {MessagesOut: 5, BytesOut: 100, Connects: 3, Connected: true, QueueMessages: 2},
			}, DroppedTooLarge: 1},
			"sim":      net.TransportStats{Peers: map[stdtypes.NodeID]net.PeerStats{"2": {Out: 6, DroppedIn: 1}}},
			"wal":      wal.ModuleStats{Appended: 4, Log: wal.Stats{Groups: 3, Segments: 2, CommitTime: 3 * time.Millisecond, CommitCounts: commits}},
			"ordering": pbft.Stats{ViewChanges: 2},
			"bcb":      &bcb.Stats{Delivered: 3}, // a pointer to a struct works too
			"nilptr":   (*bcb.Stats)(nil),
			"nil":      nil,
			"other":    42, // not a struct: left out
		},
	}}
	c := NewCollector("0", src, Gauges(userStats{}, "Inner.Hits"))
	want := `
# HELP mir_node_buffered_events Events waiting in the node's buffer.
# TYPE mir_node_buffered_events gauge
mir_node_buffered_events{node="0"} 5
# HELP mir_node_input_pauses_total Times the node paused reading from its active modules (backpressure).
# TYPE mir_node_input_pauses_total counter
mir_node_input_pauses_total{node="0"} 2
# HELP mir_module_busy_seconds_total Time spent in the module's ApplyEvents.
# TYPE mir_module_busy_seconds_total counter
mir_module_busy_seconds_total{module="iss",node="0"} 1.5
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want),
		"mir_node_buffered_events", "mir_node_input_pauses_total", "mir_module_busy_seconds_total"); err != nil {
		t.Error(err)
	}
	values := map[string]float64{
		`mir_node_input_paused{node="0"}`:                                                             1,
		`mir_module_events_in_total{module="iss",node="0"}`:                                           7,
		`mir_module_dropped_events_total{module="iss",node="0",reason="no_receiver"}`:                 1,
		`mir_iss_epoch{module="iss",node="0"}`:                                                        4,
		`mir_iss_delivered_total{module="iss",node="0"}`:                                              10,
		`mir_iss_aborted_total{module="iss",node="0"}`:                                                1,
		`mir_iss_has_stable{module="iss",node="0"}`:                                                   0,
		`mir_iss_leader{leader="0",module="iss",node="0"}`:                                            1,
		`mir_iss_leader{leader="2",module="iss",node="0"}`:                                            1,
		`mir_mempool_held_txs{module="mempool",node="0"}`:                                             3,
		`mir_mempool_accepted_total{module="mempool",node="0"}`:                                       9,
		`mir_batchfetcher_executed_total{module="bf",node="0"}`:                                       8,
		`mir_batchfetcher_dropped_transactions_total{module="bf",node="0",reason="executed"}`:         2,
		`mir_batchfetcher_dropped_transactions_total{module="bf",node="0",reason="too_many_clients"}`: 0,
		`mir_metrics_requests_total{module="user",node="0"}`:                                          1,
		`mir_metrics_queue_len{module="user",node="0"}`:                                               2,
		`mir_metrics_latency_seconds_total{module="user",node="0"}`:                                   1,
		`mir_metrics_healthy{module="user",node="0"}`:                                                 1,
		`mir_metrics_inner_hits{module="user",node="0"}`:                                              4,
		`mir_transport_messages_sent_total{module="net",node="0",peer="1"}`:                           5,
		`mir_transport_sent_bytes_total{module="net",node="0",peer="1"}`:                              100,
		`mir_transport_reconnects_total{module="net",node="0",peer="1"}`:                              2,
		`mir_transport_connected{module="net",node="0",peer="1"}`:                                     1,
		`mir_transport_queue_messages{module="net",node="0",peer="1"}`:                                2,
		`mir_transport_dropped_sends_total{module="net",node="0",reason="too_large"}`:                 1,
		`mir_wal_appended_total{module="wal",node="0"}`:                                               4,
		`mir_wal_log_groups_total{module="wal",node="0"}`:                                             3,
		`mir_wal_log_segments{module="wal",node="0"}`:                                                 2,
		`mir_wal_commit_seconds_count{module="wal",node="0"}`:                                         3,
		`mir_wal_commit_seconds_sum{module="wal",node="0"}`:                                           0.003,
		`mir_pbft_view_changes_total{module="ordering",node="0"}`:                                     2,
		`mir_transport_messages_sent_total{module="sim",node="0",peer="2"}`:                           6,
		`mir_transport_messages_dropped_total{direction="in",module="sim",node="0",peer="2"}`:         1,
	}
	got := scrape(t, c)
	for name, v := range values {
		if g, ok := got[name]; !ok {
			t.Errorf("%s missing", name)
		} else if g != v {
			t.Errorf("%s = %v, want %v", name, g, v)
		}
	}
	for name := range got {
		if strings.HasPrefix(name, "mir_iss_leader{") && !strings.Contains(name, `leader="0"`) && !strings.Contains(name, `leader="2"`) {
			t.Errorf("%s: not a leader", name)
		}
		for _, bad := range []string{"mir_wal_log_commit_time", "mir_metrics_name", "mir_metrics_per_peer", "unexported", `module="other"`, `module="nil"`, `module="nilptr"`, `mir_transport_sent_bytes_total{module="sim"`} {
			if strings.Contains(name, bad) {
				t.Errorf("%s exported", name)
			}
		}
	}
}

func TestOptionsPanicOnUnknownField(t *testing.T) {
	for _, f := range []string{"Nope", "Name", "Inner.Nope", "Inner", "unexported"} {
		for name, opt := range map[string]func(any, ...string) Option{"Gauges": Gauges, "Omit": Omit} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s(userStats{}, %q) did not panic", name, f)
					}
				}()
				NewCollector("0", &fixedSource{}, opt(userStats{}, f))
			}()
		}
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Errorf("Gauges(42) did not panic")
			}
		}()
		NewCollector("0", &fixedSource{}, Gauges(42, "X"))
	}()
}

func TestOmit(t *testing.T) {
	src := &fixedSource{s: mir.NodeStats{Reports: map[stdtypes.ModuleID]any{"user": userStats{Requests: 1, QueueLen: 2}}}}
	got := scrape(t, NewCollector("0", src, Omit(userStats{}, "Requests")))
	if _, ok := got[`mir_metrics_requests_total{module="user",node="0"}`]; ok {
		t.Error("omitted field exported")
	}
	if _, ok := got[`mir_metrics_queue_len{module="user",node="0"}`]; !ok {
		t.Error("field not omitted missing")
	}
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"NextSeqNr": "next_seq_nr", "BadClientID": "bad_client_id", "GCIndex": "gc_index",
		"EventsIn": "events_in", "ISS": "iss", "Log": "log", "P2PBytes": "p2p_bytes", "pbft": "pbft",
		"yaml.v3": "yaml_v3", "Délai": "d_lai", "my-pkg": "my_pkg",
	} {
		if got := snakeCase(in); got != want {
			t.Errorf("snakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

// scrape gathers c through a registry, which checks the families (names,
// help, label consistency), and returns each sample by its name and
// labels, as the text format writes them.
func scrape(t *testing.T, cs ...prometheus.Collector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	for _, c := range cs {
		reg.MustRegister(c)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return samples(families)
}

// The WAL's commit counts become a histogram with cumulative buckets at
// wal.CommitBounds.
func TestWALHistogram(t *testing.T) {
	var commits [len(wal.Stats{}.CommitCounts)]uint64
	commits[0], commits[2], commits[len(commits)-1] = 1, 4, 2
	src := &fixedSource{s: mir.NodeStats{Reports: map[stdtypes.ModuleID]any{
		"wal": wal.ModuleStats{Log: wal.Stats{Groups: 7, CommitTime: time.Second, CommitCounts: commits}},
	}}}
	h, _ := gatherHistogram(t, NewCollector("0", src), "mir_wal_commit_seconds")
	if h.GetSampleCount() != 7 || h.GetSampleSum() != 1 {
		t.Errorf("count %d, sum %v; want 7, 1", h.GetSampleCount(), h.GetSampleSum())
	}
	bounds := wal.CommitBounds()
	want := []uint64{1, 1, 5}
	for k := 3; k < len(bounds); k++ {
		want = append(want, 5)
	}
	if len(h.GetBucket()) != len(bounds) {
		t.Fatalf("%d buckets, want %d", len(h.GetBucket()), len(bounds))
	}
	for k, b := range h.GetBucket() {
		if b.GetUpperBound() != bounds[k].Seconds() || b.GetCumulativeCount() != want[k] {
			t.Errorf("bucket %d: le %v count %d; want le %v count %d", k, b.GetUpperBound(), b.GetCumulativeCount(), bounds[k].Seconds(), want[k])
		}
	}
}

// gatherHistogram gathers c through a registry and returns the histogram
// of the family name (its only one), and every family gathered.
func gatherHistogram(t *testing.T, c prometheus.Collector, name string) (*dto.Histogram, []*dto.MetricFamily) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(families, func(f *dto.MetricFamily) bool { return f.GetName() == name })
	if i < 0 {
		t.Fatalf("no %s", name)
	}
	return families[i].GetMetric()[0].GetHistogram(), families
}
