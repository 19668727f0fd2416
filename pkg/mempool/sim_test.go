package mempool_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// The simulation tests run the mempool in a node of the simulator, with its
// timer (testsim's twin), clients that send it transactions (a twin of the
// client server) and an availability stand-in that keeps one request held,
// executes each batch at once and asks again. They check, in simulated
// time, that every transaction is given out exactly once, none waits more
// than BatchTimeout for a batch once a request is held, and batches are
// full under load.

// simClients sends, every interval, perTick transactions of clients
// "c0".."c7" in turn, for ticks ticks.
type simClients struct {
	interval       time.Duration
	perTick, ticks int
	sent           int
}

func (c *simClients) ApplyEvents(env *testsim.Env, evs *stdtypes.EventList) error {
	for _, ev := range evs.Slice() {
		if _, ok := ev.(*stdevents.Init); ok {
			c.tick(env)
		}
	}
	return nil
}

func (c *simClients) tick(env *testsim.Env) {
	if c.ticks == 0 {
		return
	}
	c.ticks--
	ev := &mempool.NewTxs{Header: stdtypes.NewHeader(mc.Self)}
	for range c.perTick {
		ev.Txs = append(ev.Txs, mempool.Tx{TxID: mempool.TxID{ClientID: fmt.Sprintf("c%d", c.sent%8), TxNo: uint64(c.sent / 8)},
			Data: make([]byte, 512)})
		c.sent++
	}
	env.Emit(c.interval, ev)
	env.After(c.interval, func() { c.tick(env) })
}

// simAvailability keeps a request for every bucket held, and retires
// each batch at once.
type simAvailability struct {
	buckets []int
	ref     uint64
}

func (a *simAvailability) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	out := stdtypes.EmptyList()
	for _, ev := range evs.Slice() {
		switch ev := ev.(type) {
		case *stdevents.Init:
		case *mempool.NewBatch:
			ex := &mempool.Executed{Header: stdtypes.NewHeader(mc.Self)}
			for _, tx := range ev.Txs {
				ex.Txs = append(ex.Txs, tx.TxID)
			}
			out.PushBack(ex)
		default:
			return nil, fmt.Errorf("unexpected %T", ev)
		}
		a.ref++
		out.PushBack(&mempool.RequestBatch{Header: stdtypes.NewHeader(mc.Self), ReplyTo: "availability", Ref: a.ref, Buckets: a.buckets})
	}
	return out, nil
}

// simRun is what a run saw.
type simRun struct {
	arrived map[mempool.TxID]time.Duration
	batched map[mempool.TxID]int
	waits   []time.Duration
	batches []int
}

func runSim(t *testing.T, p mempool.ModuleParams, clients *simClients) *simRun {
	t.Helper()
	s := testsim.New(testsim.Options{Seed: 1})
	all := make([]int, p.NumBuckets)
	for i := range all {
		all[i] = i
	}
	if _, err := s.AddNode("0", testsim.NodeConfig{Build: func(int) (modules.Modules, error) {
		m, err := mempool.NewModule("0", mc, p, nil)
		return modules.Modules{mc.Self: m, mc.Timer: testsim.NewTimer(), "clients": clients,
			"availability": &simAvailability{buckets: all}}, err
	}}); err != nil {
		t.Fatal(err)
	}
	r := &simRun{arrived: map[mempool.TxID]time.Duration{}, batched: map[mempool.TxID]int{}}
	s.Observe(func(o *testsim.Observation) {
		switch ev := o.Event.(type) {
		case *mempool.NewTxs:
			for _, tx := range ev.Txs {
				r.arrived[tx.TxID] = o.Time
			}
		case *mempool.NewBatch:
			r.batches = append(r.batches, len(ev.Txs))
			for _, tx := range ev.Txs {
				r.batched[tx.TxID]++
				r.waits = append(r.waits, o.Time-r.arrived[tx.TxID])
			}
		}
	})
	if err := s.Run(time.Second); err != nil {
		t.Fatal(err)
	}
	if len(r.arrived) != clients.sent || clients.ticks != 0 {
		t.Fatalf("%d transactions arrived of %d sent", len(r.arrived), clients.sent)
	}
	for id := range r.arrived {
		if r.batched[id] != 1 {
			t.Fatalf("%+v given out %d times", id, r.batched[id])
		}
	}
	return r
}

// TestSimLightLoad: a transaction every 3 ms, batches of at most 1,024:
// none waits more than BatchTimeout.
func TestSimLightLoad(t *testing.T) {
	p := mempool.DefaultModuleParams()
	r := runSim(t, p, &simClients{interval: 3 * time.Millisecond, perTick: 1, ticks: 100})
	for _, w := range r.waits {
		if w > p.BatchTimeout {
			t.Fatalf("a transaction waited %v", w)
		}
	}
}

// TestSimHeavyLoad: 64 transactions every millisecond, batches of at most
// 100: they are full, and go at once.
func TestSimHeavyLoad(t *testing.T) {
	p := mempool.DefaultModuleParams()
	p.MaxBatchTxs = 100
	r := runSim(t, p, &simClients{interval: time.Millisecond, perTick: 64, ticks: 50})
	full := 0
	for _, n := range r.batches {
		if n == p.MaxBatchTxs {
			full++
		}
	}
	if full != 50*64/100 {
		t.Fatalf("%d full batches of %d: %v", full, len(r.batches), r.batches)
	}
	for _, w := range r.waits {
		if w > 2*time.Millisecond {
			t.Fatalf("a transaction waited %v", w)
		}
	}
}
