package isstest

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// The faults of ISS's tests that pkg/net/sim and pkg/testsim do not offer
// as such. What they do offer is used as it is:
//   - a partition that heals: sim.Network.PartitionDuring, Isolate (a
//     node cut off for many epochs);
//   - lossy, duplicating, reordering links: sim.Options.Link or
//     Network.SetLinks with a sim.LinkConfig (LossyLinks is one);
//   - a node silent from the start: Network.SetAdversary(id, sim.Drop(1));
//     other Byzantine behaviour: the adversaries of pkg/net/sim;
//   - one crash: testsim.Node.CrashAt, CrashAtEvent, RestartAt.

// CrashPlan describes crashes of nodes chosen at random from the seed.
type CrashPlan struct {
	// F is the number of nodes that crash, chosen among Nodes.
	F int
	// Nodes are the candidates; nil means every node of the deployment.
	Nodes []stdtypes.NodeID
	// From and Until bound the times of the crashes: each in [From,
	// Until), unless the node's restart from its crash before comes later
	// (then 1 ms after it).
	From, Until time.Duration
	// MinDown and MaxDown bound how long a crashed node stays down.
	MinDown, MaxDown time.Duration
	// Times is the number of times each chosen node crashes, one after
	// the other (0 means 1). The crashes of a node share [From, Until)
	// in turns.
	Times int
	// AtEvent is the probability that a crash comes at a random event of
	// the node (one of its next MaxEvents after the drawn time) rather
	// than between two batches: in the middle of what the node is doing
	// then, such as a view change.
	AtEvent float64
	// MaxEvents bounds that random event count (0 means 100).
	MaxEvents int
	// Permanent leaves the crashed nodes down: no restart.
	Permanent bool
}

// Crash is one crash of a plan, as scheduled.
type Crash struct {
	Node stdtypes.NodeID
	// At is the crash's time, or the time from which the node counts
	// Events more events before it crashes.
	At     time.Duration
	Events uint64
	// Restart is the time the node restarts; 0 for a permanent crash.
	Restart time.Duration
}

// String describes the crash for a test's log.
func (c Crash) String() string {
	s := fmt.Sprintf("node %s crashes at %v", c.Node, c.At)
	if c.Events > 0 {
		s += fmt.Sprintf(" + %d events", c.Events)
	}
	if c.Restart > 0 {
		s += fmt.Sprintf(", restarts at %v", c.Restart)
	}
	return s
}

// ScheduleCrashes draws the crashes of plan from d's seed (its own source
// of randomness, so the test's draws do not shift) and schedules them:
// each crash, then the restart, which notes the fault healed then
// (Sim.FaultsHealed). A permanent crash notes its time. It returns the
// crashes, for the test's log. Call it after d.Start.
func ScheduleCrashes(d *deploytest.Simulated, plan CrashPlan) ([]Crash, error) {
	nodes := plan.Nodes
	if nodes == nil {
		nodes = d.Nodes()
	}
	times := max(plan.Times, 1)
	switch {
	case plan.F < 0 || plan.F > len(nodes):
		return nil, fmt.Errorf("isstest: %d crashing nodes of %d", plan.F, len(nodes))
	case plan.Until <= plan.From || plan.From < 0:
		return nil, fmt.Errorf("isstest: crashes from %v until %v", plan.From, plan.Until)
	case plan.MinDown <= 0 || plan.MaxDown < plan.MinDown:
		return nil, fmt.Errorf("isstest: crashed nodes down for %v to %v", plan.MinDown, plan.MaxDown)
	case !(plan.AtEvent >= 0 && plan.AtEvent <= 1):
		return nil, fmt.Errorf("isstest: AtEvent %v is no probability", plan.AtEvent)
	case plan.Permanent && times > 1:
		return nil, errors.New("isstest: a permanent crash happens once")
	}
	for _, id := range nodes {
		if d.Node(id) == nil {
			return nil, fmt.Errorf("isstest: no node %s (is the deployment started?)", id)
		}
	}
	maxEvents := plan.MaxEvents
	if maxEvents <= 0 {
		maxEvents = 100
	}
	r := d.Sim().NewRand("isstest/crashes")
	var crashes []Crash
	slot := (plan.Until - plan.From) / time.Duration(times)
	for _, i := range r.Perm(len(nodes))[:plan.F] {
		var restarted time.Duration
		for k := range times {
			// After the node's last restart, so that its crashes do not
			// overlap.
			at := max(plan.From+time.Duration(k)*slot+randDuration(r, 0, slot-1), restarted+time.Millisecond)
			c := Crash{Node: nodes[i], At: at}
			if plan.AtEvent > 0 && r.Float64() < plan.AtEvent {
				c.Events = 1 + uint64(r.IntN(maxEvents))
			}
			if !plan.Permanent {
				c.Restart = c.At + randDuration(r, plan.MinDown, plan.MaxDown)
				restarted = c.Restart
			}
			crashes = append(crashes, c)
			schedule(d, c)
		}
	}
	return crashes, nil
}

