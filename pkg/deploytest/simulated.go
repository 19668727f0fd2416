package deploytest

import (
	"fmt"
	"slices"
	"time"

	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdtypes"
)

// SimOptions configure a simulated deployment.
type SimOptions struct {
	// Seed is the seed of the run; it replaces Sim.Seed.
	Seed uint64
	// Sim configures the simulation.
	Sim testsim.Options
	// Network configures the simulated network.
	Network sim.Options
	// WAL configures the nodes' simulated disks and WAL twins, if
	// Config.WAL gives the nodes WAL modules; nil means the defaults,
	// with the storage faults of wal.SimFaults.
	WAL *wal.SimOptions
	// Restore, if set, is every node's Restore hook (see
	// testsim.NodeConfig).
	Restore func(id stdtypes.NodeID, incarnation int, mods modules.Modules) ([]stdtypes.Event, error)
	// Interceptor, if set, returns the interceptor of each node, which
	// sees every batch the node dispatches: the hook for an event
	// recorder, which records simulated time (testsim.Timestamp). It is
	// called once per node, at Start; Stop closes what it returned that
	// can be closed.
	Interceptor func(id stdtypes.NodeID) eventlog.Interceptor
}

// Simulated is a deployment in simulated time: every node runs in a
// testsim.Sim, with the simulated network's transport (pkg/net/sim), the
// simulated timer (testsim.Timer) and, if Config.WAL, the WAL module's
// twin (wal.SimModule) on a simulated disk of its own, which survives the
// node's crashes: a restarted node recovers from it, with the storage
// faults of SimOptions.WAL. The simulation and the network are there to
// inject faults, before Start or from functions scheduled with Sim().At.
type Simulated struct {
	cfg     Config
	opts    SimOptions
	sim     *testsim.Sim
	network *sim.Network
	disks   map[stdtypes.NodeID]*wal.SimDisk
	icps    interceptors
	started bool
}

var _ Deployment = (*Simulated)(nil)

// NewSimulated returns a simulated deployment, not started.
func NewSimulated(cfg Config, opts SimOptions) (*Simulated, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	simOpts := opts.Sim
	simOpts.Seed = opts.Seed
	s := testsim.New(simOpts)
	network, err := sim.New(s, cfg.Nodes, opts.Network)
	if err != nil {
		return nil, err
	}
	d := &Simulated{cfg: cfg, opts: opts, sim: s, network: network}
	if cfg.WAL {
		walOpts := wal.SimOptions{Faults: wal.SimFaults()}
		if opts.WAL != nil {
			walOpts = *opts.WAL
		}
		d.disks = make(map[stdtypes.NodeID]*wal.SimDisk, len(cfg.Nodes))
		for _, id := range cfg.Nodes {
			d.disks[id] = wal.NewSimDisk(s.NewRand("deploytest/wal/"+string(id)), walOpts)
		}
	}
	return d, nil
}

// Disk returns the simulated disk of node id, or nil if the nodes have no
// WAL module.
func (d *Simulated) Disk(id stdtypes.NodeID) *wal.SimDisk { return d.disks[id] }

// Sim returns the simulation.
func (d *Simulated) Sim() *testsim.Sim { return d.sim }

// Network returns the simulated network.
func (d *Simulated) Network() *sim.Network { return d.network }

// Node returns the simulated node id, or nil (also before Start).
func (d *Simulated) Node(id stdtypes.NodeID) *testsim.Node { return d.sim.Node(id) }

// Nodes returns the node IDs, sorted.
func (d *Simulated) Nodes() []stdtypes.NodeID { return slices.Clone(d.cfg.Nodes) }

// Simulated reports true.
func (d *Simulated) Simulated() bool { return true }

// Check adds properties.
func (d *Simulated) Check(props ...testsim.Property) { d.sim.Check(props...) }

// Observe adds an observer.
func (d *Simulated) Observe(f func(o *testsim.Observation)) { d.sim.Observe(f) }

// Start adds the nodes to the simulation, at its current time.
func (d *Simulated) Start() error {
	if d.started {
		return fmt.Errorf("deploytest: started twice")
	}
	d.started = true
	for _, id := range d.cfg.Nodes {
		tr, err := d.network.Transport(id)
		if err != nil {
			return err
		}
		nc := testsim.NodeConfig{
			Build: func(incarnation int) (modules.Modules, error) {
				mods, err := d.cfg.build(id, incarnation)
				if err != nil {
					return nil, err
				}
				mods[d.cfg.TransportID] = tr
				mods[d.cfg.TimerID] = testsim.NewTimer()
				if disk := d.disks[id]; disk != nil {
					twin, err := disk.Start()
					if err != nil {
						return nil, fmt.Errorf("deploytest: node %s: %w", id, err)
					}
					mods[d.cfg.WALID] = twin
				}
				return mods, nil
			},
		}
		if d.opts.Interceptor != nil {
			nc.Interceptor = d.icps.add(d.opts.Interceptor(id))
		}
		if d.opts.Restore != nil {
			nc.Restore = func(incarnation int, mods modules.Modules) ([]stdtypes.Event, error) {
				return d.opts.Restore(id, incarnation, mods)
			}
		}
		if _, err := d.sim.AddNode(id, nc); err != nil {
			_ = d.icps.close()
			return err
		}
	}
	return nil
}

// Submit injects events into a node now.
func (d *Simulated) Submit(node stdtypes.NodeID, evs ...stdtypes.Event) error {
	n := d.sim.Node(node)
	if n == nil {
		return fmt.Errorf("deploytest: no node %s (is the deployment started?)", node)
	}
	return n.Inject(evs...)
}

// WaitFor runs the simulation until cond holds, for at most timeout of
// simulated time. A simulation that has nothing left to do before cond
// holds times out at once.
func (d *Simulated) WaitFor(cond func() bool, timeout time.Duration) error {
	start := d.sim.Now()
	ok, err := d.sim.RunUntil(cond, start+timeout)
	switch {
	case err != nil:
		return err
	case ok:
		return nil
	case d.sim.Pending() == 0:
		return fmt.Errorf("%w: nothing left to happen at %v of simulated time (seed %d)", ErrTimeout, d.sim.Now(), d.opts.Seed)
	}
	return fmt.Errorf("%w after %v of simulated time (seed %d)", ErrTimeout, timeout, d.opts.Seed)
}

// CheckLiveness checks the Liveness properties.
func (d *Simulated) CheckLiveness() error { return d.sim.CheckLiveness() }

// Now returns the simulated time.
func (d *Simulated) Now() time.Duration { return d.sim.Now() }

// Stop closes the interceptors (see Deployment.Stop) and returns the
// failure of the run, if any. A simulation holds no other resources:
// there is nothing else to stop.
func (d *Simulated) Stop() error { return stopResult(d.sim.Err(), d.icps.close()) }
