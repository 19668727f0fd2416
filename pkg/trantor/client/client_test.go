package client_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/trantor/client"
	"github.com/mirframework/mir/stdtypes"
)

// TestSubmit: a client submits to three nodes and gets each result.
func TestSubmit(t *testing.T) {
	_, addrs := startNodes(t, 3, 0)
	c := dial(t, addrs, 1, client.Options{})
	for i := range 10 {
		submit(t, c, fmt.Sprint("tx", i))
	}
	if got := c.NextTxNo(); got != 10 {
		t.Fatalf("next transaction number %d, want 10", got)
	}
}

// TestLiarsOutvoted: f of 2f+1 nodes answer wrongly and fast; the client
// waits for f+1 matching results, so it returns the honest one.
func TestLiarsOutvoted(t *testing.T) {
	for _, tc := range []struct{ n, f int }{{3, 1}, {5, 2}} {
		t.Run(fmt.Sprintf("n=%d,f=%d", tc.n, tc.f), func(t *testing.T) {
			_, addrs := startNodes(t, tc.n, tc.f)
			c := dial(t, addrs, tc.f, client.Options{})
			for i := range 20 {
				submit(t, c, fmt.Sprint("tx", i))
			}
		})
	}
}

// TestPipelined: a client keeps many transactions outstanding at once,
// more than MaxOutstanding, and each gets its own result.
func TestPipelined(t *testing.T) {
	_, addrs := startNodes(t, 4, 1)
	c := dial(t, addrs, 1, client.Options{MaxOutstanding: 8})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	var calls []*client.Call
	for i := range 100 {
		call, err := c.SubmitAsync(ctx, []byte(fmt.Sprint("tx", i)))
		if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, call)
	}
	for i, call := range calls {
		res, err := call.Wait(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := string(result([]byte(fmt.Sprint("tx", i)), false)); string(res) != want || call.TxNo != uint64(i) {
			t.Fatalf("call %d (tx %d): result %q, want %q", i, call.TxNo, res, want)
		}
	}
}

// TestNodeRestarts: with three nodes and f=1, node 2 stops and the client
// goes on with nodes 0 and 1; node 2 restarts on its address and node 1
// stops, so the client goes on only if it reconnected to node 2.
func TestNodeRestarts(t *testing.T) {
	nodes, addrs := startNodes(t, 3, 0)
	c := dial(t, addrs, 1, client.Options{})
	submit(t, c, "before")
	nodes[2].stop()
	submit(t, c, "node 2 down")
	startNode(t, addrs[2], false, client.ServerOptions{})
	nodes[1].stop()
	for i := range 5 {
		submit(t, c, fmt.Sprint("node 1 down ", i))
	}
}

// TestUnansweredResent: a transaction submitted while only one node of
// three is up is outstanding until a second node comes up: the client
// sends it there when it connects.
func TestUnansweredResent(t *testing.T) {
	nodes, addrs := startNodes(t, 3, 0)
	c := dial(t, addrs, 1, client.Options{})
	submit(t, c, "warm-up")
	nodes[1].stop()
	nodes[2].stop()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	call, err := c.SubmitAsync(ctx, []byte("waits"))
	if err != nil {
		t.Fatal(err)
	}
	startNode(t, addrs[2], false, client.ServerOptions{})
	res, err := call.Wait(ctx)
	if err != nil || string(res) != "ok:waits" {
		t.Fatalf("result %q, %v", res, err)
	}
}

// TestClientRestarts: a client closes and a new one with the same ID
// continues from the next transaction number; the nodes send the replies
// to the new connection.
func TestClientRestarts(t *testing.T) {
	_, addrs := startNodes(t, 3, 0)
	c := dial(t, addrs, 1, client.Options{})
	submit(t, c, "first life")
	next := c.NextTxNo()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Submit(context.Background(), []byte("closed")); err != client.ErrClosed {
		t.Fatalf("submit after Close: %v, want ErrClosed", err)
	}
	c2 := dial(t, addrs, 1, client.Options{FirstTxNo: next})
	submit(t, c2, "second life")
	if got := c2.NextTxNo(); got != next+1 {
		t.Fatalf("next transaction number %d, want %d", got, next+1)
	}
}

