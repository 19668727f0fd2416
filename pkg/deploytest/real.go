package deploytest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/net/local"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdmodules"
	"github.com/mirframework/mir/stdtypes"
)

// submitTimeout bounds how long Submit waits for a real node to take
// events.
const submitTimeout = 10 * time.Second

// RealOptions configure a real deployment.
type RealOptions struct {
	// NodeConfig configures every node; nil means mir.DefaultNodeConfig
	// with Logger.
	NodeConfig *mir.NodeConfig
	// Network configures the in-process network.
	Network local.Options
	// Logger receives the nodes', transports' and timers' log messages.
	// Nil logs nothing.
	Logger *logging.Logger
	// Interceptor, if set, returns the interceptor of each node, which
	// sees every batch the node dispatches after the deployment's
	// properties and observers (with the inputs marked, if it is an
	// eventlog.InputInterceptor): the hook for an event recorder. It is
	// called once per node, at Start; Stop closes what it returned that
	// can be closed, once the nodes have stopped.
	Interceptor func(id stdtypes.NodeID) eventlog.Interceptor
	// WALDir is the directory under which each node's WAL module keeps
	// its log, if Config.WAL gives the nodes one: WALDir/<node ID>. A
	// deployment started on the directories of an earlier one recovers
	// what they hold. Empty means a temporary directory, removed by Stop.
	WALDir string
	// WAL configures the nodes' logs (segment size, sync policy).
	WAL wal.Options
}

// Real is a deployment of real nodes in one process: each node is a
// mir.Node running the protocol's modules, a transport of an in-process
// network (pkg/net/local), a real timer (stdmodules.Timer) and, if
// Config.WAL, a WAL module (wal.Module) on a directory of its own, on
// goroutines, in wall-clock time. Properties and observers see every event
// through the nodes' interceptors, one call at a time. Real nodes do not
// crash and restart; fault injection is for simulations.
type Real struct {
	cfg     Config
	opts    RealOptions
	network *local.Network
	nodes   []*mir.Node
	// icps are the interceptors of the options' hook: Start adds them
	// before any node runs; Stop closes them, under mu, once the nodes
	// have stopped.
	icps interceptors
	// wals are the nodes' WAL modules, which Stop closes once the nodes
	// have stopped; walTemp is the temporary directory they are in, if
	// the options gave none.
	wals    []*wal.Module
	walTemp string

	// mu serializes the observers, the properties and the conditions of
	// WaitFor, and guards what follows.
	mu        sync.Mutex
	props     []testsim.Property
	observers []func(*testsim.Observation)
	obs       testsim.Observation
	seq       uint64
	failure   error
	start     time.Time
	started   bool
	stopped   bool

	// changed wakes WaitFor after events were observed or a node failed.
	changed chan struct{}
	wg      sync.WaitGroup
}

var _ Deployment = (*Real)(nil)

// NewReal returns a real deployment, not started.
func NewReal(cfg Config, opts RealOptions) (*Real, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if opts.NodeConfig == nil {
		opts.NodeConfig = mir.DefaultNodeConfig().WithLogger(opts.Logger)
	}
	if err := opts.NodeConfig.Validate(); err != nil {
		return nil, err
	}
	if opts.Network.Logger == nil {
		opts.Network.Logger = opts.Logger
	}
	return &Real{cfg: cfg, opts: opts, changed: make(chan struct{}, 1)}, nil
}

// Nodes returns the node IDs, sorted.
func (d *Real) Nodes() []stdtypes.NodeID { return slices.Clone(d.cfg.Nodes) }

// Simulated reports false.
func (d *Real) Simulated() bool { return false }

// Check adds properties; one that implements testsim.PerRun is checked
// through a NewRun of its own.
func (d *Real) Check(props ...testsim.Property) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.props = append(d.props, testsim.ForRun(props)...)
}

// Observe adds an observer.
func (d *Real) Observe(f func(o *testsim.Observation)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.observers = append(d.observers, f)
}

