package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/internal/cli"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net"
	"github.com/mirframework/mir/pkg/net/local"
	"github.com/mirframework/mir/samples/pingpong/protocol"
	"github.com/mirframework/mir/stdmodules"
	"github.com/mirframework/mir/stdtypes"
)

func main() {
	cli.Main("pingpong", func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
		return run(ctx, args, stdout, stderr)
	})
}

// options are the command-line flags.
type options struct {
	count    int
	interval time.Duration
	timeout  time.Duration
	verbose  bool
	// record, if set, is the directory to record both nodes' events to.
	record string
}

const usage = `Usage: pingpong [flags]

Two Mir nodes in one process: node 0 pings node 1 until it has -count pongs.

Flags:`

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := cli.NewFlags("pingpong", usage, stderr)
	fs.IntVar(&o.count, "count", 10, "number of pongs to collect")
	fs.DurationVar(&o.interval, "interval", 100*time.Millisecond, "time between two pings")
	fs.DurationVar(&o.timeout, "timeout", 0, "give up after this long (0: twice count × interval, plus 10s)")
	fs.BoolVar(&o.verbose, "v", false, "log debug messages to standard error")
	fs.StringVar(&o.record, "record", "", "record every event of both nodes to stream logs in this `directory` (inspect them with mircat)")
	err := cli.Parse(fs, args, func() string {
		switch {
		case fs.NArg() > 0:
			return fmt.Sprintf("unexpected argument %q", fs.Arg(0))
		case o.count < 1:
			return fmt.Sprintf("-count is %d; it must be at least 1", o.count)
		case o.interval <= 0:
			return fmt.Sprintf("-interval is %v; it must be positive", o.interval)
		case o.timeout < 0:
			return fmt.Sprintf("-timeout is %v; it must not be negative", o.timeout)
		}
		return ""
	})
	if err != nil {
		return o, err
	}
	if o.timeout == 0 {
		o.timeout = 2*time.Duration(o.count)*o.interval + 10*time.Second
	}
	return o, nil
}

// run is the whole program, minus the process: it returns nil once node 0
// has its pongs, and an error if the command line is wrong, a node fails,
// the timeout passes or ctx ends first.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := cli.Logger(stderr, o.verbose)

	d, err := newDemo(o, stdout, logger)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "node 0 pings node 1 every %v until it has %d pongs\n", o.interval, o.count)
	err = d.run(ctx, o.timeout, stdout)
	// The nodes have stopped: the recordings are complete once closed.
	if rerr := d.closeRecorders(); err == nil {
		err = rerr
	}
	d.printSummary(stdout)
	if o.record != "" && err == nil {
		fmt.Fprintf(stdout, "recorded every event to %s: try `go run ./cmd/mircat list %s`\n", o.record, o.record)
	}
	return err
}

// ids are the two nodes: 0 pings, 1 answers.
var ids = [2]stdtypes.NodeID{"0", "1"}

// demo is the two nodes and what main looks at.
type demo struct {
	network    *local.Network
	transports [2]*local.Transport
	protocols  [2]*protocol.Module
	nodes      [2]*mir.Node
	recorders  []*eventlog.Recorder
	reporter   *reporter
	count      int
	// netStats are the transports' counters when the run ended.
	netStats net.PeerStats
}

func newDemo(o options, stdout io.Writer, logger *logging.Logger) (*demo, error) {
	network, err := local.NewNetwork(ids[:], local.Options{Logger: logger})
	if err != nil {
		return nil, err
	}
	d := &demo{network: network, count: o.count}
	mc := protocol.DefaultModuleConfig()
	for i, id := range ids {
		// Node 0 pings node 1 until it has its pongs; node 1 only answers.
		pinger := i == 0
		params := protocol.DefaultModuleParams([]stdtypes.NodeID{ids[1-i]})
		if !pinger {
			params.Targets = nil
		}
		params.Count = o.count
		params.Interval = o.interval
		if d.protocols[i], err = protocol.New(mc, params); err != nil {
			return nil, err
		}
		if d.transports[i], err = network.Transport(id); err != nil {
			return nil, err
		}
		mods := modules.Modules{
			mc.Self:  d.protocols[i],
			mc.Timer: stdmodules.NewTimer(mc.Timer, logger.With("node", string(id))),
			mc.Net:   d.transports[i],
		}
		if pinger {
			d.reporter = newReporter(o.count, params.Window)
			mods[mc.Reporter] = d.reporter
		}
		var icp eventlog.Interceptor
		if o.record != "" {
			rec, err := newRecorder(o.record, id, protocol.ReplayParams{Config: mc, Params: params, Reporter: pinger})
			if err != nil {
				_ = d.closeRecorders()
				return nil, err
			}
			d.recorders = append(d.recorders, rec)
			icp = rec
		}
		cfg := mir.DefaultNodeConfig().WithLogger(logger)
		if d.nodes[i], err = mir.NewNode(id, cfg, mods, icp); err != nil {
			_ = d.closeRecorders()
			return nil, err
		}
	}
	return d, nil
}

