package client_test

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"testing"

	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/trantor/client"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// TestRepliesGoToLatestConnection: of two connections submitting for the
// same client, the replies go to the one that submitted last.
func TestRepliesGoToLatestConnection(t *testing.T) {
	n := startNode(t, "", false, client.ServerOptions{})
	a, b := connect(t, n.addr()), connect(t, n.addr())
	type side struct {
		nc   net.Conn
		br   *bufio.Reader
		name string
	}
	sa, sb := side{a, bufio.NewReader(a), "a"}, side{b, bufio.NewReader(b), "b"}
	for i, s := range []side{sa, sb, sa} {
		if _, err := s.nc.Write(client.AppendSubmitFrame(nil, "bob", uint64(i), []byte(s.name))); err != nil {
			t.Fatal(err)
		}
		body := readReply(t, s.nc, s.br)
		if want := "ok:" + s.name; !bytes.HasSuffix(body, []byte(want)) {
			t.Fatalf("step %d: reply %q on connection %s, want %q", i, body, s.name, want)
		}
	}
}

// otherEvent is an event the server does not take.
type otherEvent struct{ stdtypes.Header }

// TestServerEvents: the server ignores Init, drops and counts a message
// from another node and a reply for a client it has no connection of, and
// fails on any other event (a wiring bug).
func TestServerEvents(t *testing.T) {
	srv, err := client.NewServer("127.0.0.1:0", client.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	ctx := context.Background()
	err = srv.ApplyEvents(ctx, stdtypes.ListOf(
		stdevents.NewInit(client.DefaultModuleID),
		&stdevents.MessageReceived{Header: stdtypes.NewHeader(client.DefaultModuleID)},
		client.NewReply(client.DefaultModuleID, "nobody", 3, []byte("r")),
	))
	if err != nil {
		t.Fatal(err)
	}
	m := srv.Metrics()
	if m.StrayMessages != 1 || m.RepliesDropped != 1 || m.Replies != 0 {
		t.Fatalf("metrics %+v", m)
	}
	if err := srv.ApplyEvents(ctx, stdtypes.ListOf(&otherEvent{})); err == nil {
		t.Fatal("an unexpected event was accepted")
	}
}

func TestServerOptionsValidate(t *testing.T) {
	for _, o := range []client.ServerOptions{
		{Mempool: "a/"},
		{MaxConns: -1},
		{MaxReplyQueueBytes: -1},
		{FrameTimeout: -1},
		{MaxTxBytes: 1 << 20, MaxBufferedBytes: 1 << 20},
	} {
		if _, err := client.NewServer(":0", o); err == nil {
			t.Errorf("options %+v accepted", o)
		}
	}
	srv, err := client.NewServer("127.0.0.1:0", client.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err == nil {
		t.Error("started twice")
	}
	srv.Stop()
	srv.Stop()
}

// TestResubmittedAnsweredFromCache: a client whose connection dropped
// before its reply came submits the transaction again; the application
// (like the mempool) drops it as executed, and the server answers from the
// replies it remembers.
func TestResubmittedAnsweredFromCache(t *testing.T) {
	n := startNode(t, "", false, client.ServerOptions{})
	a := connect(t, n.addr())
	if _, err := a.Write(client.AppendSubmitFrame(nil, "carol", 0, []byte("x"))); err != nil {
		t.Fatal(err)
	}
	readReply(t, a, bufio.NewReader(a))
	a.Close()
	b := connect(t, n.addr())
	if _, err := b.Write(client.AppendSubmitFrame(nil, "carol", 0, []byte("x"))); err != nil {
		t.Fatal(err)
	}
	if body := readReply(t, b, bufio.NewReader(b)); !bytes.HasSuffix(body, []byte("ok:x")) {
		t.Fatalf("reply %q", body)
	}
	if got := n.srv.Metrics().CachedReplies; got != 1 {
		t.Fatalf("%d cached replies, want 1", got)
	}
}

// TestExecutedRepliesEachClient: an Executed answers each transaction it
// names, to its own client; one whose results do not match its
// transactions stops the node.
func TestExecutedRepliesEachClient(t *testing.T) {
	n := startNode(t, "", false, client.ServerOptions{})
	a, b := connect(t, n.addr()), connect(t, n.addr())
	ra, rb := bufio.NewReader(a), bufio.NewReader(b)
	// The test app replies with Reply; submit first so that the server
	// knows each client's connection, and read those replies.
	for i, c := range []struct {
		nc net.Conn
		br *bufio.Reader
		id string
	}{{a, ra, "ann"}, {b, rb, "bob"}} {
		if _, err := c.nc.Write(client.AppendSubmitFrame(nil, c.id, uint64(i), []byte("x"))); err != nil {
			t.Fatal(err)
		}
		readReply(t, c.nc, c.br)
	}
	ex := &client.Executed{
		Header: stdtypes.NewHeader(client.DefaultModuleID),
		Txs: []mempool.Tx{
			{TxID: mempool.TxID{ClientID: "bob", TxNo: 7}}, {TxID: mempool.TxID{ClientID: "ann", TxNo: 8}},
		},
		Results: [][]byte{[]byte("r-bob"), []byte("r-ann")},
	}
	if err := n.srv.ApplyEvents(context.Background(), stdtypes.ListOf(ex)); err != nil {
		t.Fatal(err)
	}
	if body := readReply(t, a, ra); !bytes.HasSuffix(body, []byte("r-ann")) {
		t.Fatalf("ann got %q", body)
	}
	if body := readReply(t, b, rb); !bytes.HasSuffix(body, []byte("r-bob")) {
		t.Fatalf("bob got %q", body)
	}
	ex.Results = ex.Results[:1]
	if err := n.srv.ApplyEvents(context.Background(), stdtypes.ListOf(ex)); err == nil {
		t.Fatal("an Executed with one result for two transactions was accepted")
	}
}
