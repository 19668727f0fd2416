package mempool_test

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdtypes"
)

// FuzzNewTxs drives a mempool with whatever clients may send (NewTxs of
// any client IDs, numbers and payloads), interleaved with what the other
// modules send it (requests, cancellations, transactions handed back or
// executed, epochs executed, timers). Whatever comes, the mempool must not fail nor panic,
// must stay within its bounds, and every batch must be non-empty, within
// MaxBatchTxs and MaxBatchBytes, of the requested buckets, and of
// transactions accepted and neither out already nor executed, for a
// request whose earlier epochs are executed.
func FuzzNewTxs(f *testing.F) {
	f.Add([]byte{0, 3, 0, 1, 10, 1, 2, 10, 2, 3, 10, 1, 0, 15, 5})
	f.Add([]byte{0, 2, 255, 0, 1, 0, 0, 39, 1, 1, 3, 4, 0, 1, 0, 3, 0, 5, 0})
	f.Add([]byte{0, 4, 0, 0, 1, 0, 0, 1, 1, 0, 7, 1, 2, 15, 4, 0, 0, 3, 4, 0, 1, 1, 2, 3})
	f.Add([]byte("\x00\x08abcdefghijklmnop\x01\x01\x0f\x05\x03\x00\x00\x04\x01\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &fuzzRun{t: t, data: data}
		r.run()
	})
}

// fuzzParams are small bounds, so that the fuzzer reaches every one.
func fuzzParams(p *mempool.ModuleParams) {
	p.NumBuckets = 4
	p.MaxTxBytes = 32
	p.MaxClientIDBytes = 4
	p.ClientWindow = 70 // Not a multiple of 64: the bitmap wraps mid-word.
	p.MaxTxsPerClient = 5
	p.MaxClients = 4
	p.MaxTxs = 12
	p.MaxBytes = 200
	p.MaxBatchTxs = 4
	p.MaxBatchBytes = 60
	p.MaxRequests = 4
}

// fuzzRun is one run of FuzzNewTxs, with what it knows of the mempool.
type fuzzRun struct {
	t    *testing.T
	data []byte
	h    *harness

	accepted map[mempool.TxID]bool // Handed in at least once.
	out      map[mempool.TxID]bool // In a batch out, neither returned nor executed.
	executed map[mempool.TxID]bool
	requests map[uint64][]int            // Held, by Ref.
	epochs   map[uint64]stdtypes.EpochNr // The epochs of the requests held.
	// nextEpoch is the latest epoch whose requests may be answered.
	nextEpoch stdtypes.EpochNr
}

