package bracha

import (
	"math/rand/v2"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/deploytest/scenario"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/stdtypes"
)

// Module IDs of the protocol module and of the application in a
// deployment made by DeployConfig.
const (
	DeployedID stdtypes.ModuleID = "rbc"
	AppID      stdtypes.ModuleID = "app"
)

// DeployConfig is a deployment of the broadcast on nodes, tolerating f
// faults, with the deliberate bug if broken: the protocol module under
// DeployedID, a null application under AppID.
func DeployConfig(nodes []stdtypes.NodeID, f int, broken bool) deploytest.Config {
	return deploytest.Config{
		Nodes: nodes,
		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
			params := DefaultParams(info.Membership, f)
			params.Broken = broken
			mc := ModuleConfig{Self: DeployedID, Net: info.Transport, Timer: info.Timer, App: AppID}
			proto, err := New(info.ID, mc, params)
			if err != nil {
				return nil, err
			}
			return modules.Modules{DeployedID: proto, AppID: modules.NullPassive{}}, nil
		},
	}
}

// forged is what a lying node makes of a value.
func forged(v string) string { return v + " (forged)" }

// lie returns msg with its value forged, or msg itself if it has none.
func lie(msg stdtypes.Message) stdtypes.Message {
	switch m := msg.(type) {
	case *Send:
		c := *m
		c.Value = forged(c.Value)
		return &c
	case *Echo:
		c := *m
		c.Value = forged(c.Value)
		return &c
	case *Ready:
		c := *m
		c.Value = forged(c.Value)
		return &c
	}
	return msg
}

// Equivocate makes a node tell some peers the truth and the others a
// forged value, in everything it sends: as an origin, it proposes two
// values.
func Equivocate() sim.Adversary {
	return sim.Equivocate(2, func(msg stdtypes.Message, version int) stdtypes.Message {
		if version == 0 {
			return msg
		}
		return lie(msg)
	})
}

// Forge makes a node forge the value of every message it sends, to every
// peer: a node vouching, in its ECHOs and READYs, for values no origin
// broadcast.
func Forge() sim.Adversary {
	return sim.Rewrite(func(o sim.Outgoing, _ *rand.Rand) stdtypes.Message { return lie(o.Msg) })
}

// Scenarios is the broadcast as package scenario plays it. Its params: f
// (default: the most n nodes tolerate) and broken (the deliberate bug).
// Its input: broadcast seq=N value=V. Its adversaries: equivocate and
// forge.
func Scenarios() scenario.Protocol {
	return scenario.Protocol{
		Config: func(nodes []stdtypes.NodeID, params *scenario.Args) (deploytest.Config, error) {
			return DeployConfig(nodes, params.Int("f", (len(nodes)-1)/3), params.Bool("broken", false)), nil
		},
		Inputs: map[string]scenario.Input{
			"broadcast": func(node stdtypes.NodeID, a *scenario.Args) ([]stdtypes.Event, error) {
				return []stdtypes.Event{NewBroadcast(DeployedID, node, a.Uint("seq", 1), a.String("value", ""))}, nil
			},
		},
		Adversaries: map[string]scenario.AdversaryMaker{
			"equivocate": func(*scenario.Args) (sim.Adversary, error) { return Equivocate(), nil },
			"forge":      func(*scenario.Args) (sim.Adversary, error) { return Forge(), nil },
		},
	}
}
