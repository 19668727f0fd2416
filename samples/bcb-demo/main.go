package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/internal/cli"
	"github.com/mirframework/mir/pkg/bcb"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/local"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdmodules"
	"github.com/mirframework/mir/stdtypes"
)

func main() { cli.Main("bcb-demo", run) }

// options are the command-line flags and arguments.
type options struct {
	timeout time.Duration
	// gapTimeout is how long a node's printer holds a delivery for the
	// instances before it (orderedPrinter).
	gapTimeout time.Duration
	verbose    bool
	// texts are the arguments; none means standard input.
	texts []string

	// One node over TCP: set if membership is.
	membership string
	id         string
	key        string
	leader     string
	count      uint64
	linger     time.Duration
}

// maxLineBytes bounds a broadcast text, and so a line of standard input.
const maxLineBytes = 64 << 10

const usage = `Usage: bcb-demo [flags] [text ...]
       bcb-demo -membership FILE -id ID [flags] [text ...]

Byzantine consistent broadcast: the leader broadcasts each text (each line of
standard input if none is given), and every node prints what it delivers.

Without -membership, four nodes run in this process and node 0 leads. With
-membership, this process runs node ID of the membership over TCP (see
'mir membership generate'); the membership's first node (or -leader) leads
and exits once every node has acknowledged its texts; the others run until
interrupted, or until they have delivered -count texts.

Flags:`

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := cli.NewFlags("bcb-demo", usage, stderr)
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "give up if the nodes have not delivered everything (over TCP: and acknowledged it to the leader) this long after the input ends; with -count, if the leader's texts stop coming for this long")
	fs.DurationVar(&o.gapTimeout, "gap-timeout", 2*time.Second, "report an instance as missed once later ones have waited this long for it")
	fs.BoolVar(&o.verbose, "v", false, "log debug messages (such as dropped messages) to standard error")
	fs.StringVar(&o.membership, "membership", "", "run one node of this membership file over TCP, rather than four in this process")
	fs.StringVar(&o.id, "id", "", "with -membership: this node's ID (required)")
	fs.StringVar(&o.key, "key", "", "with -membership: this node's private key file (default node-ID.key in the membership file's directory)")
	fs.StringVar(&o.leader, "leader", "", "with -membership: the node that broadcasts (default the membership's first node)")
	fs.Uint64Var(&o.count, "count", 0, "with -membership, on a node other than the leader: exit after delivering this many of the leader's texts (0: run until interrupted)")
	fs.DurationVar(&o.linger, "linger", 5*time.Second, "on a node other than the leader: how long to wait, once interrupted, for the leader to have its acknowledgments; with -count, after the last delivery, for the leader to leave")
	err := cli.Parse(fs, args, func() string {
		o.texts = fs.Args()
		tcpOnly := false
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "id", "key", "leader", "count", "linger":
				tcpOnly = true
			}
		})
		switch {
		case o.timeout <= 0:
			return fmt.Sprintf("-timeout is %v; it must be positive", o.timeout)
		case o.gapTimeout <= 0:
			return fmt.Sprintf("-gap-timeout is %v; it must be positive", o.gapTimeout)
		case o.membership == "" && tcpOnly:
			return "-id, -key, -leader, -count and -linger need -membership"
		case o.membership != "" && o.id == "":
			return "-membership needs -id"
		case o.linger < 0:
			return fmt.Sprintf("-linger is %v; it must not be negative", o.linger)
		}
		for _, text := range o.texts {
			if len(text) > maxLineBytes {
				return fmt.Sprintf("a text of %d bytes; at most %d", len(text), maxLineBytes)
			}
		}
		return ""
	})
	return o, err
}

// The demo's nodes; the first is the leader.
var ids = []stdtypes.NodeID{"0", "1", "2", "3"}

// keySeed makes the nodes' keys. A real deployment loads each node's key
// from a file (crypto.LoadPrivateKey); a demo in one process can derive
// them all.
var keySeed = []byte("bcb-demo")

// run is the whole program, minus the process: the four nodes in this
// process, or one node over TCP.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	logger := cli.Logger(stderr, o.verbose)
	if o.membership != "" {
		n, err := newTCPNode(o, logger)
		if err != nil {
			return err
		}
		return n.run(ctx, o, stdin, stdout)
	}
	d, err := newDemo(logger)
	if err != nil {
		return err
	}
	return d.run(ctx, o, stdin, stdout)
}

// demo is the four nodes and what main looks at.
type demo struct {
	network    *local.Network
	transports []*local.Transport
	nodes      []*mir.Node
	mods       []nodeModules
	// window is the bcb modules' ModuleParams.Window.
	window uint64
	// stoppedEarly counts the nodes whose end collect saw.
	stoppedEarly int
	// deliveries gets every node's deliveries, from the app modules.
	deliveries chan delivery
}

// delivery is one node's delivery of one instance.
type delivery struct {
	node stdtypes.NodeID
	ev   *bcb.Deliver
}

