package threshcrypto

import (
	"fmt"
	"math/big"
	"runtime"
	"testing"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

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

// forget empties the memories of verified shares and of hashes.
func (c *BLS) forget() {
	c.verified.reset()
	c.hashes.reset()
}

// BenchmarkVerifyShare verifies a share the node has not seen, of a
// message it has not seen: decoding, hashing to G1 and the pairing check.
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

// BenchmarkVerifyShareHashed verifies a share the node has not seen, of a
// message it has hashed before (signing its own share or verifying
// another's): decoding and the pairing check.
func BenchmarkVerifyShareHashed(b *testing.B) {
	msg := []byte("a 32-byte digest of a checkpoint")
	c, shares := benchSystem(b, msg)
	b.ReportAllocs()
	for b.Loop() {
		c.verified.reset()
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

// BenchmarkVersusLibrary compares hashing to G1 and the scalar
// multiplications of hash.go, ctcurve.go and scalarmul.go with the
// library's general functions they replace, run alternately so that both
// see the same load (speedup-x: the library's time over ours); and
// (constant-time) the constant-time multiplication that signs with the
// variable-time one that signed before, publicScalar.mulPublic, now for
// public scalars only: speedup-x below 1 is the cost of constant time.
func BenchmarkVersusLibrary(b *testing.B) {
	msg := []byte("a 32-byte digest of a checkpoint")
	c, _ := benchSystem(b, msg)
	h, _ := hashToG1(msg)
	var k big.Int
	c.share.secret.BigInt(&k)
	b.Run("hash", func(b *testing.B) {
		pairedInternal(b, "lib", "ours", func() { _, _ = bls.HashToG1(msg, dst) }, func() { _, _ = hashToG1(msg) })
	})
	b.Run("sign", func(b *testing.B) {
		var lib bls.G1Affine
		pairedInternal(b, "lib", "ours", func() { lib.ScalarMultiplication(&h, &k) }, func() { c.secret.mulSecret(&h) })
	})
	var q bls.G1Jac
	q.FromAffine(&h)
	b.Run("constant-time", func(b *testing.B) {
		vartime := newPublicScalar(&k)
		var out bls.G1Affine
		pairedInternal(b, "vartime", "ct", func() {
			r := vartime.mulPublic(&q)
			out.FromJacobian(&r)
		}, func() { c.secret.mulSecret(&h) })
	})
	for _, d := range []int64{3, 5} {
		b.Run(fmt.Sprintf("inverse-%d", d), func(b *testing.B) {
			var inv fr.Element
			inv.SetInt64(d).Inverse(&inv)
			var s big.Int
			inv.BigInt(&s)
			var lib, ours bls.G1Jac
			pairedInternal(b, "lib", "ours", func() { lib.ScalarMultiplication(&q, &s) }, func() { mulInverse(&ours, &q, d) })
		})
	}
}

// pairedInternal runs a and b alternately and reports their times, named
// aName and bName, and a's time over b's, in CPU time of the thread (see
// threadCPU).
func pairedInternal(bm *testing.B, aName, bName string, a, b func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var ta, tb time.Duration
	for bm.Loop() {
		start := threadCPU()
		a()
		mid := threadCPU()
		b()
		tb += threadCPU() - mid
		ta += mid - start
	}
	bm.ReportMetric(float64(ta)/float64(bm.N)/1e3, aName+"-µs")
	bm.ReportMetric(float64(tb)/float64(bm.N)/1e3, bName+"-µs")
	bm.ReportMetric(float64(ta)/float64(tb), "speedup-x")
}