// Start builds the nodes and runs them, each on goroutines of its own.
func (d *Real) Start() error {
	d.mu.Lock()
	if d.started {
		d.mu.Unlock()
		return errors.New("deploytest: started twice")
	}
	d.started = true
	d.start = time.Now()
	d.mu.Unlock()

	network, err := local.NewNetwork(d.cfg.Nodes, d.opts.Network)
	if err != nil {
		return err
	}
	d.network = network
	for _, id := range d.cfg.Nodes {
		node, err := d.newNode(id)
		if err != nil {
			network.Stop()
			_ = d.icps.close()
			_ = d.closeWALs()
			return err
		}
		d.nodes = append(d.nodes, node)
	}
	for _, node := range d.nodes {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			if err := node.Run(context.Background()); err != nil && !errors.Is(err, mir.ErrStopped) {
				d.recordFailure(&testsim.Failure{Time: d.Now(), Node: node.ID, Err: err})
			}
		}()
	}
	return nil
}

// newNode builds node id with its transport and timer.
func (d *Real) newNode(id stdtypes.NodeID) (*mir.Node, error) {
	mods, err := d.cfg.build(id, 1)
	if err != nil {
		return nil, err
	}
	tr, err := d.network.Transport(id)
	if err != nil {
		return nil, err
	}
	if err := tr.Start(); err != nil {
		return nil, err
	}
	mods[d.cfg.TransportID] = tr
	mods[d.cfg.TimerID] = stdmodules.NewTimer(d.cfg.TimerID, d.opts.Logger.With("node", string(id)))
	if d.cfg.WAL {
		m, err := d.openWAL(id)
		if err != nil {
			return nil, err
		}
		mods[d.cfg.WALID] = m
	}
	var icp eventlog.Interceptor = &nodeInterceptor{d: d, id: id}
	if d.opts.Interceptor != nil {
		user := d.icps.add(d.opts.Interceptor(id))
		icp = &nodeInterceptor{d: d, id: id, user: user}
		if input, ok := user.(eventlog.InputInterceptor); ok {
			// Only then does the node pay for telling inputs apart.
			icp = &inputNodeInterceptor{nodeInterceptor{d: d, id: id, user: user}, input}
		}
	}
	return mir.NewNode(id, d.opts.NodeConfig, mods, icp)
}

// openWAL opens the WAL module of node id, in a directory named after the
// node under RealOptions.WALDir or a temporary directory.
func (d *Real) openWAL(id stdtypes.NodeID) (*wal.Module, error) {
	base := d.opts.WALDir
	if base == "" {
		if d.walTemp == "" {
			dir, err := os.MkdirTemp("", "deploytest-wal-")
			if err != nil {
				return nil, err
			}
			d.walTemp = dir
		}
		base = d.walTemp
	}
	if !filepath.IsLocal(string(id)) || filepath.Base(string(id)) != string(id) {
		return nil, fmt.Errorf("deploytest: node ID %q cannot name a WAL directory", id)
	}
	opts := d.opts.WAL
	if opts.Logger == nil {
		opts.Logger = d.opts.Logger.With("node", string(id))
	}
	m, err := wal.NewModule(filepath.Join(base, string(id)), opts)
	if err != nil {
		return nil, fmt.Errorf("deploytest: node %s: %w", id, err)
	}
	d.wals = append(d.wals, m)
	return m, nil
}

// WALLogStats returns the counters of the nodes' logs (wal.Log.Stats),
// one per node that has a WAL module, in the order the nodes started:
// how long their writes and fsyncs took, which tells a stall of the disk
// from one of the protocol. Call it between Start and Stop (the list of
// modules is fixed then); it is safe while the nodes run.
func (d *Real) WALLogStats() []wal.Stats {
	out := make([]wal.Stats, len(d.wals))
	for i, m := range d.wals {
		out[i] = m.Log().Stats()
	}
	return out
}

// closeWALs closes the nodes' WAL modules and removes the temporary
// directory they are in, if they are in one.
func (d *Real) closeWALs() error {
	var errs []error
	for _, m := range d.wals {
		errs = append(errs, m.Close())
	}
	d.wals = nil
	if d.walTemp != "" {
		errs = append(errs, os.RemoveAll(d.walTemp))
		d.walTemp = ""
	}
	return errors.Join(errs...)
}

// nodeInterceptor is a real node's interceptor: it shows each batch to the
// deployment's properties and observers, then to the user's interceptor,
// if any.
type nodeInterceptor struct {
	d    *Real
	id   stdtypes.NodeID
	user eventlog.Interceptor
}

func (ic *nodeInterceptor) Intercept(evs *stdtypes.EventList) error {
	if err := ic.d.intercept(ic.id, evs); err != nil {
		return err
	}
	if ic.user != nil {
		return ic.user.Intercept(evs)
	}
	return nil
}

