package bcb_test

import (
	"fmt"
	"testing"

	"github.com/mirframework/mir/pkg/bcb"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/deploytest/scenario"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// TestScenarios plays bcb's stored scenarios, testdata/scenarios/*.txt:
// its Byzantine cases and the bugs the simulation can show. After a
// deliberate change of behaviour, -sim.rewrite writes the new outcomes
// into the files, to be reviewed in the diff:
//
//	go test ./pkg/bcb -run TestScenarios -sim.rewrite
func TestScenarios(t *testing.T) {
	scenario.RunDir(t, "testdata/scenarios", scenarios())
}

// scenarios is bcb as package scenario plays it: the nodes of newConfig
// (with the synchronous crypto), which take no params.
//
// Its input: broadcast seq=N value=V, the node's Broadcast of V as its
// instance N (numbered from 0 in each incarnation, without gaps); V is
// payloadOf(node, N) by default, the payload forge's lying ACKs name.
//
// Its adversaries: equivocate (a leader tells some nodes another payload,
// in its SENDs and FINALs) and forge (bad signatures in ECHOs, bad
// certificates in FINALs, ACKs for instances never delivered); the
// library's drop, delay and duplicate too.
//
// Its properties are bcbProperties, and its history lists each node's
// deliveries as "leader/incarnation/seq payload": bcb.Deliver is no
// testsim.Delivery, as package bcb does not import package testsim (and,
// with it, the testing package and the simulation's flags).
func scenarios() scenario.Protocol {
	return scenario.Protocol{
		Config: func(nodes []stdtypes.NodeID, _ *scenario.Args) (deploytest.Config, error) {
			return newConfig(nodes, nil, syncCrypto)
		},
		Inputs: map[string]scenario.Input{
			"broadcast": func(node stdtypes.NodeID, a *scenario.Args) ([]stdtypes.Event, error) {
				seq := a.Uint("seq", 0)
				value := a.String("value", string(payloadOf(node, seq)))
				return []stdtypes.Event{bcb.NewBroadcast(mc.Self, seq, []byte(value))}, nil
			},
		},
		Adversaries: map[string]scenario.AdversaryMaker{
			"equivocate": func(*scenario.Args) (sim.Adversary, error) { return equivocate(), nil },
			"forge":      func(*scenario.Args) (sim.Adversary, error) { return forge(), nil },
		},
		Properties: func(faulty []stdtypes.NodeID) []testsim.Property { return bcbProperties(faulty...) },
		History:    describeDelivery,
	}
}

// describeDelivery describes a bcb.Deliver: the instance and the payload.
func describeDelivery(ev stdtypes.Event) (string, bool) {
	d, ok := ev.(*bcb.Deliver)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%v %q", d.ID, d.Payload), true
}