func newDemo(logger *logging.Logger) (*demo, error) {
	network, err := local.NewNetwork(ids, local.Options{Logger: logger})
	if err != nil {
		return nil, err
	}
	d := &demo{network: network, deliveries: make(chan delivery, 1024)}
	pubs := make(map[stdtypes.NodeID]crypto.PublicKey, len(ids))
	keys := make([]crypto.PrivateKey, len(ids))
	for i, id := range ids {
		if keys[i], err = crypto.KeyPairFromSeed(crypto.Ed25519, keySeed, i); err != nil {
			return nil, err
		}
		pubs[id] = keys[i].Public()
	}
	// Nodes in one process never restart: one incarnation is enough.
	params := bcbParams(ids, 1)
	d.window = params.Window
	for i, id := range ids {
		nodeLogger := logger.With("node", string(id))
		tr, err := network.Transport(id)
		if err != nil {
			return nil, err
		}
		mods, m, err := newModules(id, params, keys[i], pubs, tr, d.deliveries, nodeLogger)
		if err != nil {
			return nil, err
		}
		node, err := mir.NewNode(id, mir.DefaultNodeConfig().WithLogger(nodeLogger), mods, nil)
		if err != nil {
			return nil, err
		}
		d.nodes = append(d.nodes, node)
		d.mods = append(d.mods, m)
		d.transports = append(d.transports, tr)
	}
	return d, nil
}

// bcbParams are the bcb modules' parameters for the membership ids and
// the node's incarnation.
func bcbParams(ids []stdtypes.NodeID, incarnation uint64) bcb.ModuleParams {
	params := bcb.DefaultModuleParams(ids)
	params.MaxPayloadBytes = maxLineBytes
	params.Incarnation = incarnation
	return params
}

// nodeModules are a node's protocol modules, as main looks at them.
type nodeModules struct {
	bcb  *bcb.Module
	rnet *reliablenet.Module
}

// dropped returns what the node's modules dropped, and how much of that
// a correct node would never have sent.
func (m nodeModules) dropped() (dropped, invalid uint64) {
	st, rst := m.bcb.Stats(), m.rnet.Stats()
	return st.Dropped() + rst.Invalid(), st.Invalid() + rst.Invalid()
}

// newModules returns the modules of node id, over the transport: its bcb
// module and the reliablenet module that carries its messages (also
// returned), a worker-pool crypto module with the node's key and the
// members' public keys, a timer, and the app, which hands the node's
// deliveries to out.
func newModules(id stdtypes.NodeID, params bcb.ModuleParams, key crypto.PrivateKey, pubs map[stdtypes.NodeID]crypto.PublicKey,
	transport modules.Module, out chan<- delivery, logger *logging.Logger) (modules.Modules, nodeModules, error) {
	mc := bcb.DefaultModuleConfig()
	rmc := reliablenet.DefaultModuleConfig(mc.Self)
	m, err := bcb.NewModule(id, mc, params, logger)
	if err != nil {
		return nil, nodeModules{}, err
	}
	rn, err := reliablenet.NewModule(id, rmc, bcb.ReliableNetParams(params), logger)
	if err != nil {
		return nil, nodeModules{}, err
	}
	c, err := crypto.New(key, pubs)
	if err != nil {
		return nil, nodeModules{}, err
	}
	pool, err := crypto.NewPool(c, runner.DefaultPoolParams())
	if err != nil {
		return nil, nodeModules{}, err
	}
	return modules.Modules{
		mc.Self:   m,
		rmc.Self:  rn,
		mc.Crypto: pool,
		rmc.Net:   transport,
		mc.Timer:  stdmodules.NewTimer(mc.Timer, logger),
		mc.App:    &app{node: id, out: out},
	}, nodeModules{bcb: m, rnet: rn}, nil
}

