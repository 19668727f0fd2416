package mempool_test

import (
	"testing"

	"github.com/mirframework/mir/pkg/mempool"
)

// TestBucketOf pins the bucket function: every node of a deployment must
// compute the same buckets, so a change to it is a change of protocol.
func TestBucketOf(t *testing.T) {
	for _, tc := range []struct {
		id         mempool.TxID
		numBuckets int
		want       int
	}{
		{mempool.TxID{ClientID: "a", TxNo: 0}, 1, 0},
		{mempool.TxID{ClientID: "a", TxNo: 0}, 64, 12},
		{mempool.TxID{ClientID: "a", TxNo: 1}, 64, 56},
		{mempool.TxID{ClientID: "", TxNo: 7}, 1 << 16, 36749},
	} {
		if got := mempool.BucketOf(tc.id, tc.numBuckets); got != tc.want {
			t.Errorf("BucketOf(%+v, %d) = %d, want %d", tc.id, tc.numBuckets, got, tc.want)
		}
	}
}

// TestBucketOfSpreads checks that a client's consecutive transactions fall
// in every bucket: each leader gets a share of every client's load.
func TestBucketOfSpreads(t *testing.T) {
	const numBuckets = 16
	seen := make(map[int]int)
	for no := range uint64(1000) {
		b := mempool.BucketOf(mempool.TxID{ClientID: "client", TxNo: no}, numBuckets)
		if b < 0 || b >= numBuckets {
			t.Fatalf("bucket %d of transaction %d is outside [0, %d)", b, no, numBuckets)
		}
		seen[b]++
	}
	for b := range numBuckets {
		if seen[b] < 1000/numBuckets/2 {
			t.Errorf("bucket %d got %d of 1000 transactions", b, seen[b])
		}
	}
}
