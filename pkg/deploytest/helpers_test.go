package deploytest_test

import (
	"github.com/mirframework/mir/pkg/deploytest"
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