// inputNodeInterceptor is a nodeInterceptor for a user's InputInterceptor,
// which it tells the inputs.
type inputNodeInterceptor struct {
	nodeInterceptor
	input eventlog.InputInterceptor
}

func (ic *inputNodeInterceptor) InterceptInputs(evs *stdtypes.EventList, inputs []bool) error {
	if err := ic.d.intercept(ic.id, evs); err != nil {
		return err
	}
	return ic.input.InterceptInputs(evs, inputs)
}

// intercept shows a batch of node id to the properties and observers. A
// violation stops the node, and WaitFor returns it.
func (d *Real) intercept(id stdtypes.NodeID, evs *stdtypes.EventList) error {
	defer d.signal()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failure != nil {
		return d.failure
	}
	now := time.Since(d.start)
	for _, ev := range evs.Slice() {
		d.seq++
		d.obs = testsim.Observation{Seq: d.seq, Time: now, Node: id, Incarnation: 1, Event: ev}
		for _, p := range d.props {
			if err := p.Observe(&d.obs); err != nil {
				d.failure = &testsim.Failure{Time: now, Node: id, Property: p.Name(), Err: err, Events: d.seq,
					History: []testsim.Observation{d.obs}}
				return d.failure
			}
		}
		for _, f := range d.observers {
			f(&d.obs)
		}
	}
	return nil
}

// signal wakes WaitFor without blocking.
func (d *Real) signal() {
	select {
	case d.changed <- struct{}{}:
	default:
	}
}

func (d *Real) recordFailure(f *testsim.Failure) {
	d.mu.Lock()
	if d.failure == nil {
		d.failure = f
	}
	d.mu.Unlock()
	d.signal()
}

// Submit injects events into a node.
func (d *Real) Submit(node stdtypes.NodeID, evs ...stdtypes.Event) error {
	i, ok := slices.BinarySearch(d.cfg.Nodes, node)
	if !ok || i >= len(d.nodes) {
		return fmt.Errorf("deploytest: no node %s (is the deployment started?)", node)
	}
	ctx, cancel := context.WithTimeout(context.Background(), submitTimeout)
	defer cancel()
	return d.nodes[i].InjectEvents(ctx, stdtypes.ListOf(evs...))
}

// WaitFor waits until cond holds, for at most timeout of wall-clock time.
func (d *Real) WaitFor(cond func() bool, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		d.mu.Lock()
		failure := d.failure
		ok := failure == nil && cond()
		d.mu.Unlock()
		switch {
		case failure != nil:
			return failure
		case ok:
			return nil
		}
		select {
		case <-d.changed:
		case <-deadline.C:
			return fmt.Errorf("%w after %v", ErrTimeout, timeout)
		}
	}
}

// CheckLiveness checks the Liveness properties with every node.
func (d *Real) CheckLiveness() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.failure != nil {
		return d.failure
	}
	nodes := make([]testsim.NodeStatus, len(d.cfg.Nodes))
	for i, id := range d.cfg.Nodes {
		nodes[i] = testsim.NodeStatus{ID: id, Up: true, Incarnation: 1}
	}
	for _, p := range d.props {
		if l, ok := p.(testsim.Liveness); ok {
			if err := l.CheckLiveness(nodes); err != nil {
				return &testsim.Failure{Time: time.Since(d.start), Property: p.Name(), Err: err, Events: d.seq}
			}
		}
	}
	return nil
}

// Now returns the wall-clock time since Start.
func (d *Real) Now() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.started {
		return 0
	}
	return time.Since(d.start)
}

// Stop stops the nodes and the network, waits for their goroutines to
// end, closes the interceptors (see Deployment.Stop), and returns the
// first failure of the run, if any.
func (d *Real) Stop() error {
	d.mu.Lock()
	already := d.stopped
	d.stopped = true
	d.mu.Unlock()
	if !already {
		for _, node := range d.nodes {
			node.Stop()
		}
		d.wg.Wait()
		if d.network != nil {
			d.network.Stop()
		}
		walErr := d.closeWALs() // the nodes have stopped: nothing appends
		d.mu.Lock()
		_ = d.icps.close() // the nodes have stopped: nothing intercepts
		d.icps.closeErr = errors.Join(d.icps.closeErr, walErr)
		d.mu.Unlock()
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return stopResult(d.failure, d.icps.closeErr)
}
