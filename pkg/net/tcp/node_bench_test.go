package tcp_test

import (
	"context"
	"errors"
	"sync/atomic"
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

// hop is the message the node benchmark bounces between two nodes.
type hop struct {
	stdtypes.MessageBase
	N uint64
}

var _ = codec.Register[hop]("tcp_test.hop")

// bouncer answers every hop with the next one, back to its sender, until
// the two nodes together have received limit hops.
type bouncer struct {
	received *atomic.Int64
	limit    int64
	done     chan struct{}
}

func (m *bouncer) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	var out *stdtypes.EventList
	for _, ev := range evs.Slice() {
		rcv, ok := ev.(*stdevents.MessageReceived)
		if !ok {
			continue // Init
		}
		n := m.received.Add(1)
		if n == m.limit {
			close(m.done)
		}
		if n >= m.limit {
			continue
		}
		next := stdevents.NewSendMessage("net", &hop{N: rcv.Msg.(*hop).N + 1}, stdevents.To("bounce", rcv.From))
		if out == nil {
			out = stdtypes.ListOf(next)
		} else {
			out.PushBack(next)
		}
	}
	return out, nil
}

// BenchmarkTCPNodes bounces messages between two Mir nodes over the TCP
// transport, with inFlight messages on the way at any time: the whole
// path, event loops included, as BenchmarkLocalTransport measures it for
// the in-process network. One op is one message delivered.
func BenchmarkTCPNodes(b *testing.B) {
	for _, c := range []struct {
		name     string
		inFlight int
	}{{"inflight=1", 1}, {"inflight=1000", 1000}} {
		b.Run(c.name, func(b *testing.B) { benchNodes(b, c.inFlight) })
	}
}

func benchNodes(b *testing.B, inFlight int) {
	c, ts := started(b, 2, tcp.Options{})
	connected(b, ts...)
	var received atomic.Int64
	done := make(chan struct{})
	nodes := make([]*mir.Node, 2)
	for i, id := range c.members.IDs() {
		var err error
		nodes[i], err = mir.NewNode(id, mir.DefaultNodeConfig().WithLogger(logging.NilLogger), modules.Modules{
			"bounce": &bouncer{received: &received, limit: int64(b.N), done: done},
			"net":    ts[i],
		}, nil)
		if err != nil {
			b.Fatal(err)
		}
	}
	initial := stdtypes.EmptyList()
	for range inFlight {
		initial.PushBack(stdevents.NewSendMessage("net", &hop{}, stdevents.To("bounce", "1")))
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, len(nodes))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for _, node := range nodes {
		go func() { errs <- node.Run(ctx) }()
	}
	if err := nodes[0].InjectEvents(ctx, initial); err != nil {
		b.Fatal(err)
	}
	select {
	case <-done:
	case err := <-errs:
		b.Fatalf("a node stopped early: %v", err)
	case <-time.After(time.Minute):
		b.Fatalf("stalled after %d of %d messages (lost?): %+v %+v", received.Load(), b.N, ts[0].Metrics(), ts[1].Metrics())
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	for _, node := range nodes {
		node.Stop()
	}
	for range nodes {
		if err := <-errs; !errors.Is(err, mir.ErrStopped) {
			b.Fatalf("Run: %v", err)
		}
	}
}
