package main

import (
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/mirframework/mir/pkg/loadgen"
	"github.com/mirframework/mir/stdtypes"
)

// testStatus is a status of four nodes, node 2 down, node 3 with no
// latency in the window.
func testStatus() status {
	st := status{
		elapsed: 12 * time.Second, windowS: 1, ratePerS: 1000,
		load: loadgen.Progress{TxPerSecond: 987, Completed: 987, Submitted: 12000,
			Total: loadgen.Counts{Completed: 11900, Errors: 1, Timeouts: 2}, P50Ms: 12.3, P99Ms: 45.6},
	}
	for i, id := range []string{"0", "1", "2", "3"} {
		ns := nodeStatus{id: stdtypes.NodeID(id), up: i != 2, scraped: i != 2, restarts: i,
			nodeMetrics: nodeMetrics{height: 1800 + uint64(i), epoch: 21, executed: 9000, viewChanges: 5 + uint64(i), drops: 7,
				leaders: []stdtypes.NodeID{"0", "1", "3"}},
			txPerS: 990, p50: 8 * time.Millisecond, p99: time.Duration(30+i) * time.Millisecond, hasLatency: i != 3}
		st.nodes = append(st.nodes, ns)
	}
	return st
}

func TestPlainLine(t *testing.T) {
	got := plainLine(testStatus())
	want := "  12s load 1000 tx/s: 987 tx/s done, p50 12.3ms p99 45.6ms, 3 failed" +
		" | node 0 height 1800 epoch 21 leaders 0,1,3 990 tx/s p50/p99 8.0ms/30.0ms vc 5 drops 7" +
		" | node 1 height 1801 epoch 21 leaders 0,1,3 990 tx/s p50/p99 8.0ms/31.0ms vc 6 drops 7" +
		" | node 2 down" +
		" | node 3 height 1803 epoch 21 leaders 0,1,3 990 tx/s p50/p99 - vc 8 drops 7"
	if got != want {
		t.Errorf("plainLine:\n got %q\nwant %q", got, want)
	}
}

// key is the message of a key press.
func key(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }

// TestViewModel drives the view's model with messages, as bubbletea
// does: a status, keys that kill and restart nodes, and q.
func TestViewModel(t *testing.T) {
	var toggled []int
	var m tea.Model = viewModel{header: "a cluster", nodes: 4, toggle: func(i int) (string, error) {
		toggled = append(toggled, i)
		if i >= 4 {
			return "", errors.New("no such node: 7")
		}
		return "node killed", nil
	}}
	m, cmd := m.Update(statusMsg(testStatus()))
	if cmd != nil {
		t.Error("a status returned a command")
	}
	view := m.View()
	for _, want := range []string{
		"a cluster", "up 12s", "height", "1801", "epoch", "leaders", "p50/p99", "view changes", "restarts", "down",
		"1000 tx/s offered", "987 tx/s answered", "12000 submitted", "3 failed", "p50 12.3ms", "p99 45.6ms",
		"arrival at it to its execution there", "0-3 kill -9",
	} {
		if !strings.Contains(view, want) {
			t.Errorf("view lacks %q:\n%s", want, view)
		}
	}
	// Row of node 1: its figures in order.
	if !regexpMatch(`(?m)^\s*1\s+up\s+1801\s+21\s+0,1,3\s+990\s+8\.0ms/31\.0ms\s+6\s+7\s+1\s*$`, view) {
		t.Errorf("node 1's row is not in the view:\n%s", view)
	}

	// A digit toggles that node, in a command; its result is shown.
	m, cmd = m.Update(key("1"))
	if cmd == nil || len(toggled) != 0 {
		t.Fatalf("key 1: command %v, toggled %v before the command ran", cmd != nil, toggled)
	}
	m, _ = m.Update(cmd())
	if len(toggled) != 1 || toggled[0] != 1 || !strings.Contains(m.View(), "node killed") {
		t.Errorf("key 1 toggled %v; view:\n%s", toggled, m.View())
	}
	m, cmd = m.Update(key("7"))
	m, _ = m.Update(cmd())
	if !strings.Contains(m.View(), "no such node: 7") {
		t.Errorf("key 7's error is not shown:\n%s", m.View())
	}
	// Other keys do nothing.
	if _, cmd := m.Update(key("x")); cmd != nil {
		t.Error("key x returned a command")
	}
	_, cmd = m.Update(key("q"))
	if cmd == nil {
		t.Fatal("q returned no command")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Error("q does not quit")
	}
}

func TestParseMetrics(t *testing.T) {
	const page = `# TYPE mir_iss_next_seq_nr gauge
mir_iss_next_seq_nr{module="iss",node="0"} 182
# TYPE mir_iss_epoch gauge
mir_iss_epoch{module="iss",node="0"} 6
# TYPE mir_iss_leader gauge
mir_iss_leader{leader="3",module="iss",node="0"} 1
mir_iss_leader{leader="0",module="iss",node="0"} 1
# TYPE mir_batchfetcher_executed_total counter
mir_batchfetcher_executed_total{module="batchfetcher",node="0"} 1234
# TYPE mir_pbft_view_changes_total counter
mir_pbft_view_changes_total{module="ordering",node="0"} 16
# TYPE mir_transport_messages_dropped_total counter
mir_transport_messages_dropped_total{direction="in",module="net",node="0",peer="1"} 2
mir_transport_messages_dropped_total{direction="out",module="net",node="0",peer="1"} 3
# TYPE mir_module_dropped_events_total counter
mir_module_dropped_events_total{module="net",node="0",reason="no_receiver"} 1
# TYPE mir_wal_commit_seconds histogram
mir_wal_commit_seconds_bucket{module="wal",node="0",le="+Inf"} 3
mir_wal_commit_seconds_sum{module="wal",node="0"} 0.1
mir_wal_commit_seconds_count{module="wal",node="0"} 3
# TYPE mir_client_server_latency_seconds histogram
mir_client_server_latency_seconds_bucket{module="clients",node="0",le="0.01"} 2
mir_client_server_latency_seconds_bucket{module="clients",node="0",le="0.1"} 9
mir_client_server_latency_seconds_bucket{module="clients",node="0",le="+Inf"} 10
mir_client_server_latency_seconds_sum{module="clients",node="0"} 1.5
mir_client_server_latency_seconds_count{module="clients",node="0"} 10
`
	got, err := parseMetrics(strings.NewReader(page))
	want := nodeMetrics{height: 182, epoch: 6, executed: 1234, viewChanges: 16, drops: 6,
		leaders: []stdtypes.NodeID{"0", "3"},
		latency: histogram{bounds: []float64{0.01, 0.1}, counts: []uint64{2, 9}, count: 10}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("parseMetrics = %+v, %v; want %+v", got, err, want)
	}
	if _, err := parseMetrics(strings.NewReader("mir_iss_epoch{ 6\n")); err == nil {
		t.Error("a broken page parsed")
	}
	if got, err := parseMetrics(strings.NewReader("")); err != nil || !reflect.DeepEqual(got, nodeMetrics{}) {
		t.Errorf("an empty page: %+v, %v", got, err)
	}
}

// A node's latency in a window is the difference of two scrapes'
// histograms, its percentiles interpolated within their buckets.
func TestHistogramWindow(t *testing.T) {
	bounds := []float64{0.01, 0.02, 0.04}
	before := histogram{bounds: bounds, counts: []uint64{5, 5, 5}, count: 5}
	// Since: 10 values in (0.01, 0.02], 10 in (0.02, 0.04].
	now := histogram{bounds: bounds, counts: []uint64{5, 15, 25}, count: 25}
	w := now.since(before)
	if !reflect.DeepEqual(w, histogram{bounds: bounds, counts: []uint64{0, 10, 20}, count: 20}) {
		t.Fatalf("window %+v", w)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{
		{0.5, 20 * time.Millisecond},  // the 10th of 20: the top of the second bucket
		{0.25, 15 * time.Millisecond}, // the 5th: half-way through it
		{0.99, 39600 * time.Microsecond},
	} {
		if got, ok := w.quantile(tc.q); !ok || (got-tc.want).Abs() > time.Microsecond {
			t.Errorf("quantile(%v) = %v, %v; want %v", tc.q, got, ok, tc.want)
		}
	}
	// Values above every bound: the last bound.
	above := histogram{bounds: bounds, counts: []uint64{0, 0, 1}, count: 10}
	if got, _ := above.quantile(0.99); got != 40*time.Millisecond {
		t.Errorf("quantile above every bound: %v", got)
	}
	// No values: no quantile.
	if _, ok := now.since(now).quantile(0.5); ok {
		t.Error("a window without values has a quantile")
	}
	// A restarted node (counts went down), or other bounds: the new
	// histogram as it is.
	restarted := histogram{bounds: bounds, counts: []uint64{1, 1, 1}, count: 1}
	if got := restarted.since(now); !reflect.DeepEqual(got, restarted) {
		t.Errorf("since a later state: %+v", got)
	}
	other := histogram{bounds: []float64{1}, counts: []uint64{30}, count: 30}
	if got := other.since(now); !reflect.DeepEqual(got, other) {
		t.Errorf("since other bounds: %+v", got)
	}
	if _, ok := (histogram{}).quantile(0.5); ok {
		t.Error("an empty histogram has a quantile")
	}
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }
