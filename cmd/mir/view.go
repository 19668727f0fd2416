package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/mirframework/mir/stdtypes"
)

// status is what the cluster looks like at one moment: what the view and
// the summary lines show.
type status struct {
	elapsed time.Duration
	nodes   []nodeStatus
	load    loadStatus
	// windowS is the length of the window of the rates, in seconds.
	windowS float64
}

// nodeStatus is one replica's status.
type nodeStatus struct {
	id stdtypes.NodeID
	// up: its process runs; scraped: its metrics were read.
	up, scraped bool
	restarts    int
	nodeMetrics
	// txPerS is the rate of transactions it executed in the window.
	txPerS float64
}

// monitor makes the cluster's status, scraping each replica's metrics.
type monitor struct {
	c     *cluster
	load  *load
	hc    *http.Client
	start time.Time
	// last is each node's status at the last poll, at lastAt.
	last   []nodeStatus
	lastAt time.Time
}

func newMonitor(c *cluster, l *load) *monitor {
	now := time.Now()
	return &monitor{c: c, load: l, hc: &http.Client{}, start: now, last: make([]nodeStatus, len(c.nodes)), lastAt: now}
}

// poll returns the status now; the rates are those since the last poll.
func (m *monitor) poll(ctx context.Context) status {
	now := time.Now()
	st := status{elapsed: now.Sub(m.start), load: m.load.take(), windowS: now.Sub(m.lastAt).Seconds()}
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
			executed := ns.executed
			// A restarted replica counts from 0 again.
			if last := m.last[i]; last.scraped && last.restarts == ns.restarts && last.executed <= executed {
				executed -= last.executed
			}
			ns.txPerS = float64(executed) / st.windowS
		}
		m.last[i] = ns
		st.nodes = append(st.nodes, ns)
	}
	m.lastAt = now
	return st
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

// ms formats d in milliseconds.
func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

// plainLine is the one-line summary of st printed each second without a
// terminal.
func plainLine(st status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%4.0fs load %d tx/s: %.0f tx/s done, p50 %s p99 %s, %d failed |",
		st.elapsed.Seconds(), st.load.ratePerS, float64(st.load.windowTxs)/st.windowS, ms(st.load.p50), ms(st.load.p99), st.load.failed)
	for _, ns := range st.nodes {
		if ns.state() != "up" {
			fmt.Fprintf(&b, " node %s %s |", ns.id, ns.state())
			continue
		}
		fmt.Fprintf(&b, " node %s height %d epoch %d %.0f tx/s vc %d drops %d |",
			ns.id, ns.height, ns.epoch, ns.txPerS, ns.viewChanges, ns.drops)
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
	fmt.Fprintln(tw, "node\tstate\theight\tepoch\ttx/s\tview changes\tdrops\trestarts\t")
	for _, ns := range m.st.nodes {
		if ns.state() != "up" {
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t-\t-\t%d\t\n", ns.id, ns.state(), ns.restarts)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.0f\t%d\t%d\t%d\t\n",
			ns.id, ns.state(), ns.height, ns.epoch, ns.txPerS, ns.viewChanges, ns.drops, ns.restarts)
	}
	tw.Flush()
	l := m.st.load
	done := 0.0
	if m.st.windowS > 0 {
		done = float64(l.windowTxs) / m.st.windowS
	}
	fmt.Fprintf(&b, "\nload    %d tx/s offered, %.0f tx/s answered; %d submitted, %d failed\n",
		l.ratePerS, done, l.submitted, l.failed)
	fmt.Fprintf(&b, "latency p50 %s  p99 %s  (at the client: submission to f+1 matching results)\n", ms(l.p50), ms(l.p99))
	b.WriteString("leaders not shown: the replicas' metrics do not expose the leader set\n\n")
	fmt.Fprintf(&b, "keys    0-%d kill -9 a node, or restart it if down   q quit and clean up\n", m.nodes-1)
	if m.note != "" {
		fmt.Fprintf(&b, "        %s\n", m.note)
	}
	return b.String()
}
