package mempool_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

var mc = mempool.DefaultModuleConfig()

// testParams are small limits that tests reach quickly, with one bucket
// unless a test asks for more.
func testParams() mempool.ModuleParams {
	p := mempool.DefaultModuleParams()
	p.NumBuckets = 1
	p.MaxTxBytes = 100
	p.MaxClientIDBytes = 10
	p.ClientWindow = 8
	p.MaxTxsPerClient = 4
	p.MaxClients = 4
	p.MaxTxs = 10
	p.MaxBytes = 1000
	p.MaxBatchTxs = 3
	p.MaxBatchBytes = 200
	p.BatchTimeout = time.Second
	p.MaxRequests = 4
	return p
}

// harness drives one mempool and keeps the timers it set, which a test
// fires when it wants.
type harness struct {
	t      testing.TB
	m      *mempool.Module
	p      mempool.ModuleParams
	timers []*stdevents.TimerDelay
}

func newMempool(t testing.TB, edit func(*mempool.ModuleParams)) *harness {
	t.Helper()
	p := testParams()
	if edit != nil {
		edit(&p)
	}
	m, err := mempool.NewModule("0", mc, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, m: m, p: p}
}

// try applies evs and returns the output, the timers taken out of it.
func (h *harness) try(evs ...stdtypes.Event) ([]stdtypes.Event, error) {
	out, err := h.m.ApplyEvents(stdtypes.ListOf(evs...))
	if err != nil {
		return nil, err
	}
	var rest []stdtypes.Event
	for _, ev := range out.Slice() {
		if td, ok := ev.(*stdevents.TimerDelay); ok {
			if td.Dest() != mc.Timer || td.Delay != h.p.BatchTimeout {
				h.t.Fatalf("timer to %q after %v", td.Dest(), td.Delay)
			}
			h.timers = append(h.timers, td)
			continue
		}
		rest = append(rest, ev)
	}
	return rest, nil
}

// apply applies evs, fails the test on an error, and returns the batches
// sent, rendered.
func (h *harness) apply(evs ...stdtypes.Event) []string {
	h.t.Helper()
	out, err := h.try(evs...)
	if err != nil {
		h.t.Fatal(err)
	}
	return render(h.t, out)
}

// fire hands the mempool the events of every timer it set so far, as the
// timer would once BatchTimeout passed, and returns the batches sent.
func (h *harness) fire() []string {
	h.t.Helper()
	var evs []stdtypes.Event
	for _, td := range h.timers {
		evs = append(evs, td.Events...)
	}
	h.timers = nil
	return h.apply(evs...)
}

// render writes each NewBatch as "to/ref: client.no client.no ...".
func render(t testing.TB, out []stdtypes.Event) []string {
	t.Helper()
	var s []string
	for _, ev := range out {
		b, ok := ev.(*mempool.NewBatch)
		if !ok {
			t.Fatalf("unexpected output %T", ev)
		}
		if len(b.Txs) == 0 {
			t.Fatalf("empty batch %d", b.Ref)
		}
		ids := make([]string, len(b.Txs))
		for i, tx := range b.Txs {
			ids[i] = fmt.Sprintf("%s.%d", tx.ClientID, tx.TxNo)
		}
		s = append(s, fmt.Sprintf("%s/%d: %s", b.Dest(), b.Ref, strings.Join(ids, " ")))
	}
	return s
}

// newTxs returns a NewTxs of client's transactions nos, each with a
// 10-byte payload.
func newTxs(client string, nos ...uint64) *mempool.NewTxs {
	ev := &mempool.NewTxs{Header: stdtypes.NewHeader(mc.Self)}
	for _, no := range nos {
		ev.Txs = append(ev.Txs, mempool.Tx{TxID: mempool.TxID{ClientID: client, TxNo: no}, Data: []byte("0123456789")})
	}
	return ev
}

func request(ref uint64, buckets ...int) *mempool.RequestBatch {
	if buckets == nil {
		buckets = []int{0}
	}
	return &mempool.RequestBatch{Header: stdtypes.NewHeader(mc.Self), ReplyTo: "availability", Ref: ref, Buckets: buckets}
}

func ids(client string, nos ...uint64) []mempool.TxID {
	var s []mempool.TxID
	for _, no := range nos {
		s = append(s, mempool.TxID{ClientID: client, TxNo: no})
	}
	return s
}

func executed(txs ...[]mempool.TxID) *mempool.Executed {
	return &mempool.Executed{Header: stdtypes.NewHeader(mc.Self), Txs: slices.Concat(txs...)}
}

func returned(txs ...[]mempool.TxID) *mempool.ReturnTxs {
	return &mempool.ReturnTxs{Header: stdtypes.NewHeader(mc.Self), Txs: slices.Concat(txs...)}
}

func cancel(ref uint64) *mempool.CancelBatch {
	return &mempool.CancelBatch{Header: stdtypes.NewHeader(mc.Self), Ref: ref}
}

// want fails the test if got is not want.
func want(t testing.TB, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("batches:\n got %q\nwant %q", got, want)
	}
}
