package bracha

import (
	"math/rand/v2"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/deploytest/scenario"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// NewNodeModules returns the passive modules of a node: the protocol
// module, under mc.Self, and the reliablenet module that carries its
// messages, under mc.ReliableNet. The reliablenet module sends through
// the transport the node has under the ID transport, and counts the ticks
// of its timer, timer. The node adds those two, and the application
// under mc.App.
func NewNodeModules(self stdtypes.NodeID, mc ModuleConfig, params ModuleParams, transport, timer stdtypes.ModuleID) (modules.Modules, error) {
	protocol, err := New(self, mc, params)
	if err != nil {
		return nil, err
	}
	rmc := reliablenet.ModuleConfig{Self: mc.ReliableNet, Net: transport, Timer: timer, Users: []stdtypes.ModuleID{mc.Self}}
	rnet, err := reliablenet.NewModule(self, rmc, ReliableNetParams(params), nil)
	if err != nil {
		return nil, err
	}
	return modules.Modules{mc.Self: protocol, mc.ReliableNet: rnet}, nil
}

// Module IDs of the protocol module and of the application in a
// deployment made by DeployConfig.
const (
	DeployedID stdtypes.ModuleID = "bracha"
	AppID      stdtypes.ModuleID = "app"
)

// DeployConfig is a deployment of the broadcast on nodes, tolerating f
// faults, with the deliberate bug if broken: the protocol module under
// DeployedID, its reliablenet module, and a null application under AppID.
// Set its WAL to give each node a WAL module, which the protocol module
// then persists its messages in.
func DeployConfig(nodes []stdtypes.NodeID, f int, broken bool) deploytest.Config {
	return deploytest.Config{
		Nodes: nodes,
		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
			params := DefaultModuleParams(info.Nodes)
			params.F, params.Broken = f, broken
			params.Incarnation = uint64(info.Incarnation) // 1, 2, ...: higher at every start.
			mc := ModuleConfig{Self: DeployedID, ReliableNet: "reliablenet", App: AppID, WAL: info.WAL}
			mods, err := NewNodeModules(info.ID, mc, params, info.Transport, info.Timer)
			if err != nil {
				return nil, err
			}
			mods[AppID] = modules.NullPassive{}
			return mods, nil
		},
	}
}

// forged is what a lying node makes of a value.
func forged(v string) string { return v + " (forged)" }

// lie returns msg with its value forged, or msg itself if it has none.
// The protocol's messages travel inside the reliablenet module's DataMsg.
func lie(msg stdtypes.Message) stdtypes.Message {
	switch m := msg.(type) {
	case *reliablenet.DataMsg:
		c := *m // Never change msg: the sender keeps it.
		c.Msg = lie(m.Msg)
		return &c
	case *SendMsg:
		c := *m
		c.Value = forged(c.Value)
		return &c
	case *EchoMsg:
		c := *m
		c.Value = forged(c.Value)
		return &c
	case *ReadyMsg:
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

// LieWhenAsked makes a node tell each peer the truth the first time it
// sends it a message of an instance, and forge the value when it sends the
// message again under another reliablenet sequence number: in answer to
// the HELLO of a peer that restarted. A restarted node that forgot what
// it echoed then echoes the forged value (see NoEquivocation).
func LieWhenAsked() sim.Adversary {
	return sim.AdversaryFunc(func(stdtypes.NodeID, *rand.Rand) sim.Attack {
		// The DataMsg that first carried each message to each peer, in
		// this run.
		first := make(map[toPeer]dataID)
		return sim.AttackFunc(func(dst []sim.Outgoing, o sim.Outgoing) []sim.Outgoing {
			data, ok := o.Msg.(*reliablenet.DataMsg)
			if !ok {
				return append(dst, o)
			}
			k, ok := messageKey(data.Msg)
			if !ok {
				return append(dst, o)
			}
			k.to = o.To
			id := dataID{data.Incarnation, data.Seq}
			if prev, seen := first[k]; !seen {
				first[k] = id
			} else if prev != id {
				o.Msg = lie(o.Msg)
			}
			return append(dst, o)
		})
	})
}

// toPeer names a message of an instance sent to a peer.
type toPeer struct {
	to     stdtypes.NodeID
	origin stdtypes.NodeID
	seq    uint64
	kind   kind
}

// dataID names a DataMsg of a reliablenet module: a retransmission has the
// same.
type dataID struct{ incarnation, seq uint64 }

// messageKey returns the instance and kind of a protocol message.
func messageKey(msg stdtypes.Message) (toPeer, bool) {
	switch m := msg.(type) {
	case *SendMsg:
		return toPeer{seq: m.Seq, kind: kindSend}, true
	case *EchoMsg:
		return toPeer{origin: m.Origin, seq: m.Seq, kind: kindEcho}, true
	case *ReadyMsg:
		return toPeer{origin: m.Origin, seq: m.Seq, kind: kindReady}, true
	}
	return toPeer{}, false
}

// Scenarios is the broadcast as package scenario plays it. Its params: f
// (default: the most n nodes tolerate) and broken (the deliberate bug).
// Its input: broadcast seq=N value=V. Its adversaries: equivocate, forge
// and lie-when-asked. Its properties: the broadcast's, and
// NoEquivocation.
func Scenarios() scenario.Protocol {
	return scenario.Protocol{
		Config: func(nodes []stdtypes.NodeID, params *scenario.Args) (deploytest.Config, error) {
			return DeployConfig(nodes, params.Int("f", (len(nodes)-1)/3), params.Bool("broken", false)), nil
		},
		Properties: func(faulty []stdtypes.NodeID) []testsim.Property {
			return append(testsim.BroadcastProperties(faulty...), NoEquivocation(faulty...))
		},
		Inputs: map[string]scenario.Input{
			"broadcast": func(node stdtypes.NodeID, a *scenario.Args) ([]stdtypes.Event, error) {
				return []stdtypes.Event{NewBroadcast(DeployedID, node, a.Uint("seq", 1), a.String("value", ""))}, nil
			},
		},
		Adversaries: map[string]scenario.AdversaryMaker{
			"equivocate":     func(*scenario.Args) (sim.Adversary, error) { return Equivocate(), nil },
			"forge":          func(*scenario.Args) (sim.Adversary, error) { return Forge(), nil },
			"lie-when-asked": func(*scenario.Args) (sim.Adversary, error) { return LieWhenAsked(), nil },
		},
	}
}
