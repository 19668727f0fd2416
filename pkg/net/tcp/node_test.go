package tcp_test

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
	"github.com/mirframework/mir/pkg/net/tcp"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// request asks the echo module of the receiving node for a reply.
type request struct {
	stdtypes.MessageBase
	Seq uint64
}

// reply answers a request.
type reply struct {
	stdtypes.MessageBase
	Seq uint64
}

var (
	_ = codec.Register[request]("tcp_test.request")
	_ = codec.Register[reply]("tcp_test.reply")
)

// echo is a passive module that, on Init, sends a request to every node
// (itself included), answers every request with a reply, and reports each
// reply to got. It stands for a protocol module.
type echo struct {
	nodes []stdtypes.NodeID
	got   func(from stdtypes.NodeID, seq uint64)
}

func (e *echo) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	return modules.ApplyAllFunc(evs, e.apply)
}

func (e *echo) apply(ev stdtypes.Event) (*stdtypes.EventList, error) {
	switch ev := ev.(type) {
	case *stdevents.Init:
		return stdtypes.ListOf(stdevents.NewSendMessage("net", "echo", &request{Seq: 7}, e.nodes...)), nil
	case *stdevents.MessageReceived:
		switch msg := ev.Msg.(type) {
		case *request:
			return stdtypes.ListOf(stdevents.NewSendMessage("net", "echo", &reply{Seq: msg.Seq}, ev.From)), nil
		case *reply:
			e.got(ev.From, msg.Seq)
		}
		return nil, nil
	}
	return nil, fmt.Errorf("echo: unexpected event %s", stdtypes.TypeName(ev))
}

// TestNodes runs three nodes, each with an echo module and a TCP
// transport, and checks that every node gets a reply from every node, and
// that the transports' counters agree with each other. The requests sent
// at Init may find a peer not connected yet: they wait in its queue.
func TestNodes(t *testing.T) {
	const n = 3
	c, ts := started(t, n, tcp.Options{})
	ids := c.members.IDs()

	var mu sync.Mutex
	replies := make(map[[2]stdtypes.NodeID]int) // (to, from) -> count
	allIn := make(chan struct{})
	nodes := make([]*mir.Node, n)
	for i, id := range ids {
		got := func(from stdtypes.NodeID, seq uint64) {
			mu.Lock()
			defer mu.Unlock()
			if seq != 7 {
				t.Errorf("node %s: reply from %s with seq %d, want 7", id, from, seq)
			}
			replies[[2]stdtypes.NodeID{id, from}]++
			if len(replies) == n*n {
				close(allIn)
			}
		}
		cfg := mir.DefaultNodeConfig().WithLogger(logging.NilLogger)
		node, err := mir.NewNode(id, cfg, modules.Modules{
			"echo": &echo{nodes: ids, got: got},
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
	case <-time.After(waitTimeout):
		mu.Lock()
		t.Errorf("timed out; replies so far: %v", replies)
		mu.Unlock()
	}
	// Every message is flushed once it has arrived; wait for the senders
	// to count theirs before comparing.
	eventually(t, "the senders count their messages", func() bool {
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
}
