package client_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/mirframework/mir/pkg/trantor/client"
)

// newPool returns a pool of addrs, closed at the end of the test.
func newPool(t *testing.T, addrs []string, f int) *client.Pool {
	t.Helper()
	p, err := client.NewPool(addrs, f, client.PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// poolClient returns a client of p named id.
func poolClient(t *testing.T, p *client.Pool, id string) *client.Client {
	t.Helper()
	c, err := p.NewClient(client.Options{ClientID: id})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestPoolShared: clients of a pool submit concurrently over one
// connection to each node, each client's results its own and outvoting
// a lying node.
func TestPoolShared(t *testing.T) {
	nodes, addrs := startNodes(t, 4, 1)
	p := newPool(t, addrs, 1)
	var wg sync.WaitGroup
	for i := range 8 {
		c := poolClient(t, p, fmt.Sprint("c", i))
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
			defer cancel()
			var calls []*client.Call
			for j := range 20 {
				call, err := c.SubmitAsync(ctx, []byte(fmt.Sprint(i, "/", j)))
				if err != nil {
					t.Error(err)
					return
				}
				calls = append(calls, call)
			}
			for j, call := range calls {
				res, err := call.Wait(ctx)
				if want := fmt.Sprint("ok:", i, "/", j); err != nil || string(res) != want {
					t.Errorf("client %d call %d: %q, %v, want %q", i, j, res, err, want)
				}
			}
		})
	}
	wg.Wait()
	// One connection per node, not one per client. (A node whose vote
	// was not needed may not have accepted its connection yet.)
	for i, n := range nodes {
		if got := n.srv.Metrics().Accepted; got > 1 {
			t.Errorf("node %d accepted %d connections, want at most 1", i, got)
		}
	}
}

// TestPoolResendsOnReconnect: a transaction of each of a pool's clients,
// submitted while only one node of three is up, goes to a second node
// once it comes up.
func TestPoolResendsOnReconnect(t *testing.T) {
	nodes, addrs := startNodes(t, 3, 0)
	p := newPool(t, addrs, 1)
	a, b := poolClient(t, p, "ann"), poolClient(t, p, "bob")
	submit(t, a, "warm-up")
	nodes[1].stop()
	nodes[2].stop()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ca, err := a.SubmitAsync(ctx, []byte("a waits"))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := b.SubmitAsync(ctx, []byte("b waits"))
	if err != nil {
		t.Fatal(err)
	}
	startNode(t, addrs[2], false, client.ServerOptions{})
	for _, w := range []struct {
		call *client.Call
		want string
	}{{ca, "ok:a waits"}, {cb, "ok:b waits"}} {
		if res, err := w.call.Wait(ctx); err != nil || string(res) != w.want {
			t.Fatalf("result %q, %v, want %q", res, err, w.want)
		}
	}
	// A client that joins the pool once its links are up is served too.
	submit(t, poolClient(t, p, "cid"), "late")
}

// TestPoolClose: a pool refuses a second client of an ID until the first
// closes, and the other clients go on; closing the pool completes its
// clients' outstanding calls with ErrClosed and refuses new clients.
func TestPoolClose(t *testing.T) {
	nodes, addrs := startNodes(t, 3, 0)
	p := newPool(t, addrs, 1)
	a, b := poolClient(t, p, "ann"), poolClient(t, p, "bob")
	if _, err := p.NewClient(client.Options{ClientID: "ann"}); !errors.Is(err, client.ErrDuplicateClient) {
		t.Fatalf("second client ann: %v, want ErrDuplicateClient", err)
	}
	submit(t, a, "one")
	a.Close()
	submit(t, b, "bob goes on")
	a2, err := p.NewClient(client.Options{ClientID: "ann", FirstTxNo: a.NextTxNo()})
	if err != nil {
		t.Fatal(err)
	}
	submit(t, a2, "two")
	nodes[0].stop()
	nodes[1].stop()
	call, err := b.SubmitAsync(context.Background(), []byte("never"))
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if _, err := call.Wait(context.Background()); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("outstanding call after Close: %v, want ErrClosed", err)
	}
	if _, err := p.NewClient(client.Options{ClientID: "cid"}); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("NewClient after Close: %v, want ErrClosed", err)
	}
}

// TestPoolIgnoresUnknownClients: a node's reply to a client the pool does
// not have (one that closed) is skipped, not taken for a bad node: the
// reply behind it on the same connection still counts, and the pool
// does not redial.
func TestPoolIgnoresUnknownClients(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accepted := make(chan int, 4)
	go func() {
		for n := 1; ; n++ {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			accepted <- n
			go func() {
				defer nc.Close()
				br := bufio.NewReader(nc)
				var hdr [4]byte
				if _, err := io.ReadFull(br, hdr[:]); err != nil {
					return
				}
				body := make([]byte, binary.BigEndian.Uint32(hdr[:]))
				if _, err := io.ReadFull(br, body); err != nil {
					return
				}
				var out []byte
				out = client.AppendReplyFrame(out, "ghost", 0, []byte("boo"))
				out = client.AppendReplyFrame(out, "ann", 0, []byte("ok:hi"))
				nc.Write(out)
				io.Copy(io.Discard, br) // Until the pool closes.
			}()
		}
	}()
	p := newPool(t, []string{l.Addr().String()}, 0)
	ann := poolClient(t, p, "ann")
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if res, err := ann.Submit(ctx, []byte("hi")); err != nil || string(res) != "ok:hi" {
		t.Fatalf("result %q, %v", res, err)
	}
	p.Close()
	if len(accepted) != 1 {
		t.Fatalf("%d connections, want 1: the pool redialed", len(accepted))
	}
}
