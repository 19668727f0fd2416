package pbft_test

import (
	"fmt"
	"testing"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/deploytest/scenario"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// TestScenarios plays the stored scenarios, testdata/scenarios/*.txt:
// the Byzantine cases and the bugs the simulation showed. After a
// deliberate change of behaviour, -sim.rewrite writes the new outcomes
// into the files, to be reviewed in the diff:
//
//	go test ./pkg/orderers/pbft -run TestScenarios -sim.rewrite
func TestScenarios(t *testing.T) {
	scenario.RunDir(t, "testdata/scenarios", scenarios())
}

// scenarios is the orderers as package scenario plays them: the nodes of
// newSimConfig, each leading one segment of epoch 0, under the driver
// module, which proposes by itself (no inputs). Params: silent=NODE, a
// leader whose proposer never answers.
//
// Its adversaries: equivocate (a leader tells some nodes other values)
// and forge (lies in every message but the PREPREPAREs; for 7 nodes).
// Its properties are sbProperties; its history lists each node's
// deliveries as "segment/slot value" (⊥ for an aborted slot).
func scenarios() scenario.Protocol {
	return scenario.Protocol{
		Config: func(nodes []stdtypes.NodeID, a *scenario.Args) (deploytest.Config, error) {
			return newSimConfig(membership.EqualVoters(nodes...), stdtypes.NodeID(a.String("silent", "")))
		},
		Adversaries: map[string]scenario.AdversaryMaker{
			"equivocate": func(*scenario.Args) (sim.Adversary, error) { return equivocate(), nil },
			"forge":      func(*scenario.Args) (sim.Adversary, error) { return forge(), nil },
		},
		Properties: func(faulty []stdtypes.NodeID) []testsim.Property {
			return []testsim.Property{newSBProperties(nil, faulty)}
		},
		History: describeDelivery,
	}
}

// describeDelivery describes an iss.SBDeliver: segment, slot, outcome.
func describeDelivery(ev stdtypes.Event) (string, bool) {
	d, ok := ev.(*iss.SBDeliver)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%d/%d %s", d.Segment, d.SeqNr, outcomeOf(d)), true
}
