package kvstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/trantor/client"
	"github.com/mirframework/mir/samples/kvstore"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// executor stands in a node's mempool and applies each transaction to its
// Store at once, in the order it arrives, with no ordering among nodes:
// enough to test the client's encoding and its f+1 matching over the real
// client server. (The samples' simulation tests run the Store in Trantor.)
type executor struct {
	store    *kvstore.Store
	executed map[mempool.TxID]bool
}

func (e *executor) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	out := stdtypes.EmptyList()
	for ev := range evs.All() {
		switch ev := ev.(type) {
		case *stdevents.Init:
		case *mempool.NewTxs:
			for _, tx := range ev.Txs {
				if e.executed[tx.TxID] {
					continue
				}
				e.executed[tx.TxID] = true
				res, err := e.store.Apply([]mempool.Tx{tx})
				if err != nil {
					return nil, err
				}
				out.PushBack(client.NewReply(client.DefaultModuleID, tx.ClientID, tx.TxNo, res[0]))
			}
		default:
			return nil, fmt.Errorf("executor: unexpected event %T", ev)
		}
	}
	return out, nil
}

// startNode runs a node with a client server on 127.0.0.1 and an executor
// of a new Store, and returns the server's address.
func startNode(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := client.NewServer("", client.ServerOptions{Listener: l})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	node, err := mir.NewNode("0", mir.DefaultNodeConfig(), modules.Modules{
		client.DefaultModuleID: srv,
		"mempool":              &executor{store: newStore(t, 0), executed: make(map[mempool.TxID]bool)},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- node.Run(context.Background()) }()
	t.Cleanup(func() {
		node.Stop()
		if err := <-errc; !errors.Is(err, mir.ErrStopped) {
			t.Errorf("node failed: %v", err)
		}
		srv.Stop()
	})
	return srv.Addr().String()
}

// TestClient: Put, Get, CAS and SetVoters through the typed client, with
// three nodes of which one may be faulty.
func TestClient(t *testing.T) {
	addrs := []string{startNode(t), startNode(t), startNode(t)}
	c, err := kvstore.Dial(addrs, 1, client.Options{ClientID: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	v, err := c.Get(ctx, []byte("k"))
	check(err)
	if len(v) != 0 {
		t.Errorf("a new key holds %q", v)
	}
	check(c.Put(ctx, []byte("k"), []byte("1")))
	ok, cur, err := c.CAS(ctx, []byte("k"), []byte("0"), []byte("2"))
	check(err)
	if ok || string(cur) != "1" {
		t.Errorf("CAS from a wrong value: swapped %v, current %q", ok, cur)
	}
	ok, cur, err = c.CAS(ctx, []byte("k"), []byte("1"), []byte("2"))
	check(err)
	if !ok || string(cur) != "2" {
		t.Errorf("CAS: swapped %v, current %q", ok, cur)
	}
	v, err = c.Get(ctx, []byte("k"))
	check(err)
	if string(v) != "2" {
		t.Errorf("Get after CAS: %q", v)
	}
	check(c.SetVoters(ctx, membership.EqualVoters("0", "1", "2", "3")))
	if err := c.Put(ctx, nil, []byte("x")); !errors.Is(err, kvstore.ErrBadOp) {
		t.Errorf("Put of an empty key: %v, want ErrBadOp", err)
	}
}
