package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/mirframework/mir/pkg/loadgen"
	"github.com/mirframework/mir/stdtypes"
)

// status is what the cluster looks like at one moment: what the view and
// the summary lines show.
type status struct {
	elapsed time.Duration
	nodes   []nodeStatus
	// ratePerS is the load's offered rate (0: no load), load what it got
	// since the last poll.
	ratePerS int
	load     loadgen.Progress
	// windowS is the length of the window of the nodes' rates, in
	// seconds.
	windowS float64
}

// nodeStatus is one replica's status.
type nodeStatus struct {
	id stdtypes.NodeID
	// up: its process runs; scraped: its metrics were read.
	up, scraped bool
	restarts    int
	nodeMetrics
	// txPerS is the rate of transactions it executed in the window; p50
	// and p99 the latency of those that arrived at it (hasLatency: some
	// did).
	txPerS     float64
	p50, p99   time.Duration
	hasLatency bool
}

// monitor makes the cluster's status, scraping each replica's metrics.
type monitor struct {
	c *cluster
	// load is the cluster's load (nil: none), of ratePerS.
	load     *loadgen.Running
	ratePerS int
	hc       *http.Client
	start    time.Time
	// last is each node's status at the last poll, at lastAt.
	last   []nodeStatus
	lastAt time.Time
}

func newMonitor(c *cluster, load *loadgen.Running, ratePerS int) *monitor {
	now := time.Now()
	return &monitor{c: c, load: load, ratePerS: ratePerS, hc: &http.Client{}, start: now,
		last: make([]nodeStatus, len(c.nodes)), lastAt: now}
}

// poll returns the status now; the rates are those since the last poll.
func (m *monitor) poll(ctx context.Context) status {
	now := time.Now()
	st := status{elapsed: now.Sub(m.start), ratePerS: m.ratePerS, windowS: now.Sub(m.lastAt).Seconds()}
	if m.load != nil {
		st.load = m.load.Progress()
	}
	for i, p := range m.c.nodes {
		ns := nodeStatus{id: p.id, up: p.running()}
		p.mu.Lock()
		ns.restarts = p.restarts
		p.mu.Unlock()
		if ns.up {
			nm, err := scrape(ctx, m.hc, p.opts.metricsAddr)
			ns.scraped = err == nil
			ns.nodeMetrics = nm
		}
		if ns.scraped {
			ns.window(m.last[i], st.windowS)
		}
		m.last[i] = ns
		st.nodes = append(st.nodes, ns)
	}
	m.lastAt = now
	return st
}

// window sets the figures of ns over the windowS seconds since last, the
// node's status at the last poll. A replica restarted since counts from
// 0 again: its figures are since its start.
func (ns *nodeStatus) window(last nodeStatus, windowS float64) {
	since := last.scraped && last.restarts == ns.restarts
	executed := ns.executed
	if since && last.executed <= executed {
		executed -= last.executed
	}
	ns.txPerS = float64(executed) / windowS
	lat := ns.latency
	if since {
		lat = lat.since(last.latency)
	}
	p50, ok50 := lat.quantile(0.5)
	p99, ok99 := lat.quantile(0.99)
	ns.p50, ns.p99, ns.hasLatency = p50, p99, ok50 && ok99
}

// state says whether a node runs.
func (ns nodeStatus) state() string {
	switch {
	case !ns.up:
		return "down"
	case !ns.scraped:
		return "starting"
	}
	return "up"
}

// leaderList is the node's current epoch's leaders, "0,1,3".
func (ns nodeStatus) leaderList() string {
	ids := make([]string, len(ns.leaders))
	for i, l := range ns.leaders {
		ids[i] = string(l)
	}
	return strings.Join(ids, ",")
}

// latencyText is the node's latency, "12.3ms/45.6ms" (p50/p99), or "-"
// if no transaction arrived at it in the window.
func (ns nodeStatus) latencyText() string {
	if !ns.hasLatency {
		return "-"
	}
	return ms(ns.p50) + "/" + ms(ns.p99)
}

// ms formats d in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

// msOf formats a latency of loadgen's, in milliseconds.
func msOf(v float64) string { return fmt.Sprintf("%.1fms", v) }

