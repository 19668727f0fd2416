package main

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/mirframework/mir/stdtypes"
)

// testStatus is a status of four nodes, node 2 down.
func testStatus() status {
	st := status{
		elapsed: 12 * time.Second, windowS: 1,
		load: loadStatus{ratePerS: 1000, submitted: 12000, completed: 11900, failed: 3, windowTxs: 987,
			p50: 12300 * time.Microsecond, p99: 45600 * time.Microsecond},
	}
	for i, id := range []string{"0", "1", "2", "3"} {
		ns := nodeStatus{id: stdtypes.NodeID(id), up: i != 2, scraped: i != 2, restarts: i,
			nodeMetrics: nodeMetrics{height: 1800 + uint64(i), epoch: 21, executed: 9000, viewChanges: 5 + uint64(i), drops: 7},
			txPerS:      990}
		st.nodes = append(st.nodes, ns)
	}
	return st
}

func TestPlainLine(t *testing.T) {
	got := plainLine(testStatus())
	want := "  12s load 1000 tx/s: 987 tx/s done, p50 12.3ms p99 45.6ms, 3 failed" +
		" | node 0 height 1800 epoch 21 990 tx/s vc 5 drops 7" +
		" | node 1 height 1801 epoch 21 990 tx/s vc 6 drops 7" +
		" | node 2 down" +
		" | node 3 height 1803 epoch 21 990 tx/s vc 8 drops 7"
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
		"a cluster", "up 12s", "height", "1801", "epoch", "view changes", "restarts", "down",
		"1000 tx/s offered", "987 tx/s answered", "12000 submitted", "3 failed", "p50 12.3ms", "p99 45.6ms",
		"leader set", "0-3 kill -9",
	} {
		if !strings.Contains(view, want) {
			t.Errorf("view lacks %q:\n%s", want, view)
		}
	}
	// Row of node 1: its figures in order.
	if !regexpMatch(`(?m)^\s*1\s+up\s+1801\s+21\s+990\s+6\s+7\s+1\s*$`, view) {
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
`
	got, err := parseMetrics(strings.NewReader(page))
	want := nodeMetrics{height: 182, epoch: 6, executed: 1234, viewChanges: 16, drops: 6}
	if err != nil || got != want {
		t.Errorf("parseMetrics = %+v, %v; want %+v", got, err, want)
	}
	if _, err := parseMetrics(strings.NewReader("mir_iss_epoch{ 6\n")); err == nil {
		t.Error("a broken page parsed")
	}
	if got, err := parseMetrics(strings.NewReader("")); err != nil || got != (nodeMetrics{}) {
		t.Errorf("an empty page: %+v, %v", got, err)
	}
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }
