package mempool_test

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// TestBucketOfIsFixed: the buckets of a few transactions, computed once.
// BucketOf is part of the protocol: every node must compute the same, in
// every version; this test fails if the function changes. The values were
// computed from the documentation of BucketOf by a separate implementation
// (in Python), not by BucketOf itself.
func TestBucketOfIsFixed(t *testing.T) {
	for _, tc := range []struct {
		id         mempool.TxID
		numBuckets int
		want       int
	}{
		{mempool.TxID{ClientID: "", TxNo: 0}, 64, 41},
		{mempool.TxID{ClientID: "a", TxNo: 0}, 64, 14},
		{mempool.TxID{ClientID: "a", TxNo: 1}, 64, 30},
		{mempool.TxID{ClientID: "client-17", TxNo: 123456789}, 64, 22},
		{mempool.TxID{ClientID: "client-17", TxNo: 123456789}, 1 << 16, 23422},
		{mempool.TxID{ClientID: "client-17", TxNo: 123456789}, 1, 0},
	} {
		if got := mempool.BucketOf(tc.id, tc.numBuckets); got != tc.want {
			t.Errorf("BucketOf(%+v, %d) = %d, want %d", tc.id, tc.numBuckets, got, tc.want)
		}
	}
}

// TestBucketOfLengthPrefix: a client ID's bytes cannot pass for part of
// the number: ("a", n) and ("a\x00...", m) hash apart.
func TestBucketOfLengthPrefix(t *testing.T) {
	same := 0
	for no := range uint64(1000) {
		a := mempool.BucketOf(mempool.TxID{ClientID: "a", TxNo: no << 8}, 1<<16)
		b := mempool.BucketOf(mempool.TxID{ClientID: "a\x00\x00\x00\x00\x00\x00\x00", TxNo: no}, 1<<16)
		if a == b {
			same++
		}
	}
	if same > 5 {
		t.Fatalf("%d of 1000 in the same bucket", same)
	}
}

// TestBucketOfSpreads: the transactions of many clients, numbered from 0,
// fill the buckets evenly (a χ² test, far from its limit unless the hash
// is broken), and every bucket is in range.
func TestBucketOfSpreads(t *testing.T) {
	for _, n := range []int{3, 64, 1000} {
		counts := make([]int, n)
		const clients, perClient = 200, 100
		for c := range clients {
			id := "client-" + string(rune('A'+c%26)) + string(rune('a'+c/26))
			for no := range uint64(perClient) {
				b := mempool.BucketOf(mempool.TxID{ClientID: id, TxNo: no}, n)
				if b < 0 || b >= n {
					t.Fatalf("bucket %d of %d", b, n)
				}
				counts[b]++
			}
		}
		expected := float64(clients*perClient) / float64(n)
		chi2 := 0.0
		for _, c := range counts {
			chi2 += (float64(c) - expected) * (float64(c) - expected) / expected
		}
		// Mean n−1, standard deviation √(2(n−1)): allow 6 of them.
		if limit := float64(n-1) + 6*math.Sqrt(2*float64(n-1)); chi2 > limit {
			t.Errorf("%d buckets: χ² = %.1f, above %.1f", n, chi2, limit)
		}
	}
}

// TestBucketOfPanicsOnNoBuckets: no bucket is a configuration bug.
func TestBucketOfPanicsOnNoBuckets(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	mempool.BucketOf(mempool.TxID{}, 0)
}

// TestTimerEventsEncode: the mempool's timer events go through the codec
// (the event log records them).
func TestTimerEventsEncode(t *testing.T) {
	td := stdevents.NewTimerDelay("timer", time.Second,
		&mempool.TxsWaited{Header: stdtypes.NewHeader(mc.Self), Arrival: 7},
		&mempool.RequestWaited{Header: stdtypes.NewHeader(mc.Self), Request: 3})
	roundTrip(t, td)
}

// roundTrip checks that ev decodes to itself after the codec encoded it.
func roundTrip(t *testing.T, ev stdtypes.Event) {
	t.Helper()
	data, err := codec.EncodeEvent(ev)
	if err != nil {
		t.Fatal(err)
	}
	back, err := codec.DecodeEvent(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, ev) {
		t.Fatalf("decoded %+v, want %+v", back, ev)
	}
}

// TestWatermarksEncode: Watermarks goes through the codec (the event log
// records it).
func TestWatermarksEncode(t *testing.T) {
	ev := &mempool.Watermarks{Header: stdtypes.NewHeader(mc.Self), Clients: []mempool.ClientWatermark{
		{ClientID: "a", Low: 3, Above: []uint64{5, 9}}, {ClientID: "b", Low: 1 << 40, Above: []uint64{1<<40 + 1}},
	}}
	roundTrip(t, ev)
}
