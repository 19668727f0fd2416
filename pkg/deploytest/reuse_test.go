package deploytest_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/deploytest/internal/rbc"
	"github.com/mirframework/mir/pkg/testsim"
)

// TestPropertiesReused: properties handed to deployment after deployment
// check each run as new ones would; the second run used to see the
// deliveries of the first, duplicates.
func TestPropertiesReused(t *testing.T) {
	props := testsim.BroadcastProperties()
	newDeployment := map[string]func() (deploytest.Deployment, error){
		"simulated": func() (deploytest.Deployment, error) {
			return deploytest.NewSimulated(rbcConfig(4, 1, false), deploytest.SimOptions{Seed: 1})
		},
		"real": func() (deploytest.Deployment, error) {
			return deploytest.NewReal(rbcConfig(4, 1, false), deploytest.RealOptions{})
		},
	}
	for name, newD := range newDeployment {
		for run := range 2 {
			d, err := newD()
			if err != nil {
				t.Fatal(err)
			}
			d.Check(props...)
			delivered := deploytest.Collect[*rbc.Deliver](d)
			if err := d.Start(); err != nil {
				t.Fatal(err)
			}
			if err := d.Submit("1", rbc.NewBroadcast(rbcID, "1", 1, "x")); err != nil {
				t.Fatal(err)
			}
			err = d.WaitFor(func() bool { return delivered.Len() == 4 }, 10*time.Second)
			if stopErr := d.Stop(); err == nil {
				err = stopErr
			}
			if err != nil {
				t.Fatalf("%s, run %d: %v", name, run, err)
			}
		}
	}
}

// TestAdversaryReused: an equivocating origin's adversary value, reused
// from seed to seed, gives each seed the run a new value gives it (issue
// #12.7: the reused value gave every seed the first run's split).
func TestAdversaryReused(t *testing.T) {
	reused := equivocate()
	for seed := range uint64(6) {
		fresh, errFresh := runByzantine(t, seed, false, equivocate())
		again, errAgain := runByzantine(t, seed, false, reused)
		if fresh.Hash() != again.Hash() || fmt.Sprint(errFresh) != fmt.Sprint(errAgain) {
			t.Fatalf("seed %d: hash %016x (%v) with a new adversary, %016x (%v) with a reused one",
				seed, fresh.Hash(), errFresh, again.Hash(), errAgain)
		}
	}
}
