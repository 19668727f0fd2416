package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/mirframework/mir/pkg/loadgen"
)

// clusterOptions are the flags of `mir cluster`.
type clusterOptions struct {
	nodes, ratePerS int
	dir, record     string
	plain           bool
	duration        time.Duration
}

// replicaProgram returns the program that runs a replica, `mir replica`,
// and what its environment adds: this executable. Tests set it to their
// own binary, which becomes mir when the environment says so.
var replicaProgram = func() (exe string, env []string, err error) {
	exe, err = os.Executable()
	return exe, nil, err
}

func newClusterCmd() *cobra.Command {
	var o clusterOptions
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Run a local cluster of replicas under load, and watch it",
		Long: `Run a replicated key-value store (samples/kvstore) on Trantor: --nodes
replicas, each a process of its own ('mir replica') over authenticated TCP
on 127.0.0.1, with keys and a membership generated in a temporary directory
(--dir to keep them), and a load generator (pkg/loadgen, as cmd/bench) that
puts keys at --rate transactions per second.

In a terminal, a live view shows each replica's executed height, epoch,
leaders, transactions/s, p50/p99 latency (from a transaction's arrival at
the replica to its execution there), view changes and drops (read from its
Prometheus metrics), and the client's throughput and latency. Press a
node's number to kill it with SIGKILL, again to restart it: the others go
on, and it catches up. 'q' stops everything, prints what the load got, and
removes what the cluster created (unless --dir). Without a
terminal, or with --plain, it prints one summary line per second.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCluster(cmd, o) },
	}
	fs := cmd.Flags()
	fs.IntVarP(&o.nodes, "nodes", "n", 4, "number of replicas")
	fs.IntVar(&o.ratePerS, "rate", 1000, "transactions per second the client submits (0: none)")
	fs.StringVar(&o.dir, "dir", "", "keep the membership, keys, data and logs in this directory (default a temporary one, removed at the end)")
	fs.StringVar(&o.record, "record", "", "record every replica's events in this directory (mircat reads them)")
	fs.BoolVar(&o.plain, "plain", false, "print a summary line per second, even in a terminal")
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long (default: at q, SIGINT or SIGTERM)")
	return cmd
}

// runCluster starts the cluster and its load, shows them until the user
// quits, ctx ends or the duration passes, and stops everything.
func runCluster(cmd *cobra.Command, o clusterOptions) (err error) {
	if o.ratePerS < 0 {
		return fmt.Errorf("--rate %d: must not be negative", o.ratePerS)
	}
	exe, env, err := replicaProgram()
	if err != nil {
		return err
	}
	c, err := startCluster(clusterConfig{nodes: o.nodes, dir: o.dir, record: o.record, exe: exe, env: env})
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	defer func() {
		err = errors.Join(err, c.stop())
		if c.temp {
			fmt.Fprintf(out, "stopped %d replicas; removed %s\n", len(c.nodes), c.dir)
		} else {
			fmt.Fprintf(out, "stopped %d replicas; their files are in %s\n", len(c.nodes), c.dir)
		}
	}()
	ctx, cancel := context.WithCancel(cmd.Context())
	if o.duration > 0 {
		ctx, cancel = context.WithTimeout(cmd.Context(), o.duration)
	}
	defer cancel()
	load, err := startLoad(ctx, c, o.ratePerS)
	if err != nil {
		return err
	}
	if load != nil {
		defer func() {
			// Before the replicas stop: what is in flight then is not
			// counted.
			res, _ := load.Stop() // Never fails: the run has no Duration.
			fmt.Fprintln(out, resultLine(res))
		}()
	}
	mon := newMonitor(c, load, o.ratePerS)
	if !o.plain && isTerminal(out) {
		return runView(ctx, c, mon, out)
	}
	runPlain(ctx, mon, out)
	return nil
}

// txBytes is the size of the load's transactions (kvstore puts): small,
// as a first look at a cluster on a laptop goes; cmd/bench measures
// other sizes.
const txBytes = 64

// startLoad starts an open loop of ratePerS puts a second, evenly spaced,
// on c's load generator until ctx ends; nil if the rate is 0.
func startLoad(ctx context.Context, c *cluster, ratePerS int) (*loadgen.Running, error) {
	if ratePerS == 0 {
		return nil, nil
	}
	w, err := loadgen.NewKVPuts(txBytes)
	if err != nil {
		return nil, err // txBytes is within bounds: a bug.
	}
	return c.load.Start(ctx, loadgen.Load{Mode: loadgen.OpenLoop, Rate: float64(ratePerS), Arrivals: loadgen.Uniform, Workload: w})
}

// resultLine is the line printed at the end: what the load got over the
// whole run.
func resultLine(res loadgen.Result) string {
	return fmt.Sprintf("load: %d answered in %.0fs (%.0f tx/s), latency p50 %.1fms p99 %.1fms max %.1fms; %d errors, %d timeouts, %d shed",
		res.Completed, res.DurationSeconds, res.Throughput, res.Latency.P50Ms, res.Latency.P99Ms, res.Latency.MaxMs,
		res.Errors, res.Timeouts, res.Shed)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// pollInterval is how often the status is shown.
const pollInterval = time.Second

// runPlain prints a summary line each second until ctx ends.
func runPlain(ctx context.Context, mon *monitor, out io.Writer) {
	eachPoll(ctx, mon, func(st status) { fmt.Fprintln(out, plainLine(st)) })
}

// eachPoll hands show the status every pollInterval until ctx ends.
func eachPoll(ctx context.Context, mon *monitor, show func(status)) {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			st := mon.poll(ctx)
			if ctx.Err() != nil {
				return // The scrapes may have failed with ctx.
			}
			show(st)
		}
	}
}

// runView shows the live view until the user quits or ctx ends; opts
// add to the program's options (a test's input).
func runView(ctx context.Context, c *cluster, mon *monitor, out io.Writer, opts ...tea.ProgramOption) error {
	where := "files in " + c.dir
	if c.temp {
		where += " (removed at the end)"
	}
	m := viewModel{
		header: fmt.Sprintf("Mir: %d replicas of a key-value store on Trantor over TCP\n%s", len(c.nodes), where),
		nodes:  len(c.nodes),
		toggle: c.toggle,
	}
	p := tea.NewProgram(m, append([]tea.ProgramOption{tea.WithContext(ctx), tea.WithOutput(out), tea.WithAltScreen()}, opts...)...)
	pollDone := make(chan struct{})
	pollCtx, stopPoll := context.WithCancel(ctx)
	go func() {
		defer close(pollDone)
		eachPoll(pollCtx, mon, func(st status) { p.Send(statusMsg(st)) })
	}()
	_, err := p.Run()
	stopPoll()
	<-pollDone
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // SIGINT, SIGTERM or --duration.
	}
	return err
}