// TestCloseCompletesCalls: Close ends outstanding calls with ErrClosed.
func TestCloseCompletesCalls(t *testing.T) {
	nodes, addrs := startNodes(t, 3, 0)
	nodes[0].stop()
	nodes[1].stop()
	c := dial(t, addrs, 1, client.Options{})
	call, err := c.SubmitAsync(context.Background(), []byte("never"))
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	<-call.Done()
	if _, err := call.Result(); err != client.ErrClosed {
		t.Fatalf("result error %v, want ErrClosed", err)
	}
}

func TestDialRefusesBadArguments(t *testing.T) {
	for _, tc := range []struct {
		nodes []string
		f     int
		opts  client.Options
	}{
		{[]string{"a", "b"}, 1, client.Options{ClientID: "c"}},
		// A node listed twice would vote twice: with f = 1, its result
		// alone would count.
		{[]string{"a:1", "b:1", "a:1"}, 1, client.Options{ClientID: "c"}},
		{[]string{"a"}, -1, client.Options{ClientID: "c"}},
		{[]string{"a"}, 0, client.Options{}},
		{[]string{"a"}, 0, client.Options{ClientID: string(make([]byte, client.MaxClientIDBytes+1))}},
		{[]string{"a"}, 0, client.Options{ClientID: "\xff"}},
		{[]string{"a"}, 0, client.Options{ClientID: "c", PoolOptions: client.PoolOptions{ReconnectMin: time.Second, ReconnectMax: time.Millisecond}}},
	} {
		if c, err := client.Dial(tc.nodes, tc.f, tc.opts); err == nil {
			c.Close()
			t.Errorf("Dial(%v, %d, %+v) succeeded", tc.nodes, tc.f, tc.opts)
		}
	}
}

// TestTxTooLarge: a payload over MaxTxBytes is refused before it is
// numbered; the next transaction gets the number.
func TestTxTooLarge(t *testing.T) {
	_, addrs := startNodes(t, 1, 0)
	c := dial(t, addrs, 0, client.Options{MaxTxBytes: 4})
	if _, err := c.Submit(context.Background(), []byte("12345")); !errors.Is(err, client.ErrTxTooLarge) {
		t.Fatalf("submit: %v, want ErrTxTooLarge", err)
	}
	submit(t, c, "1234")
	if got := c.NextTxNo(); got != 1 {
		t.Fatalf("next transaction number %d, want 1", got)
	}
}

// TestWindow: the client numbers no transaction Window or more above its
// oldest outstanding one (the nodes would drop it): SubmitAsync waits
// until the oldest completes.
func TestWindow(t *testing.T) {
	var nodes []*testNode
	var addrs []string
	for range 3 {
		n := startNodeApp(t, "", &app{holdFirst: true}, client.ServerOptions{})
		nodes, addrs = append(nodes, n), append(addrs, n.addr())
	}
	c := dial(t, addrs, 1, client.Options{Window: 4})
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	first, err := c.SubmitAsync(ctx, []byte("tx0"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < 4; i++ {
		submit(t, c, fmt.Sprint("tx", i))
	}
	short, cancelShort := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancelShort()
	if _, err := c.SubmitAsync(short, []byte("tx4")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a transaction Window above the oldest outstanding one was submitted: %v", err)
	}
	for _, n := range nodes {
		reply := client.NewReply(client.DefaultModuleID, "alice", 0, []byte("ok:tx0"))
		if err := n.srv.ApplyEvents(ctx, stdtypes.ListOf(reply)); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := first.Wait(ctx); err != nil || string(res) != "ok:tx0" {
		t.Fatalf("transaction 0: %q, %v", res, err)
	}
	submit(t, c, "tx4")
}
