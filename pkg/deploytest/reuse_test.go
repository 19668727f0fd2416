package deploytest_test

import (
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
