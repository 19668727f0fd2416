package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/internal/loopback"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/trantor/client"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// waitTimeout bounds every wait of the tests: long enough for a loaded
// machine, short enough to fail rather than hang.
const waitTimeout = 20 * time.Second

// app is a test application in the mempool's place: it answers each
// transaction at once with a Reply whose result is "ok:" and the payload,
// or "bad:" and the payload if it lies. Like the mempool, it drops a
// transaction it executed before.
type app struct {
	lies bool
	// holdFirst: the app does not answer transaction 0 (the test answers
	// it through the server).
	holdFirst bool
	executed  map[mempool.TxID]bool
}

func (a *app) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	out := stdtypes.EmptyList()
	for ev := range evs.All() {
		switch ev := ev.(type) {
		case *stdevents.Init:
		case *mempool.NewTxs:
			for _, tx := range ev.Txs {
				if a.executed[tx.TxID] || (a.holdFirst && tx.TxNo == 0) {
					continue
				}
				if a.executed == nil {
					a.executed = make(map[mempool.TxID]bool)
				}
				a.executed[tx.TxID] = true
				out.PushBack(client.NewReply(client.DefaultModuleID, tx.ClientID, tx.TxNo, result(tx.Data, a.lies)))
			}
		default:
			return nil, fmt.Errorf("app: unexpected event %T", ev)
		}
	}
	return out, nil
}

// result is what app answers for data.
func result(data []byte, lies bool) []byte {
	if lies {
		return append([]byte("bad:"), data...)
	}
	return append([]byte("ok:"), data...)
}

// testNode is a mir.Node with a client server and an app.
type testNode struct {
	srv  *client.Server
	node *mir.Node
	errc chan error
	t    testing.TB
	once sync.Once
}

// startNode runs a node whose server listens on addr ("" for a free port
// of 127.0.0.1 it can listen on again after a restart).
func startNode(t testing.TB, addr string, lies bool, opts client.ServerOptions) *testNode {
	t.Helper()
	return startNodeApp(t, addr, &app{lies: lies}, opts)
}

// startNodeApp runs a node with app a whose server listens on addr.
func startNodeApp(t testing.TB, addr string, a *app, opts client.ServerOptions) *testNode {
	t.Helper()
	if addr == "" {
		// A port no outgoing connection is given, so that the node can
		// listen on it again after a restart (loopback.FreeAddrs).
		addrs, err := loopback.FreeAddrs(1)
		if err != nil {
			t.Fatal(err)
		}
		addr = addrs[0]
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	opts.Listener = l
	srv, err := client.NewServer("", opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	node, err := mir.NewNode("0", mir.DefaultNodeConfig(), modules.Modules{
		client.DefaultModuleID: srv,
		"mempool":              a,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := &testNode{srv: srv, node: node, errc: make(chan error, 1), t: t}
	go func() { n.errc <- node.Run(context.Background()) }()
	t.Cleanup(n.stop)
	return n
}

// stop stops the node and its server; it may be called more than once.
func (n *testNode) stop() {
	n.once.Do(func() {
		n.node.Stop()
		if err := <-n.errc; !errors.Is(err, mir.ErrStopped) {
			n.t.Errorf("node failed: %v", err)
		}
		n.srv.Stop()
	})
}

func (n *testNode) addr() string { return n.srv.Addr().String() }

// startNodes starts n honest nodes and the given number of lying ones
// (the first), and returns their addresses.
func startNodes(t *testing.T, n, liars int) ([]*testNode, []string) {
	t.Helper()
	var nodes []*testNode
	var addrs []string
	for i := range n {
		tn := startNode(t, "", i < liars, client.ServerOptions{})
		nodes = append(nodes, tn)
		addrs = append(addrs, tn.addr())
	}
	return nodes, addrs
}

// dial returns a client of addrs, closed at the end of the test.
func dial(t *testing.T, addrs []string, f int, opts client.Options) *client.Client {
	t.Helper()
	if opts.ClientID == "" {
		opts.ClientID = "alice"
	}
	c, err := client.Dial(addrs, f, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// submit submits data and checks that the result is the honest one.
func submit(t *testing.T, c *client.Client, data string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	res, err := c.Submit(ctx, []byte(data))
	if err != nil {
		t.Fatalf("submit %q: %v", data, err)
	}
	if want := string(result([]byte(data), false)); string(res) != want {
		t.Fatalf("submit %q: result %q, want %q", data, res, want)
	}
}
