package deploytest_test

import (
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/samples/bracha"
	"github.com/mirframework/mir/stdtypes"
)

// The tests of this package deploy the Bracha broadcast of samples/bracha,
// whose own tests show what a protocol's simulation tests look like.

// brachaID is the module ID of the broadcast in its deployments.
const brachaID = bracha.DeployedID

func nodeIDs(n int) []stdtypes.NodeID {
	ids := make([]stdtypes.NodeID, n)
	for i := range ids {
		ids[i] = stdtypes.NewNodeIDFromInt(i)
	}
	return ids
}

// brachaConfig is a deployment of n nodes running the broadcast, tolerating
// f faults, broken if asked.
func brachaConfig(n, f int, broken bool) deploytest.Config {
	return bracha.DeployConfig(nodeIDs(n), f, broken)
}

// equivocate makes node 0 tell some peers one value and others another,
// in everything it sends.
func equivocate() sim.Adversary { return bracha.Equivocate() }

// runByzantine runs the broadcast on 4 nodes with node 0 Byzantine,
// attacking with adv, hashing the events' content, and returns the run's
// error and the simulation.
func runByzantine(t *testing.T, seed uint64, broken bool, adv sim.Adversary) (*testsim.Sim, error) {
	t.Helper()
	d, err := deploytest.NewSimulated(brachaConfig(4, 1, broken), deploytest.SimOptions{
		Seed: seed,
		Sim:  testsim.Options{HashContent: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	d.Check(testsim.BroadcastProperties("0")...)
	if err := d.Network().SetAdversary("0", adv); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	for _, id := range d.Nodes() {
		if err := d.Submit(id, bracha.NewBroadcast(brachaID, id, 1, "value of node "+string(id))); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Sim().Run(5 * time.Second); err != nil {
		return d.Sim(), err
	}
	return d.Sim(), d.CheckLiveness()
}
