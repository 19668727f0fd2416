// Command node runs one node of the Bracha broadcast (samples/bracha) per
// process, over TCP: it broadcasts each line of its standard input, and
// prints each value it delivers, of any node.
//
//	go run ./cmd/mir membership generate -n 4 --dir /tmp/bracha
//	go build -o /tmp/bracha/node ./samples/bracha/node
//	echo "hello from 1" | /tmp/bracha/node -membership /tmp/bracha/membership.json -id 1 -count 4 &
//	echo "hello from 2" | /tmp/bracha/node -membership /tmp/bracha/membership.json -id 2 -count 4 &
//	echo "hello from 3" | /tmp/bracha/node -membership /tmp/bracha/membership.json -id 3 -count 4 &
//	echo "hello from 0" | /tmp/bracha/node -membership /tmp/bracha/membership.json -id 0 -count 4
//
// The node's private key is -key, by default node-ID.key next to the
// membership file: the layout `mir membership generate` writes. Nodes may
// start in any order: the transport keeps messages for a peer that is not
// up yet, and the reliablenet module retransmits what was lost.
//
// The node runs until it is interrupted (SIGINT, SIGTERM), and exits 0
// then; with -count N, until it has delivered N values and its peers have
// acknowledged every message it sent (so that they do not need it any
// more), or -linger has passed since it delivered the N-th. A node stopped
// before it has its count exits 1.
//
// With -record DIR, the node records every event it processes to a
// stream log in DIR, with what samples/bracha/mircat needs to replay it:
//
//	go run ./samples/bracha/mircat replay /tmp/bracha/run
//
// Output, for people and for the tests:
//
//	node 2 of 4 listening on 127.0.0.1:7002
//	node 2 delivered 0/1: hello from 0
//	node 2: 4 delivered, 0 invalid messages dropped
//
// With -wal DIR, the node keeps a write-ahead log in DIR (pkg/wal): it
// persists each message before it sends it, and, restarted on the same
// directory (after a crash, a kill -9), it gets back what it sent before
// it processes any input, and never contradicts it. It says how many
// messages it recovered:
//
//	node 2: recovered 7 messages from the WAL
//
// A node that restarts numbers its lines from 1 again, which its peers
// have seen: without -wal, restarted, it must not be given lines to
// broadcast (see "Restarts" in package bracha); with -wal, it may be given
// the same lines again, which change nothing, and then new ones.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/internal/cli"
	"github.com/mirframework/mir/pkg/dsl"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/net/tcp"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/samples/bracha"
	"github.com/mirframework/mir/stdmodules"
	"github.com/mirframework/mir/stdtypes"
)

func main() { cli.Main("node", run) }

// options are the command-line flags.
type options struct {
	membership string
	id         string
	key        string
	count      int
	linger     time.Duration
	record     string
	walDir     string
	verbose    bool
}

// The module IDs of the node's transport, timer and WAL module.
const (
	netID   stdtypes.ModuleID = "net"
	timerID stdtypes.ModuleID = "timer"
	walID   stdtypes.ModuleID = "wal"
)

// pollPeriod is how often a node that has its count looks whether its
// peers have acknowledged everything: the reliablenet module has no event
// for that, only counters.
const pollPeriod = 20 * time.Millisecond

const usage = `Usage: node -membership FILE -id ID [flags]

One node of the Bracha broadcast over TCP: broadcasts each line of standard input,
prints each value delivered.

Flags:`

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := cli.NewFlags("node", usage, stderr)
	fs.StringVar(&o.membership, "membership", "", "membership `file` (required; see `mir membership generate`)")
	fs.StringVar(&o.id, "id", "", "this node's ID in the membership (required)")
	fs.StringVar(&o.key, "key", "", "this node's private key `file` (default: node-ID.key next to the membership)")
	fs.IntVar(&o.count, "count", 0, "exit once this many values are delivered (0: run until interrupted)")
	fs.DurationVar(&o.linger, "linger", 2*time.Second, "with -count, how long to wait at most for the peers' acknowledgments")
	fs.StringVar(&o.record, "record", "", "record every event to a stream log in this `directory` (see samples/bracha/mircat)")
	fs.StringVar(&o.walDir, "wal", "", "keep a write-ahead log in this `directory`, and recover from it at start")
	fs.BoolVar(&o.verbose, "v", false, "log debug messages to standard error")
	err := cli.Parse(fs, args, func() string {
		switch {
		case fs.NArg() > 0:
			return fmt.Sprintf("unexpected argument %q", fs.Arg(0))
		case o.membership == "" || o.id == "":
			return "-membership and -id are required"
		case o.count < 0 || o.linger < 0:
			return "-count and -linger must not be negative"
		}
		return ""
	})
	return o, err
}