// failed counts the load's transactions that failed or timed out.
func failed(p loadgen.Progress) int64 { return p.Total.Errors + p.Total.Timeouts }

// plainLine is the one-line summary of st printed each second without a
// terminal.
func plainLine(st status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%4.0fs load %d tx/s: %.0f tx/s done, p50 %s p99 %s, %d failed |",
		st.elapsed.Seconds(), st.ratePerS, st.load.TxPerSecond, msOf(st.load.P50Ms), msOf(st.load.P99Ms), failed(st.load))
	for _, ns := range st.nodes {
		if ns.state() != "up" {
			fmt.Fprintf(&b, " node %s %s |", ns.id, ns.state())
			continue
		}
		fmt.Fprintf(&b, " node %s height %d epoch %d leaders %s %.0f tx/s p50/p99 %s vc %d drops %d |",
			ns.id, ns.height, ns.epoch, ns.leaderList(), ns.txPerS, ns.latencyText(), ns.viewChanges, ns.drops)
	}
	return strings.TrimSuffix(b.String(), " |")
}

// viewModel is the live terminal view (a bubbletea model): a table of the
// replicas, the load's figures, and keys to kill and restart replicas.
type viewModel struct {
	// header says what runs, and where its files are.
	header string
	nodes  int
	st     status
	// toggle kills node i, or restarts it if it is down, and says what it
	// did; it runs outside Update (a tea.Cmd), since killing waits for
	// the process to exit.
	toggle func(i int) (string, error)
	// note is what the last key did.
	note string
}

// statusMsg brings the status of each poll; noteMsg what a key did.
type (
	statusMsg status
	noteMsg   string
)

// Init implements tea.Model.
func (m viewModel) Init() tea.Cmd { return nil }

// Update implements tea.Model.
func (m viewModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case statusMsg:
		m.st = status(msg)
	case noteMsg:
		m.note = string(msg)
	case tea.KeyMsg:
		switch k := msg.String(); {
		case k == "q" || k == "ctrl+c" || k == "esc":
			return m, tea.Quit
		case len(k) == 1 && k[0] >= '0' && k[0] <= '9':
			i := int(k[0] - '0')
			toggle := m.toggle
			return m, func() tea.Msg {
				what, err := toggle(i)
				if err != nil {
					return noteMsg(err.Error())
				}
				return noteMsg(what)
			}
		}
	}
	return m, nil
}

// View implements tea.Model.
func (m viewModel) View() string {
	var b strings.Builder
	fmt.Fprintf(&b, "up %s   %s\n\n", m.st.elapsed.Truncate(time.Second), m.header)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "node\tstate\theight\tepoch\tleaders\ttx/s\tp50/p99\tview changes\tdrops\trestarts\t")
	for _, ns := range m.st.nodes {
		if ns.state() != "up" {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t-\t-\t%d\t\n", ns.id, ns.state(), ns.restarts)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%.0f\t%s\t%d\t%d\t%d\t\n",
			ns.id, ns.state(), ns.height, ns.epoch, ns.leaderList(), ns.txPerS, ns.latencyText(), ns.viewChanges, ns.drops, ns.restarts)
	}
	tw.Flush()
	l := m.st.load
	fmt.Fprintf(&b, "\nload    %d tx/s offered, %.0f tx/s answered; %d submitted, %d failed\n",
		m.st.ratePerS, l.TxPerSecond, l.Submitted, failed(l))
	fmt.Fprintf(&b, "latency p50 %s  p99 %s  at the client: submission to f+1 matching results\n", msOf(l.P50Ms), msOf(l.P99Ms))
	b.WriteString("        a node's p50/p99: from a transaction's arrival at it to its execution there\n")
	b.WriteString("        leaders: the node's current epoch's; a node whose slots failed is left out for a while\n\n")
	fmt.Fprintf(&b, "keys    0-%d kill -9 a node, or restart it if down   q quit and clean up\n", m.nodes-1)
	if m.note != "" {
		fmt.Fprintf(&b, "        %s\n", m.note)
	}
	return b.String()
}
