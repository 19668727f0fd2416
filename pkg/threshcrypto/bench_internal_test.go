package threshcrypto

import (
	"testing"

	"github.com/mirframework/mir/stdtypes"
)

// benchSystem returns node 0 of a 3-of-4 system and the shares of msg.
func benchSystem(b *testing.B, msg []byte) (*BLS, [][]byte) {
	pub, keyShares, err := DealFromSeed(3, 4, []byte("bench"))
	if err != nil {
		b.Fatal(err)
	}
	ids := []stdtypes.NodeID{"0", "1", "2", "3"}
	var c *BLS
	shares := make([][]byte, 4)
	for i := range keyShares {
		ci, err := New(pub, keyShares[i], ids)
		if err != nil {
			b.Fatal(err)
		}
		if shares[i], err = ci.SignShare(msg); err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			c = ci
		}
	}
	return c, shares
}

// forget empties the memory of verified shares.
func (c *BLS) forget() { c.verified = newShareCache(VerifiedShareCacheSize) }

// BenchmarkVerifyShare verifies a share the node has not seen: decoding,
// hashing to G1 and the pairing check.
func BenchmarkVerifyShare(b *testing.B) {
	msg := []byte("a 32-byte digest of a checkpoint")
	c, shares := benchSystem(b, msg)
	b.ReportAllocs()
	for b.Loop() {
		c.forget()
		if err := c.VerifyShare(msg, shares[1], "1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRecoverUnverified recovers 3 of 4 from shares the node has not
// verified: Recover checks each.
func BenchmarkRecoverUnverified(b *testing.B) {
	msg := []byte("a 32-byte digest of a checkpoint")
	c, shares := benchSystem(b, msg)
	b.ReportAllocs()
	for b.Loop() {
		c.forget()
		if _, err := c.Recover(msg, shares[1:]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrimitives measures the parts of the operations, to see where
// the time goes.
func BenchmarkPrimitives(b *testing.B) {
	msg := []byte("a 32-byte digest of a checkpoint")
	c, shares := benchSystem(b, msg)
	b.Run("hash-to-G1", func(b *testing.B) {
		for b.Loop() {
			if _, err := hashToG1(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode-G1", func(b *testing.B) {
		for b.Loop() {
			if _, err := decodeG1(shares[0][2:]); err != nil {
				b.Fatal(err)
			}
		}
	})
	p, _ := decodeG1(shares[1][2:])
	h, _ := hashToG1(msg)
	b.Run("pairing-check", func(b *testing.B) {
		for b.Loop() {
			if !pairingCheck(&p, &h, &c.shareLines[1]) {
				b.Fatal("invalid")
			}
		}
	})
}
