package local_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/local"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Greeting is a protocol message. It is registered with the codec, since
// the network encodes every message to another node by default.
type Greeting struct {
	stdtypes.MessageBase
	Text string
}

var _ = codec.Register[Greeting]("example.Greeting")

// Two nodes in one process: on Init, node "a" greets node "b" through its
// transport, the module "net".
func Example() {
	network, err := local.NewNetwork([]stdtypes.NodeID{"a", "b"}, local.Options{})
	if err != nil {
		panic(err)
	}
	defer network.Stop()

	greeted := make(chan string, 1)
	app := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		switch ev := ev.(type) {
		case *stdevents.Init:
			return nil, nil
		case *stdevents.MessageReceived:
			if g, ok := ev.Msg.(*Greeting); ok {
				greeted <- fmt.Sprintf("%q from %s", g.Text, ev.From)
			}
			return nil, nil
		}
		return nil, fmt.Errorf("unexpected %s", stdtypes.TypeName(ev))
	})

	var nodes []*mir.Node
	var running sync.WaitGroup
	for _, id := range network.Nodes() {
		transport, _ := network.Transport(id)
		if err := transport.Start(); err != nil {
			panic(err)
		}
		node, err := mir.NewNode(id, mir.DefaultNodeConfig().WithLogger(logging.NilLogger),
			modules.Modules{"app": app, "net": transport}, nil)
		if err != nil {
			panic(err)
		}
		nodes = append(nodes, node)
		running.Go(func() { _ = node.Run(context.Background()) })
	}

	// Node "a"'s protocol would emit this; here it is injected.
	send := stdevents.NewSendMessage("net", &Greeting{Text: "hello"}, stdevents.To("app", "b"))
	if err := nodes[0].InjectEvents(context.Background(), stdtypes.ListOf(send)); err != nil {
		panic(err)
	}
	fmt.Println("b got", <-greeted)
	for _, node := range nodes {
		node.Stop()
	}
	running.Wait()
	// Output: b got "hello" from a
}
