package client_test

import (
	"context"
	"fmt"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/trantor/client"
)

// startExampleNode starts a node with a client server and returns its
// address and a function that stops it.
func startExampleNode() (addr string, stop func()) {
	srv, err := client.NewServer("127.0.0.1:0", client.ServerOptions{})
	if err != nil {
		panic(err)
	}
	if err := srv.Start(); err != nil {
		panic(err)
	}
	node, err := mir.NewNode("0", mir.DefaultNodeConfig(), modules.Modules{
		client.DefaultModuleID: srv,
		"mempool":              &app{},
	}, nil)
	if err != nil {
		panic(err)
	}
	go node.Run(context.Background())
	return srv.Addr().String(), func() { node.Stop(); srv.Stop() }
}

// Many clients in one process share a pool's connections: one to each
// node, whatever the number of clients.
func ExamplePool() {
	addr, stop := startExampleNode()
	defer stop()

	pool, err := client.NewPool([]string{addr}, 0, client.PoolOptions{})
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	for _, id := range []string{"alice", "bob"} {
		c, err := pool.NewClient(client.Options{ClientID: id})
		if err != nil {
			panic(err)
		}
		result, err := c.Submit(context.Background(), []byte("hello from "+id))
		fmt.Println(string(result), err)
	}
	// Output:
	// ok:hello from alice <nil>
	// ok:hello from bob <nil>
}

// A node runs the server as its "clients" module, next to its mempool; a
// client submits to every node and accepts the result f+1 of them send.
func Example() {
	// On each node:
	srv, err := client.NewServer("127.0.0.1:0", client.ServerOptions{})
	if err != nil {
		panic(err)
	}
	if err := srv.Start(); err != nil {
		panic(err)
	}
	defer srv.Stop()
	node, err := mir.NewNode("0", mir.DefaultNodeConfig(), modules.Modules{
		client.DefaultModuleID: srv,
		"mempool":              &app{}, // Trantor's mempool, and the rest of the node.
	}, nil)
	if err != nil {
		panic(err)
	}
	go node.Run(context.Background())
	defer node.Stop()

	// On the client (here with one node, so f = 0):
	c, err := client.Dial([]string{srv.Addr().String()}, 0, client.Options{ClientID: "alice"})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	result, err := c.Submit(context.Background(), []byte("hello"))
	fmt.Println(string(result), err)
	// Output: ok:hello <nil>
}
