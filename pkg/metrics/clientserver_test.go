package metrics

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/trantor/client"
	"github.com/mirframework/mir/stdtypes"
)

// Every counter of client.ServerMetrics is a family of its own with its
// value: a field the server adds fails here until it is exported.
func TestClientServerCounters(t *testing.T) {
	var m client.ServerMetrics
	v := reflect.ValueOf(&m).Elem()
	if v.NumField() != len(clientServerCounters) {
		t.Fatalf("client.ServerMetrics has %d fields, the collector exports %d", v.NumField(), len(clientServerCounters))
	}
	for i := range v.NumField() {
		v.Field(i).SetUint(uint64(i + 1))
	}
	src := &fixedSource{s: mir.NodeStats{Reports: map[stdtypes.ModuleID]any{"clients": ClientServerStats{ServerMetrics: m}}}}
	got := scrape(t, NewCollector("0", src))
	var values []float64
	for name, value := range got {
		if strings.HasPrefix(name, "mir_client_server_") && strings.HasSuffix(name, `_total{module="clients",node="0"}`) {
			values = append(values, value)
		}
	}
	slices.Sort(values)
	for i, value := range values {
		if value != float64(i+1) {
			t.Fatalf("client server counters %v, want 1 to %d, each field's value once", values, v.NumField())
		}
	}
	if len(values) != v.NumField() {
		t.Errorf("%d client server counters, want %d", len(values), v.NumField())
	}
}

func txID(client string, n uint64) mempool.TxID { return mempool.TxID{ClientID: client, TxNo: n} }

func txsOf(ids ...mempool.TxID) []mempool.Tx {
	var txs []mempool.Tx
	for _, id := range ids {
		txs = append(txs, mempool.Tx{TxID: id})
	}
	return txs
}

// doneAt records the results of ids at at.
func doneAt(tm *txTimer, at time.Time, ids ...mempool.TxID) {
	tm.done(at, len(ids), func(i int) mempool.TxID { return ids[i] })
}

// The timer measures from a transaction's first arrival to its result,
// once, into the bucket of its latency.
func TestTxTimer(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var tm txTimer
	tm.reset(t0)
	a, b, c := txID("a", 0), txID("a", 1), txID("b", 0)
	tm.arrived(t0, txsOf(a, b))
	tm.arrived(t0.Add(5*time.Millisecond), txsOf(a, c)) // a again: its first arrival counts.
	doneAt(&tm, t0.Add(10*time.Millisecond), a, c)
	doneAt(&tm, t0.Add(2*time.Second), b)
	doneAt(&tm, t0.Add(3*time.Second), a, txID("never", 0)) // Recorded already; never arrived.
	s := tm.stats()
	want := map[float64]uint64{0.005: 1, 0.01: 1, 2: 1} // c 5 ms, a 10 ms, b 2 s.
	var total uint64
	for i, n := range s.LatencyCounts {
		total += n
		if i < len(clientLatencyBounds) && n != want[clientLatencyBounds[i]] {
			t.Errorf("bucket le %v: %d, want %d", clientLatencyBounds[i], n, want[clientLatencyBounds[i]])
		}
	}
	if total != 3 || s.LatencySum != 2015*time.Millisecond {
		t.Errorf("%d timed, sum %v; want 3, 2.015s", total, s.LatencySum)
	}
	if len(tm.cur)+len(tm.prev) != 0 {
		t.Errorf("%d entries left", len(tm.cur)+len(tm.prev))
	}
	// Beyond every bound: the last bucket.
	tm.arrived(t0, txsOf(txID("slow", 0)))
	doneAt(&tm, t0.Add(45*time.Second), txID("slow", 0))
	if s := tm.stats(); s.LatencyCounts[len(clientLatencyBounds)] != 1 {
		t.Errorf("a 45 s latency is not in the last bucket: %v", s.LatencyCounts)
	}
}

// At most maxTimedTxs are timed per generation; a transaction with no
// result is forgotten after timedAge to twice that, and counted.
func TestTxTimerBounds(t *testing.T) {
	t0 := time.Unix(1000, 0)
	var tm txTimer
	tm.reset(t0)
	var ids []mempool.TxID
	for i := range maxTimedTxs + 3 {
		ids = append(ids, txID("c", uint64(i)))
	}
	tm.arrived(t0, txsOf(ids...))
	if s := tm.stats(); s.Untimed != 3 || len(tm.cur) != maxTimedTxs {
		t.Fatalf("untimed %d, timed %d; want 3, %d", s.Untimed, len(tm.cur), maxTimedTxs)
	}
	// A generation later, the first ones are still timed (prev)...
	t1 := t0.Add(timedAge)
	tm.arrived(t1, txsOf(txID("d", 0), ids[0])) // ids[0] again: still timed from t0.
	doneAt(&tm, t1, ids[0])
	if s := tm.stats(); s.Expired != 0 || s.LatencySum != timedAge || len(tm.prev) != maxTimedTxs-1 {
		t.Fatalf("expired %d, sum %v, prev %d", s.Expired, s.LatencySum, len(tm.prev))
	}
	// ...and one more later they are dropped.
	tm.arrived(t1.Add(timedAge), nil)
	if s := tm.stats(); s.Expired != maxTimedTxs-1 || len(tm.prev) != 1 || len(tm.cur) != 0 {
		t.Errorf("expired %d, prev %d, cur %d; want %d, 1, 0", s.Expired, len(tm.prev), len(tm.cur), maxTimedTxs-1)
	}
}

// The latency counts become a histogram at ClientLatencyBounds, with the
// reasons of untimed transactions.
func TestClientServerHistogram(t *testing.T) {
	var s ClientServerStats
	s.LatencyCounts[0], s.LatencyCounts[3], s.LatencyCounts[len(s.LatencyCounts)-1] = 2, 1, 1
	s.LatencySum, s.Untimed, s.Expired = 50*time.Second, 4, 5
	src := &fixedSource{s: mir.NodeStats{Reports: map[stdtypes.ModuleID]any{"clients": s}}}
	h, families := gatherHistogram(t, NewCollector("0", src), "mir_client_server_latency_seconds")
	if h.GetSampleCount() != 4 || h.GetSampleSum() != 50 {
		t.Errorf("count %d, sum %v; want 4, 50", h.GetSampleCount(), h.GetSampleSum())
	}
	bounds := ClientLatencyBounds()
	if len(h.GetBucket()) != len(bounds) {
		t.Fatalf("%d buckets, want %d", len(h.GetBucket()), len(bounds))
	}
	for k, b := range h.GetBucket() {
		want := uint64(2)
		if k >= 3 {
			want = 3
		}
		if b.GetUpperBound() != bounds[k] || b.GetCumulativeCount() != want {
			t.Errorf("bucket %d: le %v count %d; want le %v count %d", k, b.GetUpperBound(), b.GetCumulativeCount(), bounds[k], want)
		}
	}
	got := samples(families)
	for name, v := range map[string]float64{
		`mir_client_server_untimed_transactions_total{module="clients",node="0",reason="full"}`:    4,
		`mir_client_server_untimed_transactions_total{module="clients",node="0",reason="expired"}`: 5,
	} {
		if got[name] != v {
			t.Errorf("%s = %v, want %v", name, got[name], v)
		}
	}
	// The bounds are ascending, and a copy.
	if !slices.IsSorted(bounds) {
		t.Errorf("bounds %v not ascending", bounds)
	}
	bounds[0] = 99
	if ClientLatencyBounds()[0] == 99 {
		t.Error("ClientLatencyBounds returns the package's array")
	}
}
