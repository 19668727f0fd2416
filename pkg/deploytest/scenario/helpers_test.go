package scenario

import (
	"errors"
	"fmt"
	"math/rand/v2"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// The tests' protocol, flood: a node sends each value submitted to it to
// every node, and each node delivers what it receives. It has no
// protection against anything: the tests need a protocol whose runs show
// what the runner does, not a correct one.

// bcast is the input: send Value as item Seq of this node.
type bcast struct {
	stdtypes.Header
	Origin stdtypes.NodeID
	Seq    uint64
	Value  string
}

func (b *bcast) SubmittedItem() testsim.Item {
	return testsim.Item{ID: fmt.Sprintf("%s/%d", b.Origin, b.Seq), Value: b.Value}
}

// floodMsg carries a value.
type floodMsg struct {
	stdtypes.MessageBase
	Seq   uint64
	Value string
}

// deliver is the delivery.
type deliver struct {
	stdtypes.Header
	Origin stdtypes.NodeID
	Seq    uint64
	Value  string
}

func (d *deliver) DeliveredItem() testsim.Item {
	return testsim.Item{ID: fmt.Sprintf("%s/%d", d.Origin, d.Seq), Origin: d.Origin, Value: d.Value}
}

var _ = codec.Register[floodMsg]("scenario_test.floodMsg")

// flood is the protocol module.
type flood struct {
	nodes []stdtypes.NodeID
	net   stdtypes.ModuleID
}

// ReceivesMessages declares that the module takes messages from other nodes.
func (*flood) ReceivesMessages() {}

func (f *flood) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	out := stdtypes.EmptyList()
	for _, ev := range evs.Slice() {
		switch ev := ev.(type) {
		case *bcast:
			out.PushBack(stdevents.NewSendMessage(f.net, &floodMsg{Seq: ev.Seq, Value: ev.Value}, stdevents.To("flood", f.nodes...)))
		case *stdevents.MessageReceived:
			if m, ok := ev.Msg.(*floodMsg); ok {
				out.PushBack(&deliver{Header: stdtypes.NewHeader("app"), Origin: ev.From, Seq: m.Seq, Value: m.Value})
			}
		}
	}
	return out, nil
}

// floodProtocol is flood as the runner plays it. Its params: fail=true
// makes building the nodes fail. Its input: send seq=N value=V. Its
// adversaries: lie (changes every value, to=... restricts it) and leaky,
// which keeps a count in the adversary value, the mistake the runner
// catches.
func floodProtocol() Protocol {
	return Protocol{
		Config: func(nodes []stdtypes.NodeID, params *Args) (deploytest.Config, error) {
			if params.Bool("fail", false) {
				return deploytest.Config{}, errors.New("asked to fail")
			}
			return deploytest.Config{Nodes: nodes, Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
				return modules.Modules{"flood": &flood{nodes: info.Nodes, net: info.Transport}, "app": modules.NullPassive{}}, nil
			}}, nil
		},
		Inputs: map[string]Input{
			"send": func(node stdtypes.NodeID, a *Args) ([]stdtypes.Event, error) {
				return []stdtypes.Event{&bcast{Header: stdtypes.NewHeader("flood"), Origin: node, Seq: a.Uint("seq", 1), Value: a.String("value", "")}}, nil
			},
		},
		Adversaries: map[string]AdversaryMaker{
			"lie": func(a *Args) (sim.Adversary, error) {
				suffix := a.String("suffix", " (lie)")
				return sim.Rewrite(func(o sim.Outgoing, _ *rand.Rand) stdtypes.Message {
					m := *o.Msg.(*floodMsg)
					m.Value += suffix
					return &m
				}), nil
			},
			"leaky": func(*Args) (sim.Adversary, error) { return leaky(), nil },
		},
	}
}

// leaky drops every other message a node sends, counting in a variable of
// the adversary value rather than of the attack: the mistake of issue
// #12.7, which the interface makes hard, not impossible.
func leaky() sim.Adversary {
	sent := 0
	return sim.AdversaryFunc(func(stdtypes.NodeID, *rand.Rand) sim.Attack {
		return sim.AttackFunc(func(dst []sim.Outgoing, m sim.Outgoing) []sim.Outgoing {
			sent++
			if sent%2 == 0 {
				return dst
			}
			return append(dst, m)
		})
	})
}
