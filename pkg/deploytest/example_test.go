package deploytest_test

import (
	"fmt"
	"time"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/samples/bracha"
)

// broadcastOnce is test code that runs against any deployment: node 0
// broadcasts a value, and every node must deliver it.
func broadcastOnce(d deploytest.Deployment) error {
	delivered := deploytest.Collect[*bracha.Deliver](d)
	d.Check(testsim.BroadcastProperties()...)
	if err := d.Start(); err != nil {
		return err
	}
	if err := d.Submit("0", bracha.NewBroadcast(brachaID, "0", 1, "hello")); err != nil {
		return err
	}
	err := d.WaitFor(func() bool { return delivered.Len() == len(d.Nodes()) }, 10*time.Second)
	if stopErr := d.Stop(); err == nil {
		err = stopErr
	}
	if err != nil {
		return err
	}
	for _, id := range d.Nodes() {
		fmt.Printf("node %s delivered %q\n", id, delivered.Of(id)[0].Value)
	}
	return nil
}

// The same test code, first in a simulation, then with real nodes.
func Example() {
	cfg := brachaConfig(4, 1, false)
	sim, err := deploytest.NewSimulated(cfg, deploytest.SimOptions{Seed: 1})
	if err != nil {
		panic(err)
	}
	if err := broadcastOnce(sim); err != nil {
		panic(err)
	}
	real, err := deploytest.NewReal(cfg, deploytest.RealOptions{})
	if err != nil {
		panic(err)
	}
	if err := broadcastOnce(real); err != nil {
		panic(err)
	}
	// Output:
	// node 0 delivered "hello"
	// node 1 delivered "hello"
	// node 2 delivered "hello"
	// node 3 delivered "hello"
	// node 0 delivered "hello"
	// node 1 delivered "hello"
	// node 2 delivered "hello"
	// node 3 delivered "hello"
}
