package bcb_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/bcb"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/local"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdmodules"
	"github.com/mirframework/mir/stdtypes"
)

// benchInFlight is how many instances each leader keeps running at once in
// BenchmarkBCB: enough to keep both cores busy and let the crypto module
// verify signatures in batches, few enough to stay far inside the window.
var benchInFlight = uint64(envInt("BCB_INFLIGHT", 64))

// driver is the application module of a BenchmarkBCB node: it keeps
// benchInFlight of its node's instances running until it has broadcast its
// quota, and counts what the node delivers.
type driver struct {
	self      stdtypes.NodeID
	quota     uint64
	next      uint64
	delivered int
	want      int
	// done is closed once the node has delivered want instances.
	done chan struct{}
}

func (d *driver) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	out := stdtypes.EmptyList()
	for _, ev := range evs.Slice() {
		switch ev := ev.(type) {
		case *stdevents.Init:
			for d.next < min(benchInFlight, d.quota) {
				out.PushBack(d.broadcast())
			}
		case *bcb.Deliver:
			d.delivered++
			if ev.ID.Leader == d.self && d.next < d.quota {
				out.PushBack(d.broadcast())
			}
			if d.delivered == d.want {
				close(d.done)
			}
		}
	}
	return out, nil
}

func (d *driver) broadcast() stdtypes.Event {
	d.next++
	return bcb.NewBroadcast(mc.Self, d.next-1, fmt.Appendf(nil, "payload %d of node %s", d.next-1, d.self))
}

// BenchmarkBCB measures instances delivered per second by 4 nodes in one
// process: real mir.Nodes over the in-process transport (pkg/net/local,
// which encodes every message) and reliablenet, with real Ed25519
// signatures computed by
// the worker-pool crypto module (pkg/crypto/runner.Pool). Each node leads
// a quarter of the b.N instances, benchInFlight at a time; an instance
// counts once every node has delivered it. instances/s is b.N over the
// time from start to the last delivery.
//
//	nice -n -15 go test -run '^$' -bench 'BenchmarkBCB$' -count 5 ./pkg/bcb
func BenchmarkBCB(b *testing.B) {
	const n = 4
	ids := stdtypes.NumberedNodeIDs(n)
	keys, pubs := testKeys(b, n)
	b.ReportAllocs()
	// At least a few hundred instances per run, so that the start and the
	// pipeline's tail weigh little.
	total := max(b.N, 400)
	total += (n - total%n) % n
	network, err := local.NewNetwork(ids, local.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer network.Stop()
	nodes := make([]*mir.Node, n)
	drivers := make([]*driver, n)
	bcbs := make([]*bcb.Module, n)
	for i, id := range ids {
		params := bcb.DefaultModuleParams(ids)
		params.TickPeriod = time.Second
		if bcbs[i], err = bcb.NewModule(id, mc, params, nil); err != nil {
			b.Fatal(err)
		}
		rn, err := reliablenet.NewModule(id, rmc, bcb.ReliableNetParams(params), nil)
		if err != nil {
			b.Fatal(err)
		}
		c, err := crypto.New(keys[i], pubs)
		if err != nil {
			b.Fatal(err)
		}
		pool, err := crypto.NewPool(&counted{Crypto: c, calls: &cryptoCalls}, runner.DefaultPoolParams())
		if err != nil {
			b.Fatal(err)
		}
		tr, err := network.Transport(id)
		if err != nil {
			b.Fatal(err)
		}
		if err := tr.Start(); err != nil {
			b.Fatal(err)
		}
		drivers[i] = &driver{self: id, quota: uint64(total / n), want: total, done: make(chan struct{})}
		mods := modules.Modules{
			mc.Self:   bcbs[i],
			rmc.Self:  rn,
			mc.Crypto: pool,
			rmc.Net:   tr,
			mc.Timer:  stdmodules.NewTimer(mc.Timer, nil),
			mc.App:    drivers[i],
		}
		if nodes[i], err = mir.NewNode(id, mir.DefaultNodeConfig(), mods, nil); err != nil {
			b.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, n)
	cryptoCalls = callCounts{}
	b.ResetTimer()
	start := time.Now()
	for _, node := range nodes {
		go func() { errs <- node.Run(ctx) }()
	}
	timeout := time.After(time.Duration(total)*10*time.Millisecond + 30*time.Second)
	for i, d := range drivers {
		select {
		case <-d.done:
		case err := <-errs:
			b.Fatalf("a node stopped: %v", err)
		case <-timeout:
			b.Fatalf("node %s delivered %d of %d in time", ids[i], bcbs[i].Stats().Delivered, total)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(total)/elapsed.Seconds(), "instances/s")
	b.ReportMetric(0, "ns/op") // Meaningless here: instances/s is the figure.
	b.ReportMetric(float64(cryptoCalls.signs.Load())/float64(total), "signs/instance")
	b.ReportMetric(float64(cryptoCalls.verified.Load())/float64(total), "verifications/instance")
	b.ReportMetric(float64(cryptoCalls.verified.Load())/float64(max(cryptoCalls.batches.Load(), 1)), "sigs/VerifyMany")
	for _, node := range nodes {
		node.Stop()
	}
	for range nodes {
		if err := <-errs; err != nil && !errors.Is(err, mir.ErrStopped) && !errors.Is(err, context.Canceled) {
			b.Error(err)
		}
	}
	var dropped uint64
	for _, m := range bcbs {
		dropped += m.Stats().Invalid()
	}
	if dropped > 0 {
		b.Errorf("%d messages dropped as invalid", dropped)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// cryptoCalls counts what the nodes of BenchmarkBCB ask of Ed25519.
var cryptoCalls callCounts

type callCounts struct {
	signs, verified, batches atomic.Int64
}

// counted is a Crypto that counts its calls.
type counted struct {
	crypto.Crypto
	calls *callCounts
}

func (c *counted) Sign(msg []byte) ([]byte, error) {
	c.calls.signs.Add(1)
	return c.Crypto.Sign(msg)
}

func (c *counted) VerifyMany(items []crypto.SigItem, valid []bool) {
	c.calls.verified.Add(int64(len(items)))
	c.calls.batches.Add(1)
	c.Crypto.VerifyMany(items, valid)
}
