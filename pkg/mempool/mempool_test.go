package mempool_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdtypes"
)

// TestDrops: every reason to drop a transaction from a client, each with
// its counter, and nothing else dropped.
func TestDrops(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*mempool.ModuleParams)
		setup []stdtypes.Event
		in    *mempool.NewTxs
		stat  func(mempool.Stats) uint64
	}{
		{name: "client ID too long", in: newTxs("01234567890", 0),
			stat: func(s mempool.Stats) uint64 { return s.BadClientID }},
		{name: "payload too large", in: &mempool.NewTxs{Txs: []mempool.Tx{{TxID: mempool.TxID{ClientID: "a"}, Data: make([]byte, 101)}}},
			stat: func(s mempool.Stats) uint64 { return s.Oversize }},
		{name: "below the watermark", setup: []stdtypes.Event{executed(ids("a", 0, 1))}, in: newTxs("a", 1),
			stat: func(s mempool.Stats) uint64 { return s.Replay }},
		{name: "executed above the watermark", setup: []stdtypes.Event{executed(ids("a", 3))}, in: newTxs("a", 3),
			stat: func(s mempool.Stats) uint64 { return s.Replay }},
		{name: "waiting already", setup: []stdtypes.Event{newTxs("a", 2)}, in: newTxs("a", 2),
			stat: func(s mempool.Stats) uint64 { return s.Duplicate }},
		{name: "out in a batch", setup: []stdtypes.Event{newTxs("a", 0, 1, 2), request(1)}, in: newTxs("a", 1),
			stat: func(s mempool.Stats) uint64 { return s.Duplicate }},
		{name: "twice in one NewTxs", in: newTxs("a", 5, 5),
			stat: func(s mempool.Stats) uint64 { return s.Duplicate }},
		{name: "beyond the window", in: newTxs("a", 8),
			stat: func(s mempool.Stats) uint64 { return s.BeyondWindow }},
		{name: "beyond the moved window", setup: []stdtypes.Event{executed(ids("a", 0, 1))}, in: newTxs("a", 10),
			stat: func(s mempool.Stats) uint64 { return s.BeyondWindow }},
		{name: "near the top of the numbers", setup: []stdtypes.Event{executed(ids("a", 0))}, in: newTxs("a", 1<<64-1),
			stat: func(s mempool.Stats) uint64 { return s.BeyondWindow }},
		{name: "client full", setup: []stdtypes.Event{newTxs("a", 0, 1, 2, 3)}, in: newTxs("a", 4),
			stat: func(s mempool.Stats) uint64 { return s.ClientFull }},
		{name: "MaxTxs", edit: func(p *mempool.ModuleParams) { p.MaxTxs = 4 },
			setup: []stdtypes.Event{newTxs("a", 0, 1), newTxs("b", 0, 1)}, in: newTxs("c", 0),
			stat: func(s mempool.Stats) uint64 { return s.Full }},
		{name: "MaxBytes", edit: func(p *mempool.ModuleParams) { p.MaxBytes = 22; p.MaxTxBytes = 10; p.MaxClientIDBytes = 2 },
			setup: []stdtypes.Event{newTxs("a", 0)}, in: newTxs("bb", 0),
			stat: func(s mempool.Stats) uint64 { return s.Full }},
		{name: "no room for a client", edit: func(p *mempool.ModuleParams) { p.MaxClients = 2 },
			setup: []stdtypes.Event{newTxs("a", 0), newTxs("b", 0)}, in: newTxs("c", 0),
			stat: func(s mempool.Stats) uint64 { return s.TooManyClients }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newMempool(t, tc.edit)
			h.apply(tc.setup...)
			before := h.m.Stats()
			if out := h.apply(tc.in); len(out) != 0 {
				t.Fatalf("output %q", out)
			}
			after := h.m.Stats()
			accepted := after.Accepted - before.Accepted
			if got := tc.stat(after) - tc.stat(before); got != 1 || after.Dropped()-before.Dropped() != 1 {
				t.Fatalf("%d dropped for the reason, %d in all, %d accepted: %+v", got, after.Dropped()-before.Dropped(), accepted, after)
			}
			if accepted != uint64(len(tc.in.Txs)-1) {
				t.Fatalf("%d accepted of %d", accepted, len(tc.in.Txs))
			}
		})
	}
}

