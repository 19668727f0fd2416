package protocol_test

import (
	"fmt"

	"github.com/mirframework/mir/samples/pingpong/protocol"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Node 1 of a membership of nodes 0, 1 and 2 pings both others and answers
// their pings; here it answers a Ping from node 2.
func Example() {
	m, err := protocol.New(protocol.DefaultModuleConfig(), protocol.DefaultModuleParams([]stdtypes.NodeID{"0", "2"}))
	if err != nil {
		panic(err)
	}
	out, err := m.ApplyEvents(stdtypes.ListOf(stdevents.NewMessageReceived("pingpong", "2", &protocol.Ping{Seq: 7})))
	if err != nil {
		panic(err)
	}
	send := out.Slice()[0].(*stdevents.SendMessage)
	fmt.Printf("Pong{%d} to %v\n", send.Msg.(*protocol.Pong).Seq, send.Destinations)
	// Output: Pong{7} to [2]
}
