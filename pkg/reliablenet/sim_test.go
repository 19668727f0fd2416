package reliablenet_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/dsl"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// perNode is how many messages each node of the deployments sends to all.
const perNode = 20

// newSender returns the user module of the deployments: on Init it sends
// perNode notes reliably to every node of members, itself included, named
// "self/k", and it takes whatever it gets (the tests collect deliveries as
// events).
func newSender(self stdtypes.NodeID, members []stdtypes.NodeID) modules.PassiveModule {
	m := dsl.NewModule(appID)
	dsl.UponInit(m, func() error {
		for k := range perNode {
			text := fmt.Sprintf("%s/%d", self, k)
			dsl.EmitEvent(m, reliablenet.NewSendMessage(rnetID, reliablenet.MsgID(text), &note{Text: text}, stdevents.To(appID, members...)))
		}
		return nil
	})
	dsl.UponMessageReceived(m, func(stdtypes.NodeID, *note) error { return nil })
	return m
}

// deployment is n nodes, each with a reliablenet module (the latest
// incarnation's in built, if not nil) and a sender.
func deployment(n int, built map[stdtypes.NodeID]*reliablenet.Module) deploytest.Config {
	return deploytest.Config{
		Nodes: stdtypes.NumberedNodeIDs(n),
		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
			p := reliablenet.DefaultModuleParams(uint64(info.Incarnation))
			p.TickPeriod, p.MinBackoffTicks, p.MaxBackoffTicks = 10*time.Millisecond, 2, 16
			cfg := reliablenet.ModuleConfig{Self: rnetID, Net: info.Transport, Timer: info.Timer, Users: []stdtypes.ModuleID{appID}}
			rn, err := reliablenet.NewModule(info.ID, cfg, p, nil)
			if err != nil {
				return nil, err
			}
			if built != nil {
				built[info.ID] = rn
			}
			return modules.Modules{rnetID: rn, appID: newSender(info.ID, info.Nodes)}, nil
		},
	}
}

// deliveries collects, per node, the notes delivered to its sender.
type deliveries map[stdtypes.NodeID]map[string]int

func collect(d deploytest.Deployment) deliveries {
	got := deliveries{}
	d.Observe(collectInto(got))
	return got
}

// collectInto returns an observer that adds deliveries to got.
func collectInto(got deliveries) func(o *testsim.Observation) {
	return func(o *testsim.Observation) {
		mr, ok := o.Event.(*stdevents.MessageReceived)
		if !ok || mr.Dest() != appID {
			return
		}
		if got[o.Node] == nil {
			got[o.Node] = map[string]int{}
		}
		got[o.Node][fmt.Sprintf("%s from %s", mr.Msg.(*note).Text, mr.From)]++
	}
}

// missing returns the notes of senders some receiver did not get.
func (got deliveries) missing(receivers, senders []stdtypes.NodeID) []string {
	var miss []string
	for _, r := range receivers {
		for _, s := range senders {
			for k := range perNode {
				if key := fmt.Sprintf("%s/%d from %s", s, k, s); got[r][key] == 0 {
					miss = append(miss, fmt.Sprintf("%s at %s", key, r))
				}
			}
		}
	}
	return miss
}

// harsh is the network of the simulations: a third of the messages lost,
// some duplicated, many overtaken.
var harsh = sim.LinkConfig{
	Latency:   testsim.Uniform(time.Millisecond, 20*time.Millisecond),
	Loss:      0.3,
	Duplicate: 0.1,
	Reorder:   0.3,
}

// simScenario is a kind of simulated run.
type simScenario struct {
	name string
	// setup adds faults once the deployment has started; it returns the
	// correct nodes.
	setup func(t *testing.T, d *deploytest.Simulated) []stdtypes.NodeID
}