// TestAcceptsAtTheEdges: what the limits allow is kept.
func TestAcceptsAtTheEdges(t *testing.T) {
	h := newMempool(t, func(p *mempool.ModuleParams) { p.MaxBatchTxs = 100 })
	h.apply(executed(ids("a", 0, 1)), // Watermark 2: the window is 2 to 9.
		&mempool.NewTxs{Txs: []mempool.Tx{
			{TxID: mempool.TxID{ClientID: "a", TxNo: 9}, Data: make([]byte, 100)},
			{TxID: mempool.TxID{ClientID: "0123456789", TxNo: 7}},
			{TxID: mempool.TxID{ClientID: "", TxNo: 0}},
		}},
		newTxs("a", 2))
	if s := h.m.Stats(); s.Accepted != 4 || s.Dropped() != 0 || s.HeldTxs != 4 || s.HeldBytes != (1+100)+(10+0)+(0+0)+(1+10) || s.Clients != 3 {
		t.Fatalf("stats %+v", s)
	}
}

// TestFullBatchAtOnce: a request is answered at once from buckets that
// hold a full batch, the oldest transactions first; the rest waits.
func TestFullBatchAtOnce(t *testing.T) {
	h := newMempool(t, nil)
	h.apply(newTxs("b", 0), newTxs("a", 1, 0, 2))
	want(t, h.apply(request(7)), "availability/7: b.0 a.1 a.0")
	h.apply(newTxs("c", 0, 1))
	want(t, h.apply(request(8)), "availability/8: a.2 c.0 c.1")
}

// TestFullByBytes: MaxBatchBytes makes a batch full too, and cuts it.
func TestFullByBytes(t *testing.T) {
	h := newMempool(t, func(p *mempool.ModuleParams) { p.MaxBatchBytes = 25; p.MaxTxBytes = 10 })
	h.apply(newTxs("a", 0, 1, 2))
	want(t, h.apply(request(1)), "availability/1: a.0 a.1") // 11+11 bytes; a third does not fit.
	if out := h.apply(request(2)); len(out) != 0 {
		t.Fatalf("a batch of one 11-byte transaction is not full: %q", out)
	}
}

// TestBatchTimeout: a request the buckets cannot fill waits until their
// oldest transaction has waited BatchTimeout.
func TestBatchTimeout(t *testing.T) {
	h := newMempool(t, nil)
	h.apply(newTxs("a", 0))
	if out := h.apply(request(1)); len(out) != 0 {
		t.Fatalf("answered at once: %q", out)
	}
	h.apply(newTxs("a", 1)) // Younger: the batch waits for a.0's timer only.
	first := h.timers[0]
	h.timers = h.timers[1:]
	want(t, h.apply(first.Events...), "availability/1: a.0 a.1")
}

// TestOldTransactionsGoAtOnce: a request that finds a transaction that has
// waited BatchTimeout is answered at once.
func TestOldTransactionsGoAtOnce(t *testing.T) {
	h := newMempool(t, nil)
	h.apply(newTxs("a", 0))
	h.fire()
	h.apply(newTxs("a", 1))
	want(t, h.apply(request(1)), "availability/1: a.0 a.1")
}

