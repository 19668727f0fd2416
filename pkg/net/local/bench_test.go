package local_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/local"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// hop is the message the benchmark bounces between two nodes.
type hop struct {
	stdtypes.MessageBase
	N uint64
}

var _ = codec.Register[hop]("local_test.hop")

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
		h := rcv.Msg.(*hop)
		n := m.received.Add(1)
		if n == m.limit {
			close(m.done)
		}
		if n >= m.limit {
			continue
		}
		next := stdevents.NewSendMessage("net", &hop{N: h.N + 1}, stdevents.To("bounce", rcv.From))
		if out == nil {
			out = stdtypes.ListOf(next)
		} else {
			out.PushBack(next)
		}
	}
	return out, nil
}

// BenchmarkLocalTransport bounces messages between two nodes through the
// in-process network, with inFlight messages on the way at any time. One
// op is one message delivered; msgs/s is the throughput of the network
// with both nodes' event loops.
func BenchmarkLocalTransport(b *testing.B) {
	for _, c := range []struct {
		name     string
		share    bool
		inFlight int
	}{
		{"codec/inflight=1", false, 1},
		{"codec/inflight=1000", false, 1000},
		{"shared/inflight=1", true, 1},
		{"shared/inflight=1000", true, 1000},
	} {
		b.Run(c.name, func(b *testing.B) { benchBounce(b, local.Options{ShareMessages: c.share}, c.inFlight) })
	}
}

func benchBounce(b *testing.B, opts local.Options, inFlight int) {
	ids := stdtypes.NumberedNodeIDs(2)
	network, err := local.NewNetwork(ids, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer network.Stop()
	var received atomic.Int64
	done := make(chan struct{})
	nodes := make([]*mir.Node, len(ids))
	for i, id := range ids {
		tr, _ := network.Transport(id)
		if err := tr.Start(); err != nil {
			b.Fatal(err)
		}
		cfg := mir.DefaultNodeConfig().WithLogger(logging.NilLogger)
		nodes[i], err = mir.NewNode(id, cfg, modules.Modules{
			"bounce": &bouncer{received: &received, limit: int64(b.N), done: done},
			"net":    tr,
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
		tr0, _ := network.Transport("0")
		tr1, _ := network.Transport("1")
		b.Fatalf("stalled after %d of %d messages (lost?): %+v %+v", received.Load(), b.N, tr0.Stats(), tr1.Stats())
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
	for _, node := range nodes {
		node.Stop()
	}
	for range nodes {
		if err := <-errs; !errors.Is(err, mir.ErrStopped) {
			b.Fatal(fmt.Errorf("Run: %w", err))
		}
	}
}
