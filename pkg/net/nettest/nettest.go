// Package nettest holds the checks every net.Transport runs in its tests:
// the same behaviour is asked of the in-process transport, the TCP one and
// those to come, through whole nodes.
package nettest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdmodules"
	"github.com/mirframework/mir/stdtypes"
)

// Request asks the Echo module of the receiving node for a Reply.
type Request struct {
	stdtypes.MessageBase
	Seq uint64
}

// Reply answers a Request.
type Reply struct {
	stdtypes.MessageBase
	Seq uint64
}

var (
	_ = codec.Register[Request]("nettest.Request")
	_ = codec.Register[Reply]("nettest.Reply")
)

// Echo is a passive module that, on Init, sends a Request to every one of
// Nodes (itself included) through the transport Net, answers every Request
// with a Reply, and reports each Reply to Got. It stands for a protocol
// module.
type Echo struct {
	Net   stdtypes.ModuleID
	Nodes []stdtypes.NodeID
	Got   func(from stdtypes.NodeID, seq uint64)
}

// echoSeq is the sequence number of Echo's requests.
const echoSeq = 7

// ReceivesMessages implements modules.MessageReceiver: Echo takes requests
// and replies from other nodes.
func (e *Echo) ReceivesMessages() {}

// ApplyEvents implements modules.PassiveModule.
func (e *Echo) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	return modules.ApplyAllFunc(evs, e.apply)
}

func (e *Echo) apply(ev stdtypes.Event) (*stdtypes.EventList, error) {
	switch ev := ev.(type) {
	case *stdevents.Init:
		return stdtypes.ListOf(stdevents.NewSendMessage(e.Net, &Request{Seq: echoSeq}, stdevents.To("echo", e.Nodes...))), nil
	case *stdevents.MessageReceived:
		switch msg := ev.Msg.(type) {
		case *Request:
			return stdtypes.ListOf(stdevents.NewSendMessage(e.Net, &Reply{Seq: msg.Seq}, stdevents.To("echo", ev.From))), nil
		case *Reply:
			e.Got(ev.From, msg.Seq)
		}
		return nil, nil
	}
	return nil, fmt.Errorf("echo: unexpected event %s", stdtypes.TypeName(ev))
}