// TestRequestWaited: a request that has waited BatchTimeout and found
// nothing is answered as soon as a transaction comes, and never empty.
func TestRequestWaited(t *testing.T) {
	h := newMempool(t, nil)
	h.apply(request(1))
	if out := h.fire(); len(out) != 0 {
		t.Fatalf("answered without transactions: %q", out)
	}
	want(t, h.apply(newTxs("a", 0)), "availability/1: a.0")
	if s := h.m.Stats(); s.Requests != 0 || s.Batches != 1 || s.BatchedTxs != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// TestRequestTimerOfAnEarlierRequest: the timer of a cancelled request does
// not hurry a later one with the same Ref.
func TestRequestTimerOfAnEarlierRequest(t *testing.T) {
	h := newMempool(t, nil)
	h.apply(request(1), cancel(1))
	old := h.timers
	h.timers = nil
	h.apply(request(1))
	for _, td := range old {
		h.apply(td.Events...)
	}
	if out := h.apply(newTxs("a", 0)); len(out) != 0 {
		t.Fatalf("answered on an earlier request's timer: %q", out)
	}
	h.timers = h.timers[:1] // The request's own, not the transaction's.
	want(t, h.fire(), "availability/1: a.0")
}

// TestTxsWaitedFromAnotherRun: a TxsWaited with an arrival number the
// mempool never gave vouches only for the transactions it has.
func TestTxsWaitedFromAnotherRun(t *testing.T) {
	h := newMempool(t, nil)
	h.apply(&mempool.TxsWaited{Header: stdtypes.NewHeader(mc.Self), Arrival: 100}, request(1))
	if out := h.apply(newTxs("a", 0)); len(out) != 0 {
		t.Fatalf("a new transaction taken for an old one: %q", out)
	}
}

// TestBuckets: a batch holds only the requested buckets' transactions,
// merged by arrival order.
func TestBuckets(t *testing.T) {
	h := newMempool(t, func(p *mempool.ModuleParams) {
		p.NumBuckets = 4
		p.MaxTxsPerClient = 8
		p.MaxBatchTxs = 4
		p.ClientWindow = 64
	})
	b0, b1, b2 := inBucket("a", 0, 4, 2), inBucket("a", 1, 4, 2), inBucket("a", 2, 4, 2)
	h.apply(newTxs("a", b1[0], b0[0], b2[0], b0[1], b1[1], b2[1]))
	h.fire()
	want(t, h.apply(request(1, 2, 1)), fmt.Sprintf("availability/1: a.%d a.%d a.%d a.%d", b1[0], b2[0], b1[1], b2[1]))
	want(t, h.apply(request(2, 3, 0)), fmt.Sprintf("availability/2: a.%d a.%d", b0[0], b0[1]))
}

// inBucket returns the first n transaction numbers of client in bucket b
// of numBuckets.
func inBucket(client string, b, numBuckets, n int) []uint64 {
	var nos []uint64
	for no := uint64(0); len(nos) < n; no++ {
		if mempool.BucketOf(mempool.TxID{ClientID: client, TxNo: no}, numBuckets) == b {
			nos = append(nos, no)
		}
	}
	return nos
}

// TestOutUntilReturned: the transactions of a batch are not given out again
// until handed back; then they are the oldest again.
func TestOutUntilReturned(t *testing.T) {
	h := newMempool(t, nil)
	h.apply(newTxs("a", 0, 1, 2))
	want(t, h.apply(request(1)), "availability/1: a.0 a.1 a.2")
	h.apply(newTxs("b", 0, 1))
	h.apply(returned(ids("a", 2, 0, 0, 7), ids("b", 0))) // b.0, a.7 and the second a.0 are not out.
	if s := h.m.Stats(); s.Returned != 2 {
		t.Fatalf("%d returned", s.Returned)
	}
	want(t, h.apply(request(2)), "availability/2: a.0 a.2 b.0")
	// a.1 comes back after b.1 came: it goes before it.
	h.apply(returned(ids("a", 1)))
	h.fire()
	want(t, h.apply(request(3)), "availability/3: a.1 b.1")
}

// TestExecuted: Executed retires transactions, waiting or out, moves the
// watermark over what was executed out of order, and frees the memory.
func TestExecuted(t *testing.T) {
	h := newMempool(t, nil)
	h.apply(newTxs("a", 0, 1, 2, 3), newTxs("b", 0))
	want(t, h.apply(request(1)), "availability/1: a.0 a.1 a.2")
	h.apply(executed(ids("a", 1, 3, 0), ids("b", 0)))
	if s := h.m.Stats(); s.HeldTxs != 1 || s.HeldBytes != 11 || s.Retired != 4 {
		t.Fatalf("stats %+v", s)
	}
	h.apply(returned(ids("a", 0, 1, 2))) // Only a.2 was not executed.
	h.fire()
	want(t, h.apply(request(2)), "availability/2: a.2")
	// The watermark is 2, the window 2 to 9: a.0, a.1, a.3 are replays;
	// a.4 and a.9 are new, a.10 beyond.
	h.apply(newTxs("a", 0, 1, 3, 4, 9, 10))
	if s := h.m.Stats(); s.Replay != 3 || s.Accepted != 7 || s.BeyondWindow != 1 {
		t.Fatalf("stats %+v", s)
	}
	h.apply(executed(ids("a", 2))) // Watermark 4 (3 was executed): a.10 is in the window...
	h.apply(newTxs("a", 10, 12))   // ...and a.12 not.
	if s := h.m.Stats(); s.Accepted != 8 || s.BeyondWindow != 2 {
		t.Fatalf("stats %+v", s)
	}
}

// TestUnrecordedExecutions: an execution the mempool cannot remember is
// counted, and the transaction is accepted again if it comes.
func TestUnrecordedExecutions(t *testing.T) {
	h := newMempool(t, func(p *mempool.ModuleParams) { p.MaxClients = 1 })
	h.apply(newTxs("a", 0))
	h.apply(executed(ids("b", 0), ids("a", 8), ids("0123456789x", 0)))
	if s := h.m.Stats(); s.UnrecordedExecutions != 3 || s.Clients != 1 {
		t.Fatalf("stats %+v", s)
	}
	h.apply(executed(ids("a", 0)))
	h.apply(executed(ids("b", 0))) // Room now: a is forgotten.
	h.apply(newTxs("b", 0))        // A replay.
	h.apply(newTxs("a", 0))        // Accepted again, and b forgotten.
	if s := h.m.Stats(); s.ForgottenClients != 2 || s.Accepted != 2 || s.Replay != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// TestForgetsTheClientIdleLongest: when MaxClients are kept, a new client
// takes the place of the one idle the longest; a client with transactions
// is kept.
func TestForgetsTheClientIdleLongest(t *testing.T) {
	h := newMempool(t, func(p *mempool.ModuleParams) { p.MaxClients = 3 })
	h.apply(newTxs("a", 0), newTxs("b", 0), newTxs("c", 0))
	h.apply(executed(ids("b", 0)), executed(ids("a", 0))) // b idle longest, then a; c holds c.0.
	h.apply(newTxs("d", 0))                               // Forgets b.
	h.apply(newTxs("e", 0))                               // Forgets a.
	h.apply(newTxs("f", 0))                               // c, d, e hold transactions: no room.
	s := h.m.Stats()
	if s.ForgottenClients != 2 || s.TooManyClients != 1 || s.Clients != 3 {
		t.Fatalf("stats %+v", s)
	}
	// The cost: b's executed transaction is accepted again; c's is not.
	h.apply(executed(ids("c", 0)), newTxs("b", 0), newTxs("c", 0))
	if s := h.m.Stats(); s.Replay != 0 || s.Accepted != 6 {
		t.Fatalf("stats %+v", s)
	}
}

// TestCancelBatch: a cancelled request is not answered; cancelling one not
// held does nothing.
func TestCancelBatch(t *testing.T) {
	h := newMempool(t, nil)
	h.apply(request(1), request(2), cancel(1), cancel(9))
	want(t, h.apply(newTxs("a", 0, 1, 2)), "availability/2: a.0 a.1 a.2")
	h.apply(cancel(2)) // Answered already.
	if s := h.m.Stats(); s.Requests != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestSeveralRequests: requests of other buckets are held together and
// answered in the order they came.
func TestSeveralRequests(t *testing.T) {
	h := newMempool(t, func(p *mempool.ModuleParams) {
		p.NumBuckets = 2
		p.MaxTxsPerClient = 8
		p.ClientWindow = 64
		p.MaxBatchTxs = 10
	})
	h.apply(request(1, 0), request(2, 1), request(3, 0, 1))
	b0, b1 := inBucket("a", 0, 2, 2), inBucket("a", 1, 2, 2)
	h.apply(newTxs("a", b0[0], b1[0], b1[1], b0[1]))
	want(t, h.fire(), fmt.Sprintf("availability/1: a.%d a.%d", b0[0], b0[1]), fmt.Sprintf("availability/2: a.%d a.%d", b1[0], b1[1]))
	if s := h.m.Stats(); s.Requests != 1 || s.BatchedTxs != 4 {
		t.Fatalf("stats %+v", s)
	}
}

// TestBadRequests: a RequestBatch a local module got wrong is an error.
func TestBadRequests(t *testing.T) {
	for name, evs := range map[string][]stdtypes.Event{
		"bucket out of range": {request(1, 1)},
		"negative bucket":     {request(1, -1)},
		"bucket twice":        {&mempool.RequestBatch{ReplyTo: "a", Ref: 1, Buckets: []int{0, 0}}},
		"no ReplyTo":          {&mempool.RequestBatch{Ref: 1, Buckets: []int{0}}},
		"Ref held":            {request(1), request(1)},
		"MaxRequests":         {request(1), request(2), request(3), request(4), request(5)},
	} {
		t.Run(name, func(t *testing.T) {
			h := newMempool(t, nil)
			_, err := h.try(evs...)
			if !errors.Is(err, mempool.ErrBadRequest) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

// TestRequestWithoutBuckets: a request for no bucket is held, never
// answered (an orderer with no bucket), until cancelled.
func TestRequestWithoutBuckets(t *testing.T) {
	h := newMempool(t, nil)
	h.apply(&mempool.RequestBatch{ReplyTo: "a", Ref: 1})
	h.apply(newTxs("a", 0, 1, 2))
	if out := h.fire(); len(out) != 0 {
		t.Fatalf("batches %q", out)
	}
	h.apply(cancel(1))
}

// TestInputReused: the mempool keeps none of the slices of an event but
// the payloads: a caller may reuse the rest.
func TestInputReused(t *testing.T) {
	h := newMempool(t, func(p *mempool.ModuleParams) { p.NumBuckets = 2 })
	req := request(1, 0, 1)
	h.apply(req)
	req.Buckets[0], req.Buckets[1] = 5, 7
	in := newTxs("a", 0, 1)
	h.apply(in)
	in.Txs[0].TxNo, in.Txs[1].ClientID = 5, "x"
	want(t, h.fire(), "availability/1: a.0 a.1")
}

// TestUnknownEvent: an event the mempool does not take is an error naming
// it.
func TestUnknownEvent(t *testing.T) {
	h := newMempool(t, nil)
	_, err := h.try(&mempool.NewBatch{Header: stdtypes.NewHeader(mc.Self)})
	if err == nil || !strings.Contains(err.Error(), "NewBatch") {
		t.Fatalf("got %v", err)
	}
}

// TestReturnedInPlace: transactions handed back one at a time each go
// back to their place among those waiting, by arrival.
func TestReturnedInPlace(t *testing.T) {
	h := newMempool(t, nil)
	h.apply(newTxs("a", 0, 1, 2, 3))
	want(t, h.apply(request(1)), "availability/1: a.0 a.1 a.2")
	h.apply(returned(ids("a", 0)))
	h.apply(returned(ids("a", 2)))
	want(t, h.apply(request(2)), "availability/2: a.0 a.2 a.3")
	h.apply(executed(ids("a", 0, 0))) // The second is below the watermark: known.
	if s := h.m.Stats(); s.Retired != 1 || s.UnrecordedExecutions != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// TestLogsDrops: with a logger, each dropped transaction is logged with its
// client, number and reason; the node reports the same Stats.
func TestLogsDrops(t *testing.T) {
	var buf bytes.Buffer
	m, err := mempool.NewModule("0", mc, testParams(), logging.NewStreamLogger(logging.LevelDebug, &buf))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.ApplyEvents(stdtypes.ListOf(newTxs("alice", 3, 3))); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"dropped transaction", "alice", "txNo=3", "held already", "node=0"} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("log %q lacks %q", buf.String(), s)
		}
	}
	if got, ok := m.ReportStats().(mempool.Stats); !ok || got != m.Stats() || got.Duplicate != 1 {
		t.Fatalf("ReportStats %+v", m.ReportStats())
	}
}

// TestOneTimerPerBatch: the transactions of one batch of events share a
// timer; a batch that brings none (all dropped) sets none.
func TestOneTimerPerBatch(t *testing.T) {
	h := newMempool(t, nil)
	h.apply(newTxs("a", 0), newTxs("b", 0), newTxs("c", 0))
	h.apply(newTxs("a", 0))
	if len(h.timers) != 1 {
		t.Fatalf("%d timers", len(h.timers))
	}
	if ev, ok := h.timers[0].Events[0].(*mempool.TxsWaited); !ok || ev.Arrival != 3 || ev.Dest() != mc.Self {
		t.Fatalf("timer %+v", h.timers[0].Events[0])
	}
}

func watermarks(ws ...mempool.ClientWatermark) *mempool.Watermarks {
	return &mempool.Watermarks{Header: stdtypes.NewHeader(mc.Self), Clients: ws}
}

// TestWatermarks: the watermarks of a restored state retire what the
// mempool holds below them or executed above them, waiting or out in a
// batch, so that it neither proposes nor accepts those again; a batch
// handed back afterwards brings back only what was not executed.
func TestWatermarks(t *testing.T) {
	h := newMempool(t, nil)
	h.apply(newTxs("a", 0, 1, 2, 3), newTxs("b", 5))
	want(t, h.apply(request(1)), "availability/1: a.0 a.1 a.2")
	// a: 0 and 1 executed, and 3; b: 0 to 6 (b.5 is held: retired).
	// c is new to the mempool (a node that restarted knows no client).
	h.apply(watermarks(
		mempool.ClientWatermark{ClientID: "a", Low: 2, Above: []uint64{3}},
		mempool.ClientWatermark{ClientID: "b", Low: 7},
		mempool.ClientWatermark{ClientID: "c", Low: 1, Above: []uint64{4, 100}},
	))
	if s := h.m.Stats(); s.HeldTxs != 1 || s.Retired != 4 || s.Clients != 3 || s.UnrecordedExecutions != 1 {
		t.Fatalf("stats %+v", s)
	}
	h.apply(returned(ids("a", 0, 1, 2)))
	h.fire()
	want(t, h.apply(request(2)), "availability/2: a.2")
	h.apply(newTxs("a", 0, 1, 3), newTxs("b", 6), newTxs("c", 0, 4))
	if s := h.m.Stats(); s.Replay != 6 || s.HeldTxs != 1 {
		t.Fatalf("stats %+v", s)
	}
	// The window moved with the watermarks: b.14 is in it (7 to 14).
	h.apply(newTxs("b", 14, 15), newTxs("c", 2))
	if s := h.m.Stats(); s.BeyondWindow != 1 || s.HeldTxs != 3 {
		t.Fatalf("stats %+v", s)
	}
	// Older watermarks than the mempool's change nothing.
	h.apply(watermarks(mempool.ClientWatermark{ClientID: "b", Low: 3}))
	h.apply(newTxs("b", 5))
	if s := h.m.Stats(); s.Replay != 7 {
		t.Fatalf("stats %+v", s)
	}
}

// TestRetryKeepsItsBucket: a bucket is a function of the transaction's
// ID only, so a client's retry, whatever its payload, falls in the same
// bucket, whose one leader per epoch proposes it: no two leaders propose
// one transaction in the same epoch. The mempool holds the first copy,
// and drops the retry as a duplicate.
func TestRetryKeepsItsBucket(t *testing.T) {
	h := newMempool(t, func(p *mempool.ModuleParams) { p.NumBuckets = 4 })
	id := mempool.TxID{ClientID: "a", TxNo: 0}
	b := mempool.BucketOf(id, 4)
	h.apply(&mempool.NewTxs{Txs: []mempool.Tx{{TxID: id, Data: []byte("first")}}})
	h.apply(&mempool.NewTxs{Txs: []mempool.Tx{{TxID: id, Data: []byte("retry, another payload")}}})
	if s := h.m.Stats(); s.Duplicate != 1 || s.HeldTxs != 1 {
		t.Fatalf("stats %+v", s)
	}
	h.fire()
	for other := range 4 {
		if other != b {
			want(t, h.apply(request(uint64(other), other)))
		}
	}
	out, err := h.try(request(9, b))
	if err != nil || len(out) != 1 || string(out[0].(*mempool.NewBatch).Txs[0].Data) != "first" {
		t.Fatalf("batch of bucket %d: %v, %v", b, out, err)
	}
}
