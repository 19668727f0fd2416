package modules_test

import (
	"fmt"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// greeting is the event of the example.
type greeting struct {
	stdtypes.Header
	Text string
}

// replier is a passive module that answers each event with its own name,
// the size of the batch the event came in and the event's destination.
type replier struct{ name string }

func (m replier) ApplyEvents(events *stdtypes.EventList) (*stdtypes.EventList, error) {
	out := stdtypes.EmptyList()
	for ev := range events.All() {
		text := fmt.Sprintf("%-4s got %q in a batch of %d", m.name, ev.Dest(), events.Len())
		out.PushBack(&greeting{Header: stdtypes.NewHeader("app"), Text: text})
	}
	return out, nil
}

// ExampleRouter builds module "iss" out of a self module and two
// submodules, "pbft" and "log", and shows where events go: "iss/pbft/3" lies
// in submodule "pbft", which sees the full destination; "iss" is the router's
// own. Consecutive events for one submodule arrive as one batch, and the
// output keeps the order of the input.
func ExampleRouter() {
	r := modules.NewRouter("iss", replier{"self"})
	if err := r.Add("pbft", replier{"pbft"}); err != nil {
		fmt.Println(err)
	}
	if err := r.Add("log", replier{"log"}); err != nil {
		fmt.Println(err)
	}

	in := stdtypes.ListOf(
		&greeting{Header: stdtypes.NewHeader("iss/pbft/3")},
		&greeting{Header: stdtypes.NewHeader("iss/pbft/4")},
		&greeting{Header: stdtypes.NewHeader("iss/log")},
		&greeting{Header: stdtypes.NewHeader("iss")},
	)
	out, err := r.ApplyEvents(in)
	if err != nil {
		fmt.Println(err)
		return
	}
	for ev := range out.All() {
		fmt.Println(ev.(*greeting).Text)
	}

	_, err = r.ApplyEvents(stdtypes.ListOf(&greeting{Header: stdtypes.NewHeader("iss/mempool")}))
	fmt.Println(err)
	fmt.Println(r.Submodules())

	// Output:
	// pbft got "iss/pbft/3" in a batch of 2
	// pbft got "iss/pbft/4" in a batch of 2
	// log  got "iss/log" in a batch of 1
	// self got "iss" in a batch of 1
	// router "iss": event modules_test.greeting for "iss/mempool": no such submodule
	// [log pbft]
}
