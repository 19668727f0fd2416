package reliablenet_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/net/local"
	"github.com/mirframework/mir/pkg/net/tcp"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdmodules"
	"github.com/mirframework/mir/stdtypes"
)

// waitTimeout bounds the waits of the real runs: far above the fraction of
// a second they take, for a loaded machine.
const waitTimeout = 20 * time.Second

// TestLocal runs 4 real nodes over the in-process transport with queues of
// one list, which drop most of what the nodes send at once (when the
// nodes run in parallel): every message arrives all the same,
// retransmitted, and nothing stays in flight.
func TestLocal(t *testing.T) {
	built := map[stdtypes.NodeID]*reliablenet.Module{} // Filled by Start, read after.
	d, err := deploytest.NewReal(deployment(4, built), deploytest.RealOptions{Network: local.Options{QueueCapacity: 1}})
	if err != nil {
		t.Fatal(err)
	}
	got := collect(d)
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	all := stdtypes.NumberedNodeIDs(4)
	if err := d.WaitFor(func() bool { return len(got.missing(all, all)) == 0 }, waitTimeout); err != nil {
		t.Fatalf("%v: missing %q", err, got.missing(all, all))
	}
	if err := d.WaitFor(func() bool { return pendingAll(built) == 0 }, waitTimeout); err != nil {
		t.Fatalf("%v: %d messages still in flight", err, pendingAll(built))
	}
	var retransmitted uint64
	for _, m := range built {
		retransmitted += m.Stats().Retransmitted
	}
	// Whether the queues lose anything depends on the scheduling of the
	// nodes' goroutines: on a machine that runs them one at a time they
	// may lose nothing. The simulation tests retransmission
	// deterministically; here it is only reported.
	t.Logf("%d messages retransmitted", retransmitted)
}

func pendingAll(built map[stdtypes.NodeID]*reliablenet.Module) uint64 {
	var n uint64
	for _, m := range built {
		n += m.Stats().Pending
	}
	return n
}

// TestTCP runs 4 nodes over TCP on loopback: every message arrives, and
// is acknowledged.
func TestTCP(t *testing.T) {
	const n = 4
	ids := stdtypes.NumberedNodeIDs(n)
	addrs := make([]string, n)
	listeners := make([]net.Listener, n)
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		listeners[i], addrs[i] = l, l.Addr().String()
	}
	members, keys, err := membership.WithAddrs(addrs)
	if err != nil {
		t.Fatal(err)
	}
	cfg := deployment(n, nil)
	var mu sync.Mutex
	got := deliveries{}
	built := map[stdtypes.NodeID]*reliablenet.Module{}
	nodes := make([]*mir.Node, n)
	for i, id := range ids {
		tr, err := tcp.New(id, members, keys[i], tcp.Options{Listener: listeners[i]})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Stop()
		if err := tr.Start(); err != nil {
			t.Fatal(err)
		}
		mods, err := cfg.Build(deploytest.NodeInfo{
			ID: id, Nodes: ids, Incarnation: 1, Transport: deploytest.DefaultTransportID, Timer: deploytest.DefaultTimerID,
		})
		if err != nil {
			t.Fatal(err)
		}
		built[id] = mods[rnetID].(*reliablenet.Module)
		mods[deploytest.DefaultTransportID] = tr
		mods[deploytest.DefaultTimerID] = stdmodules.NewTimer(deploytest.DefaultTimerID, nil)
		obs := &observer{node: id, mu: &mu, got: got}
		if nodes[i], err = mir.NewNode(id, mir.DefaultNodeConfig().WithLogger(logging.NilLogger), mods, obs); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, n)
	for _, node := range nodes {
		go func() { errs <- node.Run(ctx) }()
	}
	deadline := time.Now().Add(waitTimeout)
	for {
		mu.Lock()
		miss := got.missing(ids, ids)
		mu.Unlock()
		if len(miss) == 0 && pendingAll(built) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("missing %q, %d in flight", miss, pendingAll(built))
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, node := range nodes {
		node.Stop()
	}
	for range nodes {
		if err := <-errs; !errors.Is(err, mir.ErrStopped) {
			t.Errorf("node: %v", err)
		}
	}
}

// observer is a node's interceptor that collects what its sender gets.
type observer struct {
	node stdtypes.NodeID
	mu   *sync.Mutex
	got  deliveries
}

func (o *observer) Intercept(evs *stdtypes.EventList) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	collector := collectInto(o.got)
	for _, ev := range evs.Slice() {
		collector(&testsim.Observation{Node: o.node, Event: ev})
	}
	return nil
}
