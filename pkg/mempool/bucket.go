package mempool

import (
	"encoding/binary"
	"fmt"
	"math/bits"
)

// BucketOf returns the bucket of the transaction id among numBuckets (ISS's
// Params.NumBuckets), in [0, numBuckets). Every node must compute the same
// bucket for the same transaction: the batch fetcher drops the transactions
// of a batch outside its leader's buckets. So this function is part of the
// protocol and never changes.
//
// The bucket is a 64-bit FNV-1a hash of the client ID's length (8 bytes,
// big-endian), the client ID's bytes and the transaction number (8 bytes,
// big-endian), mixed by MurmurHash3's finalizer (fmix64) so that its high
// bits depend on every input bit, and reduced to [0, numBuckets) by a
// multiplication's high word. The length prefix keeps ("a", n) and ("a\x00",
// m) apart. It is not a cryptographic hash: a client can choose numbers
// that fall in one bucket, which loads that bucket's leader only with its
// own transactions, bounded per client like any others.
//
// numBuckets must be positive: BucketOf panics otherwise (the number comes
// from the configuration, which ModuleParams.Validate checks).
func BucketOf(id TxID, numBuckets int) int {
	if numBuckets <= 0 {
		panic(fmt.Sprintf("mempool.BucketOf: %d buckets", numBuckets))
	}
	const (
		offset64 = 14695981039346656037
		prime64  = 1099511628211
	)
	h := uint64(offset64)
	var word [8]byte
	binary.BigEndian.PutUint64(word[:], uint64(len(id.ClientID)))
	for _, b := range word {
		h = (h ^ uint64(b)) * prime64
	}
	for i := 0; i < len(id.ClientID); i++ {
		h = (h ^ uint64(id.ClientID[i])) * prime64
	}
	binary.BigEndian.PutUint64(word[:], id.TxNo)
	for _, b := range word {
		h = (h ^ uint64(b)) * prime64
	}
	// fmix64 (MurmurHash3).
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	hi, _ := bits.Mul64(h, uint64(numBuckets))
	return int(hi)
}