// newRecorder returns a recorder of node id's events to stream logs in dir,
// with what `mircat replay` needs to rebuild the node.
func newRecorder(dir string, id stdtypes.NodeID, p protocol.ReplayParams) (*eventlog.Recorder, error) {
	meta, err := protocol.Replay.Meta(p)
	if err != nil {
		return nil, err
	}
	return eventlog.NewStreamRecorder(dir, id, eventlog.StreamOptions{Meta: meta}, eventlog.RecorderOptions{})
}

// closeRecorders writes out and closes the recordings, if any.
func (d *demo) closeRecorders() error {
	var errs []error
	for _, r := range d.recorders {
		errs = append(errs, r.Close())
	}
	d.recorders = nil
	return errors.Join(errs...)
}

// run starts the transports and the nodes, prints progress to stdout until
// the pinger is done, a node fails, the timeout passes or ctx ends, and
// stops everything.
func (d *demo) run(ctx context.Context, timeout time.Duration, stdout io.Writer) error {
	defer d.network.Stop()
	for _, t := range d.transports {
		if err := t.Start(); err != nil {
			return err
		}
	}
	runCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, len(d.nodes))
	for i, node := range d.nodes {
		go func() {
			if err := node.Run(runCtx); err != nil && !errors.Is(err, mir.ErrStopped) {
				errs <- fmt.Errorf("node %s: %w", ids[i], err)
				return
			}
			errs <- nil
		}()
	}

	var result error
	pending := len(d.nodes)
	waitCtx, cancelWait := context.WithTimeout(ctx, timeout)
	defer cancelWait()
	for waiting := true; waiting; {
		select {
		case line := <-d.reporter.Lines():
			fmt.Fprintln(stdout, line)
		case <-d.reporter.Done():
			waiting = false
		case result = <-errs:
			waiting = false
			pending--
			if result == nil {
				result = errors.New("a node stopped before the end")
			}
		case <-waitCtx.Done():
			waiting = false
			s := d.reporter.Summary()
			if ctx.Err() != nil {
				result = fmt.Errorf("interrupted with %d of %d pongs (%d pings sent)", s.PongsReceived, d.count, s.PingsSent)
			} else {
				result = fmt.Errorf("gave up after %v with %d of %d pongs (%d pings sent)", timeout, s.PongsReceived, d.count, s.PingsSent)
			}
		}
	}
	// Taken before the nodes stop: stopping drops what is in flight.
	d.netStats = d.networkStats()
	for _, node := range d.nodes {
		node.Stop()
	}
	for ; pending > 0; pending-- {
		if err := <-errs; err != nil && result == nil {
			result = err
		}
	}
	// The reporter is stopped: print the lines it left.
	for len(d.reporter.Lines()) > 0 {
		fmt.Fprintln(stdout, <-d.reporter.Lines())
	}
	return result
}

// networkStats sums the counters of both transports.
func (d *demo) networkStats() net.PeerStats {
	var total net.PeerStats
	for _, t := range d.transports {
		total = total.Add(t.Stats().Total())
	}
	return total
}

// printSummary prints what was measured. It is called once the nodes have
// stopped, so the protocol modules may be read.
func (d *demo) printSummary(w io.Writer) {
	s := d.reporter.Summary()
	var invalid uint64
	for _, p := range d.protocols {
		invalid += p.Dropped()
	}
	lost := d.netStats
	fmt.Fprintf(w, "pings sent: %d, pongs received: %d\n", s.PingsSent, s.PongsReceived)
	fmt.Fprintf(w, "messages dropped: %d by the network, %d as invalid\n", lost.DroppedIn+lost.DroppedOut, invalid)
	if s.PongsReceived > 0 {
		fmt.Fprintf(w, "rtt min/median/p99/max: %v / %v / %v / %v\n",
			round(s.Min), round(s.Median), round(s.P99), round(s.Max))
	}
}

func round(d time.Duration) time.Duration { return d.Round(time.Microsecond) }