// next returns the next input byte, 0 once there are none.
func (r *fuzzRun) next() byte {
	if len(r.data) == 0 {
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return b
}

func (r *fuzzRun) txID() mempool.TxID {
	c := r.next()
	id := fmt.Sprintf("c%d", c%5)
	if c == 255 {
		id = "long-id"
	}
	no := uint64(r.next() % 80)
	if no == 79 {
		no = 1<<64 - 1
	}
	return mempool.TxID{ClientID: id, TxNo: no}
}

func (r *fuzzRun) run() {
	r.h = newMempool(r.t, fuzzParams)
	r.accepted, r.out, r.executed = map[mempool.TxID]bool{}, map[mempool.TxID]bool{}, map[mempool.TxID]bool{}
	r.requests, r.epochs = map[uint64][]int{}, map[uint64]stdtypes.EpochNr{}
	for steps := 0; len(r.data) > 0 && steps < 200; steps++ {
		switch r.next() % 8 {
		case 0:
			ev := &mempool.NewTxs{Header: stdtypes.NewHeader(mc.Self)}
			for range r.next() % 9 {
				id := r.txID()
				ev.Txs = append(ev.Txs, mempool.Tx{TxID: id, Data: make([]byte, r.next()%40)})
				r.accepted[id] = true
			}
			r.apply(ev)
		case 1:
			ref := uint64(r.next() % 4)
			if _, held := r.requests[ref]; held {
				continue
			}
			var buckets []int
			mask := r.next()
			for b := range 4 {
				if mask&(1<<b) != 0 {
					buckets = append(buckets, b)
				}
			}
			r.requests[ref] = buckets
			r.epochs[ref] = stdtypes.EpochNr(mask >> 4 & 3)
			r.apply(&mempool.RequestBatch{Header: stdtypes.NewHeader(mc.Self), ReplyTo: "availability", Ref: ref, Buckets: buckets,
				Epoch: r.epochs[ref]})
		case 2:
			ref := uint64(r.next() % 4)
			delete(r.requests, ref)
			r.apply(cancel(ref))
		case 3, 4:
			var txs []mempool.TxID
			for range r.next() % 6 {
				txs = append(txs, r.txID())
			}
			if r.next()%2 == 0 { // Name some of those out, which are the likely ones.
				for id := range r.out {
					txs = append(txs, id)
					break
				}
			}
			// What the mempool answers comes after: the run updates
			// what it knows first.
			for _, id := range txs {
				delete(r.out, id)
			}
			if len(r.data)%2 == 0 {
				r.apply(returned(txs))
			} else {
				for _, id := range txs {
					r.executed[id] = true
				}
				r.apply(executed(txs))
			}
		case 5:
			r.check(r.h.fire())
		case 6:
			r.apply(r.watermarks())
		case 7:
			e := stdtypes.EpochNr(r.next() % 4)
			r.nextEpoch = max(r.nextEpoch, e+1)
			r.apply(epochExecuted(e))
		}
	}
	r.drain()
}

// watermarks returns a Watermarks of one client, as a restored state
// could hold (a watermark, numbers above it), and records what it says
// executed.
func (r *fuzzRun) watermarks() *mempool.Watermarks {
	id := r.txID()
	w := mempool.ClientWatermark{ClientID: id.ClientID, Low: id.TxNo}
	for no := uint64(0); no < w.Low && no < 80; no++ {
		r.executedTx(mempool.TxID{ClientID: id.ClientID, TxNo: no})
	}
	for no := w.Low + 1 + uint64(r.next()%8); w.Low < 80 && no < w.Low+80 && len(w.Above) < 4; no += 1 + uint64(r.next()%8) {
		w.Above = append(w.Above, no)
		r.executedTx(mempool.TxID{ClientID: id.ClientID, TxNo: no})
	}
	return watermarks(w)
}

func (r *fuzzRun) executedTx(id mempool.TxID) {
	r.executed[id] = true
	delete(r.out, id)
}

// apply applies ev and checks what comes out.
func (r *fuzzRun) apply(ev stdtypes.Event) {
	out, err := r.h.try(ev)
	if err != nil {
		r.t.Fatalf("%T: %v", ev, err)
	}
	r.check(render(r.t, out))
	r.bounds()
}

// check checks the batches sent (rendered) against what the run knows.
func (r *fuzzRun) check(batches []string) {
	p := r.h.p
	s := r.h.m.Stats()
	forgot := s.ForgottenClients > 0 || s.UnrecordedExecutions > 0
	for _, b := range batches {
		var ref uint64
		var list string
		if _, err := fmt.Sscanf(b, "availability/%d: ", &ref); err != nil {
			r.t.Fatalf("batch %q", b)
		}
		list = b[strings.Index(b, ": ")+2:]
		buckets, held := r.requests[ref]
		if !held {
			r.t.Fatalf("batch %q for no request held", b)
		}
		if r.epochs[ref] > r.nextEpoch {
			r.t.Fatalf("batch %q for a request of epoch %d, before epoch %d was executed", b, r.epochs[ref], r.epochs[ref]-1)
		}
		delete(r.requests, ref)
		txs := strings.Fields(list)
		if len(txs) > p.MaxBatchTxs {
			r.t.Fatalf("batch %q above MaxBatchTxs", b)
		}
		bytes := 0
		for _, s := range txs {
			var id mempool.TxID
			dot := strings.LastIndex(s, ".")
			id.ClientID = s[:dot]
			fmt.Sscan(s[dot+1:], &id.TxNo)
			switch {
			case !r.accepted[id]:
				r.t.Fatalf("batch %q: %s never handed in", b, s)
			case r.out[id]:
				r.t.Fatalf("batch %q: %s out already", b, s)
			case r.executed[id] && !forgot:
				r.t.Fatalf("batch %q: %s executed", b, s)
			}
			inBuckets := false
			for _, bk := range buckets {
				inBuckets = inBuckets || bk == mempool.BucketOf(id, p.NumBuckets)
			}
			if !inBuckets {
				r.t.Fatalf("batch %q: %s not of buckets %v", b, s, buckets)
			}
			r.out[id] = true
			bytes += len(id.ClientID)
		}
		if bytes > p.MaxBatchBytes {
			r.t.Fatalf("batch %q above MaxBatchBytes", b)
		}
	}
}

// bounds checks the mempool's own account of what it holds.
func (r *fuzzRun) bounds() {
	p := r.h.p
	s := r.h.m.Stats()
	if s.HeldTxs > uint64(p.MaxTxs) || s.HeldBytes > uint64(p.MaxBytes) || s.Clients > uint64(p.MaxClients) ||
		s.Requests != uint64(len(r.requests)) || s.HeldTxs != s.Accepted-s.Retired {
		r.t.Fatalf("stats %+v, %d requests held", s, len(r.requests))
	}
}

// drain hands every batch back and asks for all buckets until the mempool
// is empty: nothing it holds is lost. First, once every epoch is executed
// and every timer fired, no request may wait while its buckets hold
// transactions: one asked again in its place is not answered either.
func (r *fuzzRun) drain() {
	r.nextEpoch = 4
	r.apply(epochExecuted(3))
	r.check(r.h.fire())
	for _, ref := range slices.Sorted(maps.Keys(r.requests)) {
		buckets := r.requests[ref]
		delete(r.requests, ref)
		r.apply(cancel(ref))
		r.requests[ref], r.epochs[ref] = buckets, 0
		r.apply(&mempool.RequestBatch{Header: stdtypes.NewHeader(mc.Self), ReplyTo: "availability", Ref: ref, Buckets: buckets})
		if out := r.h.fire(); len(out) != 0 {
			r.t.Fatalf("request %d of buckets %v waited, with every epoch executed and its timer fired, while they held %q", ref, buckets, out)
		}
	}
	for ref := range r.requests {
		delete(r.requests, ref)
		r.apply(cancel(ref))
	}
	r.epochs = map[uint64]stdtypes.EpochNr{} // request(0, ...) is of epoch 0
	for range r.h.p.MaxTxs + 1 {
		if r.h.m.Stats().HeldTxs == 0 {
			return
		}
		var out []mempool.TxID
		for id := range r.out {
			out = append(out, id)
			r.executed[id] = true
		}
		clear(r.out)
		r.apply(executed(out))
		r.check(r.h.fire())
		r.requests[0] = []int{0, 1, 2, 3}
		r.apply(request(0, 0, 1, 2, 3))
	}
	r.t.Fatalf("the mempool holds transactions it does not give out: %+v", r.h.m.Stats())
}