var simScenarios = []simScenario{
	{"lossy", func(*testing.T, *deploytest.Simulated) []stdtypes.NodeID { return stdtypes.NumberedNodeIDs(4) }},
	{"partition", func(t *testing.T, d *deploytest.Simulated) []stdtypes.NodeID {
		if err := d.Network().PartitionDuring(0, time.Second, stdtypes.NumberedNodeIDs(4)[:2], stdtypes.NumberedNodeIDs(4)[2:]); err != nil {
			t.Fatal(err)
		}
		return stdtypes.NumberedNodeIDs(4)
	}},
	{"restart", func(_ *testing.T, d *deploytest.Simulated) []stdtypes.NodeID {
		d.Node("2").CrashAt(5 * time.Millisecond)
		d.Node("2").RestartAt(500 * time.Millisecond)
		return stdtypes.NumberedNodeIDs(4)
	}},
	{"byzantine", func(t *testing.T, d *deploytest.Simulated) []stdtypes.NodeID {
		if err := d.Network().SetAdversary("3", byzantine()); err != nil {
			t.Fatal(err)
		}
		return stdtypes.NumberedNodeIDs(3)
	}},
}

// byzantine sends, with each message, lies: acknowledgments of numbers
// never sent to it, of another incarnation, too many at once; data for
// modules that are not users, without a message.
func byzantine() sim.Adversary {
	return sim.AdversaryFunc(func(_ stdtypes.NodeID, r *rand.Rand) sim.Attack {
		return sim.AttackFunc(func(dst []sim.Outgoing, m sim.Outgoing) []sim.Outgoing {
			dst = append(dst, m)
			lie := m
			switch r.IntN(5) {
			case 0:
				lie.Msg = &reliablenet.AckMsg{Incarnation: 1, Seqs: []uint64{r.Uint64N(3 * perNode), r.Uint64()}}
			case 1:
				lie.Msg = &reliablenet.AckMsg{Incarnation: r.Uint64N(3), Seqs: make([]uint64, reliablenet.MaxAcksPerMessage+1)}
			case 2:
				lie.Msg = &reliablenet.DataMsg{Seq: r.Uint64(), MsgDest: []stdtypes.ModuleID{"net", rnetID, "timer"}[r.IntN(3)], Msg: &note{Text: "lie"}}
			case 3:
				lie.Msg = &reliablenet.DataMsg{Seq: r.Uint64(), MsgDest: appID}
			case 4:
				return dst
			}
			return append(dst, lie)
		})
	})
}

// runScenario runs a scenario with a seed and returns the run's hash.
func runScenario(t *testing.T, sc simScenario, seed uint64) uint64 {
	t.Helper()
	built := map[stdtypes.NodeID]*reliablenet.Module{}
	d, err := deploytest.NewSimulated(deployment(4, built), deploytest.SimOptions{
		Seed:    seed,
		Network: sim.Options{Link: harsh},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := collect(d)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	correct := sc.setup(t, d)
	if err := d.Sim().Run(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if miss := got.missing(correct, correct); len(miss) > 0 {
		t.Fatalf("%d notes never arrived: %q", len(miss), miss[:min(len(miss), 10)])
	}
	var invalid uint64
	for _, id := range correct {
		st := built[id].Stats()
		invalid += st.Invalid()
		if sc.name == "byzantine" {
			continue // They still send to the liar, which lies in its acknowledgments.
		}
		if st.Pending != 0 || st.Retransmitted == 0 {
			t.Errorf("node %s: %+v", id, st)
		}
	}
	if (sc.name == "byzantine") != (invalid > 0) {
		t.Errorf("%d invalid messages dropped", invalid)
	}
	if sc.name != "byzantine" && !slices.Equal(correct, stdtypes.NumberedNodeIDs(4)) {
		t.Fatal("a correct node left out")
	}
	return d.Sim().Hash()
}

// TestSimulation runs 4 nodes over a network that loses a third of the
// messages, duplicates and reorders, in several scenarios of faults: every
// message of a correct node reaches every correct node, and once all are
// acknowledged nothing is left in flight.
func TestSimulation(t *testing.T) {
	for _, sc := range simScenarios {
		t.Run(sc.name, func(t *testing.T) {
			testsim.RunSeeds(t, func(t *testing.T, seed uint64) { runScenario(t, sc, seed) })
		})
	}
}

// A run is a function of its seed.
func TestSimulationDeterministic(t *testing.T) {
	for _, sc := range simScenarios {
		if a, b := runScenario(t, sc, 42), runScenario(t, sc, 42); a != b {
			t.Errorf("%s: hashes %x and %x for one seed", sc.name, a, b)
		}
	}
}
