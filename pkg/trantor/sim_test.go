package trantor_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/trantor/trantortest"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdtypes"
)

// clusterOptions vary a simulated deployment.
type clusterOptions struct {
	n       int
	params  func(*trantor.Params)
	network sim.Options
	// adversaries make nodes Byzantine.
	adversaries map[stdtypes.NodeID]sim.Adversary
	// wal configures the simulated disks; nil means the defaults.
	wal *wal.SimOptions
}

// newCluster builds and starts a simulated Trantor deployment of n equal
// voters, each with a logApp (trantortest.NewSystem).
func newCluster(t testing.TB, seed uint64, o clusterOptions) *trantortest.System {
	t.Helper()
	c, err := trantortest.NewSystem(trantortest.Config{
		N: o.n, NewApp: func(stdtypes.NodeID) trantor.App { return &logApp{} },
		Params: o.params, Seed: seed, Network: o.network, Adversaries: o.adversaries, WAL: o.wal,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Stop() })
	return c
}

// buildNode is the builder of a test node the benchmarks share with the
// simulations.
var buildNode = trantortest.BuildNode

// defaultLoad is the workload of the fault scenarios.
var defaultLoad = trantortest.DefaultLoad

// load is a workload.
type load = trantortest.Load

// run submits the load and waits until every node in want (all if none)
// has executed it (or restored a state that holds it), then checks that
// their applications' states are equal, and hold every transaction.
func run(t testing.TB, c *trantortest.System, seed uint64, l load, want ...stdtypes.NodeID) {
	t.Helper()
	if len(want) == 0 {
		want = c.Nodes()
	}
	if err := c.Run(l, seed, want...); err != nil {
		t.Fatal(err)
	}
	if n := c.App(want[0]).(*logApp).n; n != uint64(l.Txs) {
		t.Errorf("node %s applied %d transactions; %d submitted", want[0], n, l.Txs)
	}
}

func nodesName(n int) string { return fmt.Sprintf("%d nodes", n) }

func TestNoFaults(t *testing.T) {
	for _, n := range []int{4, 7} {
		t.Run(nodesName(n), func(t *testing.T) {
			testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
				c := newCluster(t, seed, clusterOptions{n: n})
				run(t, c, seed, load{Clients: 4, Txs: 300, PayloadBytes: 32, Rate: 2000, Start: time.Millisecond, Retry: 500 * time.Millisecond})
			})
		})
	}
}

// TestOneEntryNode: transactions submitted to one node only are executed
// by every node (the others learn them from its batches).
func TestOneEntryNode(t *testing.T) {
	testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
		c := newCluster(t, seed, clusterOptions{n: 4})
		l := defaultLoad
		l.To = []stdtypes.NodeID{"2"}
		run(t, c, seed, l)
	})
}