// schedule schedules crash c.
func schedule(d *deploytest.Simulated, c Crash) {
	s, node := d.Sim(), d.Node(c.Node)
	switch {
	case c.Events > 0:
		s.At(c.At, func() {
			if node.Up() {
				node.CrashAtEvent(node.Events() + c.Events)
			}
		})
	default:
		node.CrashAt(c.At)
	}
	if c.Restart == 0 {
		s.NoteFault(c.At)
		return
	}
	if c.Events > 0 {
		// A node that did not reach the event by then does not crash:
		// the restart must not find it up and then see it crash later.
		s.At(c.Restart-1, func() { node.CrashAtEvent(0) })
	}
	node.RestartAt(c.Restart)
}

// randDuration returns a duration in [lo, hi].
func randDuration(r *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(r.Int64N(int64(hi-lo)+1))
}

// SilenceDuring makes node send nothing to the other nodes from time from
// until time until (it still receives, and runs): a leader that falls
// silent in the middle of a run. The links from it are cut (sim.Network.Cut),
// which also loses what it sent that is still in flight; the fault is
// noted (Sim.FaultsHealed). For a node silent from the start, give it the
// adversary sim.Drop(1).
func SilenceDuring(d *deploytest.Simulated, node stdtypes.NodeID, from, until time.Duration) error {
	if until < from {
		return fmt.Errorf("isstest: silence from %v until %v", from, until)
	}
	others := slices.DeleteFunc(d.Nodes(), func(id stdtypes.NodeID) bool { return id == node })
	if len(others) == len(d.Nodes()) {
		return fmt.Errorf("isstest: no node %s", node)
	}
	s := d.Sim()
	s.NoteFault(until)
	s.At(from, func() {
		heal, err := d.Network().Cut([]stdtypes.NodeID{node}, others)
		if err != nil {
			panic(fmt.Sprintf("isstest: cut the links of a known node: %v", err))
		}
		s.At(until, heal)
	})
	return nil
}

// RandomSplit splits nodes in two groups, at random from r: a minority of
// at least one node, chosen at random, and the rest. It is a partition
// for sim.Network.PartitionDuring. nodes must hold at least two nodes.
func RandomSplit(r *rand.Rand, nodes []stdtypes.NodeID) [][]stdtypes.NodeID {
	perm := r.Perm(len(nodes))
	k := 1 + r.IntN(max((len(nodes)-1)/2, 1))
	minority := make([]stdtypes.NodeID, k)
	for i := range minority {
		minority[i] = nodes[perm[i]]
	}
	slices.Sort(minority)
	rest := slices.DeleteFunc(slices.Clone(nodes), func(id stdtypes.NodeID) bool { return slices.Contains(minority, id) })
	return [][]stdtypes.NodeID{minority, rest}
}

// LossyLinks is a configuration of links that lose, duplicate and reorder
// messages, with latency between 1 and 10 ms: lossy enough that every
// message a protocol relies on is lost now and then in a run of a few
// thousand.
func LossyLinks() sim.LinkConfig {
	return sim.LinkConfig{
		Latency:   testsim.Uniform(time.Millisecond, 10*time.Millisecond),
		Loss:      0.05,
		Duplicate: 0.02,
		Reorder:   0.1,
	}
}

// Weighted returns the voters ids with the given weights, in the order
// given, checked (membership.Voters.Validate).
func Weighted(ids []stdtypes.NodeID, weights ...uint64) (membership.Voters, error) {
	if len(ids) != len(weights) {
		return nil, fmt.Errorf("isstest: %d nodes and %d weights", len(ids), len(weights))
	}
	v := make(membership.Voters, len(ids))
	for i, id := range ids {
		v[i] = membership.Voter{ID: id, Weight: weights[i]}
	}
	if err := v.Validate(); err != nil {
		return nil, fmt.Errorf("isstest: %w", err)
	}
	return v, nil
}

// byWeight returns the voters, heaviest first, in their order among
// equals.
func byWeight(v membership.Voters) membership.Voters {
	out := slices.Clone(v)
	slices.SortStableFunc(out, func(a, b membership.Voter) int { return cmp.Compare(b.Weight, a.Weight) })
	return out
}

// WeakQuorumOf returns the fewest voters, heaviest first, whose weight is
// more than a third of the total: crash them and no strong quorum of
// correct voters is left, so the system must stop making progress, and
// must not deliver anything wrong.
func WeakQuorumOf(v membership.Voters) []stdtypes.NodeID {
	var ids []stdtypes.NodeID
	var w uint64
	for _, x := range byWeight(v) {
		if v.IsWeakQuorum(w) {
			break
		}
		ids = append(ids, x.ID)
		w += x.Weight
	}
	return ids
}

// Tolerated returns voters whose total weight f is below a third of the
// total W (3f < W, what the protocols tolerate), taken heaviest first: a
// voter joins if the weight stays below W/3. Crash them and the system
// must go on.
func Tolerated(v membership.Voters) []stdtypes.NodeID {
	var ids []stdtypes.NodeID
	var w uint64
	for _, x := range byWeight(v) {
		if 3*(w+x.Weight) < v.Total() {
			ids = append(ids, x.ID)
			w += x.Weight
		}
	}
	return ids
}
