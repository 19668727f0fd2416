package reliablenet_test

import (
	"fmt"
	"slices"
	"time"

	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/dsl"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Example runs two nodes in a simulation over a network that loses half
// of the messages: node 0's module "chat" sends three notes reliably to
// node 1's, which gets each (perhaps more than once, perhaps out of order).
func Example() {
	var sender *reliablenet.Module
	d, err := deploytest.NewSimulated(deploytest.Config{
		Nodes: []stdtypes.NodeID{"0", "1"},
		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
			mc := reliablenet.ModuleConfig{Self: "reliablenet", Net: info.Transport, Timer: info.Timer, Users: []stdtypes.ModuleID{"chat"}}
			// The incarnation must differ at every start of a node: the
			// simulation counts them.
			rn, err := reliablenet.NewModule(info.ID, mc, reliablenet.DefaultModuleParams(uint64(info.Incarnation)), nil)
			if err != nil {
				return nil, err
			}
			chat := dsl.NewModule("chat")
			if info.ID == "0" {
				sender = rn
				dsl.UponInit(chat, func() error {
					for i, text := range []string{"one", "two", "three"} {
						id := reliablenet.MsgID(fmt.Sprint("note/", i))
						dsl.EmitEvent(chat, reliablenet.NewSendMessage("reliablenet", id, &note{Text: text}, stdevents.To("chat", "1")))
					}
					return nil
				})
			}
			dsl.UponMessageReceived(chat, func(stdtypes.NodeID, *note) error { return nil })
			return modules.Modules{"reliablenet": rn, "chat": chat}, nil
		},
	}, deploytest.SimOptions{Seed: 3, Network: sim.Options{Link: sim.LinkConfig{Loss: 0.5}}})
	if err != nil {
		panic(err)
	}
	var got []string
	d.Observe(func(o *testsim.Observation) {
		if mr, ok := o.Event.(*stdevents.MessageReceived); ok && mr.Dest() == "chat" && !slices.Contains(got, mr.Msg.(*note).Text) {
			got = append(got, mr.Msg.(*note).Text)
		}
	})
	if err := d.Start(); err != nil {
		panic(err)
	}
	if err := d.WaitFor(func() bool { return len(got) == 3 && sender.Stats().Pending == 0 }, 10*time.Second); err != nil {
		panic(err)
	}
	st := sender.Stats()
	fmt.Println("node 1 got", got)
	fmt.Printf("node 0 sent %d, retransmitted %d copies; all acknowledged: %v\n", st.Sent, st.Retransmitted, st.Completed == 3)
	// Output:
	// node 1 got [one two three]
	// node 0 sent 3, retransmitted 6 copies; all acknowledged: true
}
