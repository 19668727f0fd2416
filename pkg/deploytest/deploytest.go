package deploytest

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// ErrTimeout is returned by WaitFor when the condition does not hold in
// time.
var ErrTimeout = errors.New("deploytest: timed out")

// Default module IDs of the modules a deployment adds to every node.
const (
	DefaultTransportID stdtypes.ModuleID = "net"
	DefaultTimerID     stdtypes.ModuleID = "timer"
	DefaultWALID       stdtypes.ModuleID = "wal"
)

// NodeInfo is what a Constructor gets to build a node's modules.
type NodeInfo struct {
	// ID is the node's ID.
	ID stdtypes.NodeID
	// Nodes lists every node of the deployment, sorted (Config.Nodes).
	Nodes []stdtypes.NodeID
	// Transport and Timer are the IDs under which the deployment adds
	// the node's transport and timer: the protocol's modules address
	// them there, and must not use these IDs themselves.
	Transport stdtypes.ModuleID
	Timer     stdtypes.ModuleID
	// WAL is the ID of the node's WAL module (pkg/wal), if the
	// deployment gives it one (Config.WAL), else empty: the real module
	// on a directory of its own, or its twin on a simulated disk that
	// survives the node's crashes.
	WAL stdtypes.ModuleID
	// Incarnation counts the node's starts: 1, then one more at every
	// restart in a simulation.
	Incarnation int
}

// Constructor builds the protocol modules of one node: passive modules
// only, since the deployment adds the transport, the timer and the WAL
// module, simulated or real. It is called again when a simulated node
// restarts; what the node's WAL module recovered reaches the modules
// right after their Init.
type Constructor func(info NodeInfo) (modules.Modules, error)

// Config describes a deployment.
type Config struct {
	// Nodes are the IDs of the nodes.
	Nodes []stdtypes.NodeID
	// Build builds each node's modules.
	Build Constructor
	// TransportID and TimerID are the module IDs of the transport and
	// the timer; empty means DefaultTransportID and DefaultTimerID.
	TransportID, TimerID stdtypes.ModuleID
	// WAL gives every node a WAL module (pkg/wal), under WALID
	// (DefaultWALID if empty): for protocols that persist state before
	// they send. Off by default: a node without one restarts empty.
	WAL   bool
	WALID stdtypes.ModuleID
}

// withDefaults checks the configuration and fills in the defaults.
func (c Config) withDefaults() (Config, error) {
	if len(c.Nodes) == 0 {
		return c, errors.New("deploytest: no nodes")
	}
	if c.Build == nil {
		return c, errors.New("deploytest: no constructor")
	}
	c.Nodes = slices.Sorted(slices.Values(c.Nodes))
	for i, id := range c.Nodes {
		if id == "" || (i > 0 && c.Nodes[i-1] == id) {
			return c, fmt.Errorf("deploytest: node IDs must be non-empty and distinct: %q", c.Nodes)
		}
	}
	if c.TransportID == "" {
		c.TransportID = DefaultTransportID
	}
	if c.TimerID == "" {
		c.TimerID = DefaultTimerID
	}
	if c.WAL && c.WALID == "" {
		c.WALID = DefaultWALID
	}
	if !c.WAL {
		c.WALID = ""
	}
	ids := c.reserved()
	for i, id := range ids {
		if err := id.Validate(); err != nil || id.Sub() != "" {
			return c, fmt.Errorf("deploytest: module ID %q: want one path segment", id)
		}
		if slices.Contains(ids[:i], id) {
			return c, fmt.Errorf("deploytest: the transport, the timer and the WAL module share module ID %q", id)
		}
	}
	return c, nil
}

// reserved returns the IDs of the modules the deployment adds.
func (c Config) reserved() []stdtypes.ModuleID {
	ids := []stdtypes.ModuleID{c.TransportID, c.TimerID}
	if c.WAL {
		ids = append(ids, c.WALID)
	}
	return ids
}

// build calls the constructor and checks that it left the transport's and
// the timer's IDs free.
func (c Config) build(id stdtypes.NodeID, incarnation int) (modules.Modules, error) {
	info := NodeInfo{
		ID:          id,
		Nodes:       slices.Clone(c.Nodes),
		Transport:   c.TransportID,
		Timer:       c.TimerID,
		WAL:         c.WALID,
		Incarnation: incarnation,
	}
	mods, err := c.Build(info)
	if err != nil {
		return nil, fmt.Errorf("deploytest: node %s: %w", id, err)
	}
	for _, reserved := range c.reserved() {
		if _, ok := mods[reserved]; ok {
			return nil, fmt.Errorf("deploytest: node %s: the constructor uses module ID %q, which the deployment gives the transport, the timer or the WAL module", id, reserved)
		}
	}
	out := make(modules.Modules, len(mods)+3)
	for mid, m := range mods {
		out[mid] = m
	}
	return out, nil
}

