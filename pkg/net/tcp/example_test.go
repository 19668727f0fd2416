package tcp_test

import (
	"context"
	"fmt"
	"net"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/tcp"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Greeting is a protocol message; the transport encodes it, so it is
// registered with the codec.
type Greeting struct {
	stdtypes.MessageBase
	Text string
}

var _ = codec.Register[Greeting]("example.Greeting")

// Two nodes over TCP on local ports: node "0" greets node "1". In a
// deployment each node is a process of its own, with the membership and
// its key read from files (membership.Load, crypto.LoadPrivateKey).
func Example() {
	// A membership of two nodes on free local ports, with their keys.
	var listeners []net.Listener
	var addrs []string
	for range 2 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		listeners = append(listeners, l)
		addrs = append(addrs, l.Addr().String())
	}
	members, keys, err := membership.WithAddrs(addrs)
	if err != nil {
		panic(err)
	}

	greeted := make(chan string, 1)
	app := modules.NewMockPassive(func(ev stdtypes.Event) (*stdtypes.EventList, error) {
		if rcv, ok := ev.(*stdevents.MessageReceived); ok {
			greeted <- fmt.Sprintf("%q from %s", rcv.Msg.(*Greeting).Text, rcv.From)
		}
		return nil, nil
	})

	var nodes []*mir.Node
	done := make(chan error, 2)
	for i, id := range members.IDs() {
		transport, err := tcp.New(id, members, keys[i], tcp.Options{Listener: listeners[i]})
		if err != nil {
			panic(err)
		}
		if err := transport.Start(); err != nil {
			panic(err)
		}
		defer transport.Stop()
		node, err := mir.NewNode(id, mir.DefaultNodeConfig().WithLogger(logging.NilLogger),
			modules.Modules{"app": app, "net": transport}, nil)
		if err != nil {
			panic(err)
		}
		nodes = append(nodes, node)
		go func() { done <- node.Run(context.Background()) }()
	}

	// Node 0's protocol would emit this; here it is injected.
	send := stdevents.NewSendMessage("net", &Greeting{Text: "hello"}, stdevents.To("app", "1"))
	if err := nodes[0].InjectEvents(context.Background(), stdtypes.ListOf(send)); err != nil {
		panic(err)
	}
	fmt.Println("1 got", <-greeted)
	for _, node := range nodes {
		node.Stop()
		<-done
	}
	// Output: 1 got "hello" from 0
}
