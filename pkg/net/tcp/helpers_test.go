package tcp_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/net/tcp"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// text is the message the tests send.
type text struct {
	stdtypes.MessageBase
	S string
}

// unregistered is a message type the codec does not know.
type unregistered struct {
	stdtypes.MessageBase
	S string
}

// otherEvent is an event a transport does not handle.
type otherEvent struct {
	stdtypes.Header
}

var _ = codec.Register[text]("tcp_test.text")

func newText(s string) *text { return &text{S: s} }

// waitTimeout bounds every wait of the tests: long enough for a loaded
// machine, short enough to fail rather than hang.
const waitTimeout = 20 * time.Second

// cluster is n nodes' worth of listeners, keys and a membership, on free
// ports of 127.0.0.1.
type cluster struct {
	members   *membership.Membership
	keys      []crypto.PrivateKey
	listeners []net.Listener
}

// newCluster listens on n free ports and makes a membership of them.
func newCluster(t testing.TB, n int) *cluster {
	t.Helper()
	c := &cluster{}
	addrs := make([]string, n)
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		c.listeners = append(c.listeners, l)
		addrs[i] = l.Addr().String()
	}
	var err error
	if c.members, c.keys, err = membership.WithAddrs(addrs); err != nil {
		t.Fatal(err)
	}
	return c
}

// transport returns the transport of node i, not started, stopped when the
// test ends. It uses the node's listener, which it takes over.
func (c *cluster) transport(t testing.TB, i int, opts tcp.Options) *tcp.Transport {
	t.Helper()
	opts.Listener = c.listeners[i]
	tr, err := tcp.New(stdtypes.NewNodeIDFromInt(i), c.members, c.keys[i], opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.Stop)
	return tr
}

// relisten gives node i a new listener on its address, as a restarted
// node would have.
func (c *cluster) relisten(t testing.TB, i int) {
	t.Helper()
	n, _ := c.members.Node(stdtypes.NewNodeIDFromInt(i))
	var l net.Listener
	var err error
	deadline := time.Now().Add(waitTimeout)
	for {
		if l, err = net.Listen("tcp", n.Addr); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("listen again on %s: %v", n.Addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() { l.Close() })
	c.listeners[i] = l
}

// started returns the started transports of all n nodes of a new cluster.
func started(t testing.TB, n int, opts tcp.Options) (*cluster, []*tcp.Transport) {
	t.Helper()
	c := newCluster(t, n)
	ts := make([]*tcp.Transport, n)
	for i := range ts {
		ts[i] = c.transport(t, i, opts)
		if err := ts[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	return c, ts
}

// send makes tr handle one SendMessage of msg to module "app" of dests.
func send(t testing.TB, tr *tcp.Transport, msg stdtypes.Message, dests ...stdtypes.NodeID) {
	t.Helper()
	ev := stdevents.NewSendMessage("net", msg, stdevents.To("app", dests...))
	if err := tr.ApplyEvents(context.Background(), stdtypes.ListOf(ev)); err != nil {
		t.Fatalf("ApplyEvents: %v", err)
	}
}

// receive waits for n messages from tr's incoming queue and returns them.
func receive(t testing.TB, tr *tcp.Transport, n int) []*stdevents.MessageReceived {
	t.Helper()
	var out []*stdevents.MessageReceived
	timeout := time.After(waitTimeout)
	for len(out) < n {
		select {
		case list := <-tr.EventsOut():
			for _, ev := range list.Slice() {
				out = append(out, ev.(*stdevents.MessageReceived))
			}
		case <-timeout:
			t.Fatalf("node %s received %d of %d messages in %v; metrics %+v", tr.ID(), len(out), n, waitTimeout, tr.Metrics())
		}
	}
	if len(out) > n {
		t.Fatalf("node %s received %d messages, want %d", tr.ID(), len(out), n)
	}
	return out
}

// receivedNow returns, without waiting, every message in tr's queue.
func receivedNow(tr *tcp.Transport) []*stdevents.MessageReceived {
	var out []*stdevents.MessageReceived
	for {
		select {
		case list := <-tr.EventsOut():
			for _, ev := range list.Slice() {
				out = append(out, ev.(*stdevents.MessageReceived))
			}
		default:
			return out
		}
	}
}

// eventually waits until cond holds.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// connected waits until every transport has its connections to every
// other one up.
func connected(t testing.TB, ts ...*tcp.Transport) {
	t.Helper()
	for _, tr := range ts {
		eventually(t, "node "+string(tr.ID())+" is connected", func() bool {
			for id, p := range tr.Metrics().Peers {
				if id != tr.ID() && (!p.Connected || !p.Inbound) {
					return false
				}
			}
			return true
		})
	}
}
