package deploytest_test

import (
	"fmt"
	"testing"

	"github.com/mirframework/mir/pkg/testsim"
)

// TestPropertiesReused: properties handed to deployment after deployment
// check each run as new ones would; the second run used to see the
// deliveries of the first, duplicates.
func TestPropertiesReused(t *testing.T) {
	props := testsim.BroadcastProperties()
	for _, simulated := range []bool{true, false} {
		for run := range 2 {
			d := newDeployment(t, simulated, nil)
			d.Check(props...)
			if err := deliverOne(d); err != nil {
				t.Fatalf("simulated %v, run %d: %v", simulated, run, err)
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
