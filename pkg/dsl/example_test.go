package dsl_test

import (
	"fmt"
	"slices"

	"github.com/mirframework/mir/pkg/dsl"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Vote is a message a node sends to the others.
type Vote struct {
	stdtypes.MessageBase
	Value string
}

// Decided is what the module emits once a quorum voted.
type Decided struct {
	stdtypes.Header
	Value string
}

// newVoting returns a module that collects one vote per node and emits
// Decided once quorum nodes voted for one value.
func newVoting(members []stdtypes.NodeID, quorum int) *dsl.Module {
	m := dsl.NewModule("voting")
	votes := make(map[stdtypes.NodeID]string) // Looked up only, never iterated.
	count := make(map[string]int)
	decided := false

	// upon receiving <VOTE, v> from p such that p is a member do
	dsl.UponMessageReceived(m, func(from stdtypes.NodeID, msg *Vote) error {
		if !slices.Contains(members, from) {
			return dsl.Drop("vote from %s, who is not a member", from)
		}
		if _, ok := votes[from]; ok {
			return dsl.Drop("second vote from %s", from)
		}
		votes[from] = msg.Value
		count[msg.Value]++
		return nil
	})

	// upon exists v such that #votes for v >= quorum and not decided do
	dsl.UponCondition(m, func() error {
		if decided {
			return nil
		}
		for _, v := range members { // In member order: deterministic.
			if value, ok := votes[v]; ok && count[value] >= quorum {
				decided = true
				dsl.EmitEvent(m, &Decided{Header: stdtypes.NewHeader("app"), Value: value})
				return nil
			}
		}
		return nil
	})
	return m
}

func Example() {
	m := newVoting([]stdtypes.NodeID{"0", "1", "2", "3"}, 3)
	vote := func(from stdtypes.NodeID, value string) stdtypes.Event {
		return stdevents.NewMessageReceived("voting", from, &Vote{Value: value})
	}
	out, err := m.ApplyEvents(stdtypes.ListOf(
		stdevents.NewInit("voting"),
		vote("0", "a"), vote("1", "a"), vote("1", "b"), vote("9", "a"), vote("2", "a"),
	))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ev := range out.Slice() {
		fmt.Println(ev.(*Decided).Value)
	}
	fmt.Printf("%+v\n", m.Stats())
	// Output:
	// a
	// {UnknownMessages:0 DroppedMessages:2 DroppedEvents:0}
}
