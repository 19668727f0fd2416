package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/internal/cli"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/tcp"
	"github.com/mirframework/mir/samples/pingpong/protocol"
	"github.com/mirframework/mir/stdmodules"
	"github.com/mirframework/mir/stdtypes"
)

func main() {
	cli.Main("pingpong-tcp", func(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
		return run(ctx, args, stdout, stderr)
	})
}

// options are the command-line flags.
type options struct {
	membership string
	key        string
	id         string
	interval   time.Duration
	duration   time.Duration
	stats      time.Duration
	verbose    bool
}

const usage = `Usage: pingpong-tcp -membership FILE -key FILE -id ID [flags]

One Mir node over TCP: pings every other node of the membership, answers their pings.

Flags:`

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := cli.NewFlags("pingpong-tcp", usage, stderr)
	fs.StringVar(&o.membership, "membership", "", "membership file (required; see `mir membership generate`)")
	fs.StringVar(&o.key, "key", "", "this node's private key file (required)")
	fs.StringVar(&o.id, "id", "", "this node's ID in the membership (required)")
	fs.DurationVar(&o.interval, "interval", 100*time.Millisecond, "time between two pings")
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long (0: run until interrupted)")
	fs.DurationVar(&o.stats, "stats", time.Second, "print the transport's metrics this often (0: never)")
	fs.BoolVar(&o.verbose, "v", false, "log debug messages to standard error")
	err := cli.Parse(fs, args, func() string {
		switch {
		case fs.NArg() > 0:
			return fmt.Sprintf("unexpected argument %q", fs.Arg(0))
		case o.membership == "" || o.key == "" || o.id == "":
			return "-membership, -key and -id are required"
		case o.interval <= 0:
			return fmt.Sprintf("-interval is %v; it must be positive", o.interval)
		case o.duration < 0 || o.stats < 0:
			return "-duration and -stats must not be negative"
		}
		return ""
	})
	return o, err
}

// run is the whole program, minus the process: it runs the node until ctx
// ends or -duration passes, and returns nil then; an error if the command
// line or the files are wrong, or the node fails.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := cli.Logger(stderr, o.verbose)
	n, err := newNode(o, logger)
	if err != nil {
		return err
	}
	return n.run(ctx, o, stdout)
}

// node is the node and what main looks at.
type node struct {
	id        stdtypes.NodeID
	peers     []stdtypes.NodeID
	transport *tcp.Transport
	reporter  *reporter
	node      *mir.Node
}

func newNode(o options, logger *logging.Logger) (*node, error) {
	id := stdtypes.NodeID(o.id)
	members, key, err := cli.LoadNode(o.membership, id, o.key)
	if err != nil {
		return nil, err
	}
	n := &node{id: id}
	for _, peer := range members.IDs() {
		if peer != id {
			n.peers = append(n.peers, peer)
		}
	}
	slices.Sort(n.peers)
	if n.transport, err = tcp.New(id, members, key, tcp.Options{Logger: logger}); err != nil {
		return nil, err
	}
	mc := protocol.DefaultModuleConfig()
	params := protocol.DefaultModuleParams(n.peers) // Pings every peer, without end.
	params.Interval = o.interval
	pingPong, err := protocol.New(mc, params)
	if err != nil {
		return nil, err
	}
	n.reporter = newReporter(params.Window)
	mods := modules.Modules{
		mc.Self:     pingPong,
		mc.Timer:    stdmodules.NewTimer(mc.Timer, logger.With("node", o.id)),
		mc.Net:      n.transport,
		mc.Reporter: n.reporter,
	}
	if n.node, err = mir.NewNode(id, mir.DefaultNodeConfig().WithLogger(logger), mods, nil); err != nil {
		return nil, err
	}
	return n, nil
}

// run starts the transport and the node, prints their progress to stdout
// until ctx ends, the duration passes or the node fails, and stops them.
func (n *node) run(ctx context.Context, o options, stdout io.Writer) error {
	defer n.transport.Stop()
	if err := n.transport.Start(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "listening id=%s addr=%s\n", n.id, n.transport.Addr())
	errs := make(chan error, 1)
	go func() { errs <- n.node.Run(context.Background()) }()

	var deadline <-chan time.Time
	if o.duration > 0 {
		deadline = time.After(o.duration)
	}
	var statsTick <-chan time.Time
	if o.stats > 0 {
		ticker := time.NewTicker(o.stats)
		defer ticker.Stop()
		statsTick = ticker.C
	}
	var result error
	for running := true; running; {
		select {
		case line := <-n.reporter.Lines():
			fmt.Fprintln(stdout, line)
		case <-statsTick:
			n.printStats(stdout)
		case <-ctx.Done():
			running = false
		case <-deadline:
			running = false
		case err := <-errs:
			return fmt.Errorf("node %s stopped: %w", n.id, err)
		}
	}
	n.node.Stop()
	if err := <-errs; !errors.Is(err, mir.ErrStopped) {
		result = err
	}
	for len(n.reporter.Lines()) > 0 {
		fmt.Fprintln(stdout, <-n.reporter.Lines())
	}
	n.printStats(stdout)
	return result
}

// printStats prints a line of transport metrics per peer.
func (n *node) printStats(w io.Writer) {
	m := n.transport.Metrics()
	for _, id := range n.peers {
		p := m.Peers[id]
		fmt.Fprintf(w, "stats peer=%s connected=%t inbound=%t out=%d in=%d bytes-out=%d bytes-in=%d dropped-out=%d dropped-in=%d queue=%d reconnects=%d bad-frames=%d\n",
			id, p.Connected, p.Inbound, p.MessagesOut, p.MessagesIn, p.BytesOut, p.BytesIn, p.DroppedOut, p.DroppedIn,
			p.QueueMessages, p.Reconnects(), p.BadFrames)
	}
	if m.Refused > 0 || n.reporter.droppedLines.Load() > 0 {
		fmt.Fprintf(w, "stats refused=%d dropped-lines=%d\n", m.Refused, n.reporter.droppedLines.Load())
	}
}
