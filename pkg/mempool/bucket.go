package mempool

import (
	"crypto/sha256"
	"encoding/binary"
)

// BucketOf returns the bucket of ISS's request hash space that transaction
// id falls in, out of numBuckets: the first 8 bytes of
// SHA-256(uvarint(len(ClientID)) || ClientID || uint64be(TxNo)), read as a
// big-endian integer, modulo numBuckets. It is the one bucket function of
// Trantor: the mempool queues by it, availability cuts a leader's batches
// by it, and the batch fetcher drops a transaction whose bucket is not its
// slot's leader's, so all of them must agree. The length prefix keeps
// ("a", n) and ("a\x00…", m) apart; SHA-256 spreads a client's consecutive
// numbers over all buckets, so that every leader gets a share of every
// client's load. numBuckets must be positive.
func BucketOf(id TxID, numBuckets int) int {
	var buf [binary.MaxVarintLen64 + 8]byte
	h := sha256.New()
	h.Write(binary.AppendUvarint(buf[:0], uint64(len(id.ClientID))))
	h.Write([]byte(id.ClientID))
	h.Write(binary.BigEndian.AppendUint64(buf[:0], id.TxNo))
	var sum [sha256.Size]byte
	return int(binary.BigEndian.Uint64(h.Sum(sum[:0])[:8]) % uint64(numBuckets))
}
