package mir_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Greeting is an event: a struct embedding stdtypes.Header.
type Greeting struct {
	stdtypes.Header
	Text string
}

// greeter answers its Init with a Greeting for the printer.
type greeter struct{}

func (greeter) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	out := stdtypes.EmptyList()
	for _, ev := range evs.Slice() {
		if _, ok := ev.(*stdevents.Init); ok {
			out.PushBack(&Greeting{Header: stdtypes.NewHeader("printer"), Text: "hello"})
		}
	}
	return out, nil
}

// printer prints greetings and stops the node after the first.
type printer struct{ node *mir.Node }

func (p *printer) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	for _, ev := range evs.Slice() {
		if g, ok := ev.(*Greeting); ok {
			fmt.Println("printer got:", g.Text)
			p.node.Stop()
		}
	}
	return nil, nil
}

func Example() {
	p := &printer{}
	node, err := mir.NewNode("node0", mir.DefaultNodeConfig().WithLogger(logging.NilLogger),
		modules.Modules{"greeter": greeter{}, "printer": p}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	p.node = node
	err = node.Run(context.Background())
	fmt.Println("stopped:", errors.Is(err, mir.ErrStopped))
	// Output:
	// printer got: hello
	// stopped: true
}

// A node in debug mode processes only injected events and hands back what
// the modules produce, which is how a recorded run is replayed.
func ExampleNode_Debug() {
	node, err := mir.NewNode("node0", mir.DefaultNodeConfig().WithLogger(logging.NilLogger),
		modules.Modules{"greeter": greeter{}, "printer": modules.NullPassive{}}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	out := make(chan *stdtypes.EventList)
	go func() { _ = node.Debug(context.Background(), out) }()
	defer node.Stop()

	_ = node.InjectEvents(context.Background(), stdtypes.ListOf(stdevents.NewInit("greeter")))
	for _, ev := range (<-out).Slice() {
		fmt.Printf("%s for %s: %q\n", stdtypes.TypeName(ev), ev.Dest(), ev.(*Greeting).Text)
	}
	// Output:
	// mir_test.Greeting for printer: "hello"
}