// Deployment is a system of nodes under test, simulated (NewSimulated) or
// real (NewReal), behind one interface, so that the same test code runs
// against both:
//
//	func testBroadcast(t *testing.T, d deploytest.Deployment) {
//		delivered := deploytest.Collect[*bracha.Deliver](d)
//		d.Check(testsim.BroadcastProperties()...)
//		if err := d.Start(); err != nil { t.Fatal(err) }
//		defer d.Stop()
//		d.Submit("0", bracha.NewBroadcast("bracha", "0", 1, "hello"))
//		err := d.WaitFor(func() bool { return delivered.Len() == 4 }, 10*time.Second)
//		...
//	}
//
// In a simulation, times are simulated; in a real deployment, they are
// wall-clock times.
type Deployment interface {
	// Nodes returns the node IDs, sorted.
	Nodes() []stdtypes.NodeID
	// Simulated reports whether the deployment is simulated.
	Simulated() bool
	// Check adds properties, checked on every event of every node;
	// those that implement testsim.PerRun through a NewRun of their own,
	// so a value can be handed to deployment after deployment. Call it
	// before Start.
	Check(props ...testsim.Property)
	// Observe adds a function called with every event of every node,
	// one call at a time. Call it before Start.
	Observe(f func(o *testsim.Observation))
	// Start starts every node.
	Start() error
	// Submit hands events to a node from outside, as a client would.
	Submit(node stdtypes.NodeID, evs ...stdtypes.Event) error
	// WaitFor returns nil once cond holds, ErrTimeout if it does not
	// within timeout, or the failure that ended the run (a violated
	// property, a failed node). cond is called one call at a time with
	// the observers, so it may read what they collect.
	WaitFor(cond func() bool, timeout time.Duration) error
	// CheckLiveness checks the Liveness properties with the nodes that
	// are up.
	CheckLiveness() error
	// Now returns the time since Start.
	Now() time.Duration
	// Stop stops every node, closes the interceptors the options gave
	// the nodes that can be closed (io.Closer: a recorder), and returns
	// the first failure of the run, if any, with the errors of closing.
	// Calling it again does nothing more and returns the same.
	Stop() error
}

// interceptors are the interceptors a deployment got from its options'
// hook, which it closes when it stops.
type interceptors struct {
	list     []eventlog.Interceptor
	closed   bool
	closeErr error
}

// add keeps icp, if not nil, and returns it.
func (ic *interceptors) add(icp eventlog.Interceptor) eventlog.Interceptor {
	if icp != nil {
		ic.list = append(ic.list, icp)
	}
	return icp
}

// close closes, the first time it is called, those of the interceptors
// that can be closed, and returns their errors, the same every time.
func (ic *interceptors) close() error {
	if !ic.closed {
		ic.closed = true
		var errs []error
		for _, icp := range ic.list {
			if c, ok := icp.(io.Closer); ok {
				if err := c.Close(); err != nil {
					errs = append(errs, err)
				}
			}
		}
		ic.closeErr = errors.Join(errs...)
	}
	return ic.closeErr
}

// stopResult is what Stop returns: the run's failure, joined with the
// error of closing the interceptors if there is one.
func stopResult(failure, closeErr error) error {
	if closeErr == nil {
		return failure
	}
	return errors.Join(failure, closeErr)
}

// Collector collects the events of type E that the nodes of a deployment
// dispatch, such as a protocol's deliveries, for a test to wait on and
// look at. Its methods are safe to call while a real deployment runs.
type Collector[E stdtypes.Event] struct {
	mu     sync.Mutex
	byNode map[stdtypes.NodeID][]E
	total  int
}

// Collect returns a collector of d's events of type E. Call it before
// d.Start.
func Collect[E stdtypes.Event](d Deployment) *Collector[E] {
	c := &Collector[E]{byNode: make(map[stdtypes.NodeID][]E)}
	d.Observe(func(o *testsim.Observation) {
		if ev, ok := o.Event.(E); ok {
			c.mu.Lock()
			c.byNode[o.Node] = append(c.byNode[o.Node], ev)
			c.total++
			c.mu.Unlock()
		}
	})
	return c
}

// Len returns the number of events collected from all nodes.
func (c *Collector[E]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// Of returns a copy of the events collected from node id, in order.
func (c *Collector[E]) Of(id stdtypes.NodeID) []E {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.byNode[id])
}

// Count returns the number of events collected from node id.
func (c *Collector[E]) Count(id stdtypes.NodeID) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byNode[id])
}