// run is the whole program, minus the process: it runs the node until ctx
// ends or it has its count, and returns nil then; an error if the command
// line or the files are wrong, or the node fails.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := cli.Logger(stderr, o.verbose).With("node", o.id)
	n, err := newNode(o, logger)
	if err != nil {
		return err
	}
	err = n.run(ctx, o, stdin, stdout)
	if n.recorder != nil {
		// The node has stopped: the recording is complete once closed.
		if cerr := n.recorder.Close(); err == nil {
			err = cerr
		}
	}
	if n.wal != nil {
		if cerr := n.wal.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// node is the Mir node and what run looks at.
type node struct {
	id   stdtypes.NodeID
	size int
	mc   bracha.ModuleConfig
	// maxSeq and maxValueBytes bound the input (bracha.ModuleParams).
	maxSeq        uint64
	maxValueBytes int
	transport     *tcp.Transport
	protocol      *dsl.Module
	rnet          *reliablenet.Module
	recorder      *eventlog.Recorder
	// wal is the WAL module, with -wal; recovered is how many messages
	// it recovered.
	wal       *wal.Module
	recovered int
	// deliveries gets the node's deliveries, from the app module.
	deliveries chan *bracha.Deliver
	node       *mir.Node
}

func newNode(o options, logger *logging.Logger) (*node, error) {
	members, key, err := cli.LoadNode(o.membership, stdtypes.NodeID(o.id), o.key)
	if err != nil {
		return nil, err
	}
	n := &node{
		id:         stdtypes.NodeID(o.id),
		size:       members.Len(),
		mc:         bracha.DefaultModuleConfig(),
		deliveries: make(chan *bracha.Deliver, 1024),
	}
	if n.transport, err = tcp.New(n.id, members, key, tcp.Options{Logger: logger}); err != nil {
		return nil, err
	}
	if o.walDir != "" {
		if err := n.openWAL(o.walDir, logger); err != nil {
			n.transport.Stop()
			return nil, err
		}
	}
	if err := n.build(members.IDs(), o.record, logger); err != nil {
		n.transport.Stop() // Never started; this releases what New made.
		if n.wal != nil {
			_ = n.wal.Close()
		}
		return nil, err
	}
	return n, nil
}

// openWAL opens the WAL module on dir, which recovers what the directory
// holds, and has the protocol module persist its messages in it.
func (n *node) openWAL(dir string, logger *logging.Logger) error {
	m, err := wal.NewModule(dir, wal.Options{Logger: logger})
	if err != nil {
		return err
	}
	n.wal = m
	n.recovered = int(m.Stats().Recovered)
	n.mc.WAL = walID
	return nil
}

// build makes the node's modules, its recorder if asked, and the node.
func (n *node) build(ids []stdtypes.NodeID, record string, logger *logging.Logger) error {
	params := bracha.DefaultModuleParams(ids)
	// Higher at every start of the node (see ModuleParams.Incarnation):
	// the start time, read here, outside the protocol, which stays
	// deterministic.
	params.Incarnation = uint64(time.Now().UnixNano())
	n.maxSeq, n.maxValueBytes = params.MaxSeq, params.MaxValueBytes
	mods, err := bracha.NewNodeModules(n.id, n.mc, params, netID, timerID)
	if err != nil {
		return err
	}
	n.protocol = mods[n.mc.Self].(*dsl.Module)
	n.rnet = mods[n.mc.ReliableNet].(*reliablenet.Module)
	mods[netID] = n.transport
	mods[timerID] = stdmodules.NewTimer(timerID, logger)
	mods[n.mc.App] = &app{out: n.deliveries}
	if n.wal != nil {
		mods[walID] = n.wal
	}

	var interceptor eventlog.Interceptor // A nil *Recorder would not be a nil interface.
	if record != "" {
		meta, err := bracha.Replay.Meta(bracha.ReplayParams{Config: n.mc, Params: params, Transport: netID, Timer: timerID})
		if err != nil {
			return err
		}
		if n.recorder, err = eventlog.NewStreamRecorder(record, n.id, eventlog.StreamOptions{Meta: meta}, eventlog.RecorderOptions{}); err != nil {
			return err
		}
		interceptor = n.recorder
	}
	n.node, err = mir.NewNode(n.id, mir.DefaultNodeConfig().WithLogger(logger), mods, interceptor)
	if err != nil && n.recorder != nil {
		_ = n.recorder.Close()
		n.recorder = nil
	}
	return err
}

// run starts the transport and the node, feeds it the input, prints its
// deliveries until it is done, and stops them.
func (n *node) run(ctx context.Context, o options, stdin io.Reader, stdout io.Writer) error {
	defer n.transport.Stop()
	if err := n.transport.Start(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "node %s of %d listening on %s\n", n.id, n.size, n.transport.Addr())
	if n.wal != nil {
		fmt.Fprintf(stdout, "node %s: recovered %d messages from the WAL\n", n.id, n.recovered)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nodeDone := make(chan error, 1)
	go func() { nodeDone <- n.node.Run(runCtx) }()
	inputDone := make(chan error, 1)
	go func() { inputDone <- n.feed(runCtx, stdin) }()

	delivered, result := n.loop(ctx, o, nodeDone, inputDone, stdout)
	n.node.Stop()
	if err := <-nodeDone; result == nil && err != nil && !errors.Is(err, mir.ErrStopped) {
		result = fmt.Errorf("node %s: %w", n.id, err)
	}
	// The app module sends nothing more once the node has stopped.
	for len(n.deliveries) > 0 {
		n.print(stdout, <-n.deliveries)
		delivered++
	}
	st := n.protocol.Stats() // The node has stopped: the module may be read.
	fmt.Fprintf(stdout, "node %s: %d delivered, %d invalid messages dropped\n", n.id, delivered, st.DroppedMessages+st.UnknownMessages)
	return result
}

// loop prints deliveries until ctx ends, or the node has its count and
// its peers have acknowledged everything (or linger has passed); or the
// node or its input fails. It returns the number of deliveries it printed.
func (n *node) loop(ctx context.Context, o options, nodeDone, inputDone <-chan error, stdout io.Writer) (int, error) {
	delivered := 0
	// poll and lingerEnd are set once the count is reached.
	var poll <-chan time.Time
	var lingerEnd <-chan time.Time
	for {
		if o.count > 0 && delivered >= o.count && poll == nil {
			ticker := time.NewTicker(pollPeriod)
			defer ticker.Stop()
			poll, lingerEnd = ticker.C, time.After(o.linger)
		}
		select {
		case dv := <-n.deliveries:
			n.print(stdout, dv)
			delivered++
		case <-poll:
			if n.settled() {
				return delivered, nil
			}
		case <-lingerEnd:
			return delivered, nil
		case err := <-inputDone:
			if err != nil {
				return delivered, err
			}
			inputDone = nil // The input ended; the node goes on.
		case err := <-nodeDone:
			if err == nil || errors.Is(err, mir.ErrStopped) {
				err = errors.New("stopped before the end")
			}
			return delivered, fmt.Errorf("node %s: %w", n.id, err)
		case <-ctx.Done():
			if o.count > 0 && delivered < o.count {
				return delivered, fmt.Errorf("interrupted after %d of %d deliveries", delivered, o.count)
			}
			return delivered, nil
		}
	}
}

// settled tells whether every peer has acknowledged every message this
// node sent, and what the node owes its peers (acknowledgments) has left
// its send queues: its peers need nothing more from it.
func (n *node) settled() bool {
	if n.rnet.Stats().Pending > 0 {
		return false
	}
	for _, p := range n.transport.Metrics().Peers {
		if p.QueueMessages > 0 {
			return false
		}
	}
	return true
}

func (n *node) print(w io.Writer, dv *bracha.Deliver) {
	fmt.Fprintf(w, "node %s delivered %s: %s\n", n.id, bracha.ItemID(dv.Origin, dv.Seq), dv.Value)
}

// feed broadcasts each line of the input, numbered from 1. It returns nil
// at the end of the input, or an error for a line the protocol cannot
// take.
func (n *node) feed(ctx context.Context, input io.Reader) error {
	lines := bufio.NewScanner(input)
	seq := uint64(0)
	for lines.Scan() {
		if seq++; seq > n.maxSeq {
			return fmt.Errorf("line %d: the protocol takes at most %d broadcasts per node", seq, n.maxSeq)
		}
		if len(lines.Text()) > n.maxValueBytes {
			return fmt.Errorf("line %d: %d bytes; the protocol takes at most %d", seq, len(lines.Text()), n.maxValueBytes)
		}
		b := bracha.NewBroadcast(n.mc.Self, n.id, seq, lines.Text())
		if err := n.node.InjectEvents(ctx, stdtypes.ListOf(b)); err != nil {
			return nil // The node has stopped.
		}
	}
	return lines.Err()
}

// app is the application module: it hands the deliveries to main, which
// prints them. Printing is I/O, which has no place in a protocol module.
type app struct {
	out chan<- *bracha.Deliver
}

func (a *app) ApplyEvents(ctx context.Context, evs *stdtypes.EventList) error {
	for _, ev := range evs.Slice() {
		dv, ok := ev.(*bracha.Deliver)
		if !ok {
			continue // Init.
		}
		select {
		case a.out <- dv:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

func (a *app) EventsOut() <-chan *stdtypes.EventList { return nil }