// EchoNodes runs one node per transport, ts[i] being node ids[i]'s (all
// started), each with an Echo module, and checks that every node gets a
// Reply from every node within timeout, that the transports' counters agree
// (one Request and one Reply each way between any two nodes, and from a
// node to itself, none dropped), and that each transport stops with its
// node.
func EchoNodes(t *testing.T, ids []stdtypes.NodeID, ts []net.Transport, timeout time.Duration) {
	t.Helper()
	n := len(ids)
	var mu sync.Mutex
	replies := make(map[[2]stdtypes.NodeID]int) // (to, from) -> count
	allIn := make(chan struct{})
	nodes := make([]*mir.Node, n)
	for i, id := range ids {
		got := func(from stdtypes.NodeID, seq uint64) {
			mu.Lock()
			defer mu.Unlock()
			if seq != echoSeq {
				t.Errorf("node %s: reply from %s with seq %d, want %d", id, from, seq, echoSeq)
			}
			replies[[2]stdtypes.NodeID{id, from}]++
			if len(replies) == n*n {
				close(allIn)
			}
		}
		cfg := mir.DefaultNodeConfig().WithLogger(logging.NilLogger)
		node, err := mir.NewNode(id, cfg, modules.Modules{
			"echo": &Echo{Net: "net", Nodes: ids, Got: got},
			"net":  ts[i],
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = node
	}

	errs := make(chan error, n)
	for _, node := range nodes {
		go func() { errs <- node.Run(context.Background()) }()
	}
	select {
	case <-allIn:
	case <-time.After(timeout):
		mu.Lock()
		t.Errorf("timed out; replies so far: %v", replies)
		mu.Unlock()
	}
	// A transport may count a message sent only once it is flushed, after
	// it arrived: wait for the senders to count theirs before comparing.
	waitFor(t, timeout, "the senders count their messages", func() bool {
		for i := range ids {
			for _, to := range ids {
				if ts[i].Stats().Peers[to].Out != 2 {
					return false
				}
			}
		}
		return true
	})
	for _, node := range nodes {
		node.Stop()
	}
	for range nodes {
		if err := <-errs; !errors.Is(err, mir.ErrStopped) {
			t.Errorf("Run returned %v, want ErrStopped", err)
		}
	}

	mu.Lock()
	for key, count := range replies {
		if count != 1 {
			t.Errorf("node %s got %d replies from %s, want 1", key[0], count, key[1])
		}
	}
	mu.Unlock()
	for i, from := range ids {
		for j, to := range ids {
			out := ts[i].Stats().Peers[to]
			in := ts[j].Stats().Peers[from]
			if out.Out != 2 || in.In != 2 || out.DroppedOut+in.DroppedIn != 0 {
				t.Errorf("%s -> %s: sender %+v, receiver %+v; want 2 messages out and in, no drops", from, to, out, in)
			}
		}
	}
	// The nodes' contexts ended, which stops their transports: a stopped
	// transport refuses to start again.
	for i, tr := range ts {
		waitFor(t, timeout, fmt.Sprintf("the transport of node %s stops with its node", ids[i]), func() bool {
			return errors.Is(tr.Start(), net.ErrStopped)
		})
	}
}

// waitFor waits until cond holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// StrayNodes runs node id with transport victim (started), a timer, the
// Strays and a Marker, and has sender (another node's started transport,
// not in a node, on the same network) send a message to each module of the
// node that takes none, then one to the marker. Messages on a link must
// keep their order. It checks that the node keeps running, that every
// message but the marker's was dropped and counted, and that the node
// stops cleanly.
func StrayNodes(t *testing.T, id stdtypes.NodeID, victim, sender net.Transport, timeout time.Duration) {
	t.Helper()
	got := make(chan struct{}, 1)
	mods := modules.Modules{
		"net":   victim,
		"timer": stdmodules.NewTimer("timer", nil),
		"app":   Marker{Got: got},
	}
	strays := AddStrays(t, mods, true)
	node, err := mir.NewNode(id, mir.DefaultNodeConfig().WithLogger(logging.NilLogger), mods, nil)
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan error, 1)
	go func() { ran <- node.Run(context.Background()) }()
	if err := sender.ApplyEvents(context.Background(), StraySends(strays, "net", "app", id)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case err := <-ran:
		t.Fatalf("the node stopped: %v", err)
	case <-time.After(timeout):
		t.Fatalf("the marker did not arrive; node stats %+v", node.Stats().Modules)
	}
	dropped := func(mod stdtypes.ModuleID) uint64 { return node.Stats().Modules[mod].DroppedMessages }
	for end := time.Now().Add(timeout); strays.Dropped(dropped) != ""; time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal(strays.Dropped(dropped))
		}
	}
	node.Stop()
	if err := <-ran; !errors.Is(err, mir.ErrStopped) {
		t.Errorf("Run returned %v, want ErrStopped", err)
	}
}

// TransportDropsMessages checks that tr, started, drops and counts a
// message from another node addressed to itself (a node never hands it
// one) and serves the rest of its batch.
func TransportDropsMessages(t *testing.T, tr net.Transport) {
	t.Helper()
	evs := stdtypes.ListOf(stdevents.NewMessageReceived("net", "peer", &Request{}), stdevents.NewInit("net"))
	if err := tr.ApplyEvents(context.Background(), evs); err != nil {
		t.Fatalf("ApplyEvents: %v", err)
	}
	if got := tr.Stats().DroppedReceived; got != 1 {
		t.Errorf("DroppedReceived = %d, want 1", got)
	}
}