// run starts the nodes, has the leader broadcast the input, prints every
// delivery until each node has delivered everything, and stops the nodes.
func (d *demo) run(ctx context.Context, o options, stdin io.Reader, stdout io.Writer) error {
	defer d.network.Stop()
	for _, t := range d.transports {
		if err := t.Start(); err != nil {
			return err
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(d.nodes))
	for i, node := range d.nodes {
		go func() {
			if err := node.Run(runCtx); err != nil && !errors.Is(err, mir.ErrStopped) && !errors.Is(err, context.Canceled) {
				errs <- fmt.Errorf("node %s: %w", ids[i], err)
				return
			}
			errs <- nil
		}()
	}
	fmt.Fprintf(stdout, "%d nodes, node %s broadcasts\n", len(ids), ids[0])

	// The input goes in from its own goroutine, so that deliveries are
	// printed while standard input is still being read.
	inputDone := make(chan inputResult, 1)
	go func() { inputDone <- feed(runCtx, d.nodes[0], o.texts, stdin) }()

	inputOver, result := d.collect(ctx, o, inputDone, errs, stdout)
	// Stop the nodes and wait for them, and for the input goroutine,
	// which ends with the context unless it waits for a line of standard
	// input: nothing can stop that but the line, or the process's end.
	cancel()
	if !inputOver {
		select {
		case <-inputDone:
		case <-time.After(time.Second):
		}
	}
	for _, node := range d.nodes {
		node.Stop()
	}
	for range len(d.nodes) - d.stoppedEarly {
		if err := <-errs; err != nil && result == nil {
			result = err
		}
	}
	d.printSummary(stdout)
	return result
}

// inputResult is what feed did.
type inputResult struct {
	count uint64
	err   error
}

// feed has leader, the leader's node, broadcast each text, or each line of
// stdin, as its instances 0, 1, 2, ...
func feed(ctx context.Context, leader *mir.Node, texts []string, stdin io.Reader) inputResult {
	var seq uint64
	broadcast := func(text string) error {
		ev := bcb.NewBroadcast(bcb.DefaultModuleConfig().Self, seq, []byte(text))
		if err := leader.InjectEvents(ctx, stdtypes.ListOf(ev)); err != nil {
			return err
		}
		seq++
		return nil
	}
	if len(texts) > 0 {
		for _, text := range texts {
			if err := broadcast(text); err != nil {
				return inputResult{seq, err}
			}
		}
		return inputResult{seq, nil}
	}
	scanner := bufio.NewScanner(stdin)
	scanner.Buffer(make([]byte, 4096), maxLineBytes)
	for scanner.Scan() {
		if err := broadcast(scanner.Text()); err != nil {
			return inputResult{seq, err}
		}
	}
	if err := scanner.Err(); err != nil {
		return inputResult{seq, fmt.Errorf("reading standard input: %w", err)}
	}
	return inputResult{seq, nil}
}

// collect prints deliveries until every node has delivered all the input,
// a node fails, the input fails, the timeout passes after the input ends,
// or ctx ends.
func (d *demo) collect(ctx context.Context, o options, inputDone <-chan inputResult, errs <-chan error, stdout io.Writer) (inputOver bool, err error) {
	delivered := make(map[stdtypes.NodeID]uint64, len(ids))
	printers := make(map[stdtypes.NodeID]*orderedPrinter, len(ids))
	for _, id := range ids {
		printers[id] = newOrderedPrinter(stdout, id, ids[0], d.window, o.gapTimeout)
	}
	gaps := newGapTicker(o.gapTimeout)
	defer gaps.Stop()
	// Whatever ends the loop, print what was delivered.
	defer func() {
		for _, id := range ids {
			printers[id].flush()
		}
	}()
	total := uint64(0)
	var deadline <-chan time.Time
	complete := func() bool {
		if !inputOver {
			return false
		}
		for _, id := range ids {
			if delivered[id] < total {
				return false
			}
		}
		return true
	}
	for !complete() {
		select {
		case dv := <-d.deliveries:
			delivered[dv.node]++
			printers[dv.node].print(dv.ev, time.Now())
		case now := <-gaps.C:
			for _, id := range ids {
				printers[id].expire(now)
			}
		case in := <-inputDone:
			if in.err != nil {
				return true, in.err
			}
			inputOver, total = true, in.count
			deadline = time.After(o.timeout)
			inputDone = nil
		case err := <-errs:
			d.stoppedEarly++
			if err == nil {
				err = errors.New("a node stopped before the end")
			}
			return inputOver, err
		case <-deadline:
			return true, fmt.Errorf("gave up after %v: deliveries per node %v of %d", o.timeout, delivered, total)
		case <-ctx.Done():
			return inputOver, fmt.Errorf("interrupted: deliveries per node %v", delivered)
		}
	}
	for _, id := range ids {
		printers[id].flush()
	}
	fmt.Fprintf(stdout, "every node delivered all %d\n", total)
	return true, nil
}

// newGapTicker returns the ticker at which the printers look whether a
// gap has waited long enough (orderedPrinter.expire): a few times per
// gap timeout, so that a gap is reported at most a quarter late.
func newGapTicker(gapTimeout time.Duration) *time.Ticker {
	return time.NewTicker(max(gapTimeout/4, time.Millisecond))
}

// printable quotes a payload if it holds anything but plain text.
func printable(p []byte) string {
	s := string(p)
	if strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f || r == '\uFFFD' }) {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// printSummary prints what the nodes dropped. The nodes have stopped.
func (d *demo) printSummary(w io.Writer) {
	var invalid, dropped uint64
	for _, m := range d.mods {
		d, i := m.dropped()
		dropped += d
		invalid += i
	}
	fmt.Fprintf(w, "messages dropped: %d, of which invalid: %d\n", dropped, invalid)
}

// app is the application module: an active module that hands the node's
// deliveries to main. It never emits events.
type app struct {
	node stdtypes.NodeID
	out  chan<- delivery
}

func (a *app) ApplyEvents(ctx context.Context, evs *stdtypes.EventList) error {
	for _, ev := range evs.Slice() {
		dv, ok := ev.(*bcb.Deliver)
		if !ok {
			continue // Init.
		}
		select {
		case a.out <- delivery{node: a.node, ev: dv}:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

func (a *app) EventsOut() <-chan *stdtypes.EventList { return nil }
