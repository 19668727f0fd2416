package threshcrypto_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/pkg/threshcrypto"
	"github.com/mirframework/mir/stdtypes"
)

// Benchmarks of the figures in the issue: sign a share, verify a share,
// recover 3 of 4, verify a full signature, directly and through the
// synchronous module, and the pool's throughput. Unless a name says
// -hashed, each operation is on a message the node has not hashed before:
// it forgets the hashes it remembers. Verifying a share by itself, without
// the memory of verified shares, is in bench_internal_test.go.

var benchMsg = []byte("a 32-byte digest of a checkpoint")

// BenchmarkSignShare signs a message the node has not hashed before
// (direct, module), and one it has (direct-hashed).
func BenchmarkSignShare(b *testing.B) {
	c := system(b, 3, 4, "bench")[0]
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.ForgetHashes()
			if _, err := c.SignShare(benchMsg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("direct-hashed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.SignShare(benchMsg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("module", func(b *testing.B) {
		b.ReportAllocs()
		m, _ := threshcrypto.NewModule(c)
		for b.Loop() {
			c.ForgetHashes()
			if _, err := m.ApplyEvents(stdtypes.ListOf(threshcrypto.NewSignShareRequest("tc", origin(1), benchMsg))); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRecover recovers from shares the node has verified before (the
// usual case), for 3 of 4 and for larger systems, and from shares it has
// not, which costs a pairing check per share.
func BenchmarkRecover(b *testing.B) {
	for _, tn := range [][2]int{{3, 4}, {5, 7}, {11, 16}, {21, 31}} {
		th, n := tn[0], tn[1]
		b.Run(fmt.Sprintf("%d-of-%d", th, n), func(b *testing.B) {
			nodes := system(b, th, n, "bench")
			shares := signShares(b, nodes, benchMsg)
			c := nodes[0]
			// The last t shares: for 3 of 4, indices 2, 3, 4, whose
			// Lagrange coefficients are integers; see also 1, 2, 4 below.
			subset := shares[n-th:]
			for i, s := range subset {
				if err := c.VerifyShare(benchMsg, s, stdtypes.NewNodeIDFromInt(n-th+i)); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Recover(benchMsg, subset); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("3-of-4/indices-1-2-4", func(b *testing.B) {
		nodes := system(b, 3, 4, "bench")
		shares := signShares(b, nodes, benchMsg)
		c := nodes[0]
		subset := [][]byte{shares[0], shares[1], shares[3]}
		for _, i := range []int{0, 1, 3} {
			if err := c.VerifyShare(benchMsg, shares[i], stdtypes.NewNodeIDFromInt(i)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Recover(benchMsg, subset); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("3-of-4/module", func(b *testing.B) {
		nodes := system(b, 3, 4, "bench")
		shares := signShares(b, nodes, benchMsg)
		c := nodes[0]
		for i, s := range shares[1:] {
			if err := c.VerifyShare(benchMsg, s, stdtypes.NewNodeIDFromInt(i+1)); err != nil {
				b.Fatal(err)
			}
		}
		m, _ := threshcrypto.NewModule(c)
		item := threshcrypto.RecoverItem{Msg: benchMsg, Shares: shares[1:]}
		b.ReportAllocs()
		for b.Loop() {
			out, err := m.ApplyEvents(stdtypes.ListOf(threshcrypto.NewRecoverRequest("tc", origin(1), item)))
			if err != nil || !out.Get(0).(*threshcrypto.RecoverResult).OK[0] {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyFull verifies a full signature of a message the node has
// not hashed before (direct, module), and of one it has (direct-hashed).
func BenchmarkVerifyFull(b *testing.B) {
	nodes := system(b, 3, 4, "bench")
	c := nodes[0]
	sig, err := c.Recover(benchMsg, signShares(b, nodes, benchMsg))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c.ForgetHashes()
			if err := c.VerifyFull(benchMsg, sig); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("direct-hashed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := c.VerifyFull(benchMsg, sig); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("module", func(b *testing.B) {
		b.ReportAllocs()
		m, _ := threshcrypto.NewModule(c)
		item := threshcrypto.FullItem{Msg: benchMsg, Sig: sig}
		for b.Loop() {
			c.ForgetHashes()
			out, err := m.ApplyEvents(stdtypes.ListOf(threshcrypto.NewVerifyFullRequest("tc", origin(1), item)))
			if err != nil || !out.Get(0).(*threshcrypto.VerifyFullResult).AllValid {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkVerifyFullThroughput: 16 requests of 4 full signatures through
// the synchronous module and through the pool.
func BenchmarkVerifyFullThroughput(b *testing.B) {
	nodes := system(b, 3, 4, "bench")
	c := nodes[0]
	reqs := make([]stdtypes.Event, 16)
	items := make([]threshcrypto.FullItem, 4)
	for i := range items {
		msg := fmt.Appendf(nil, "message %d", i)
		sig, err := c.Recover(msg, signShares(b, nodes, msg))
		if err != nil {
			b.Fatal(err)
		}
		items[i] = threshcrypto.FullItem{Msg: msg, Sig: sig}
	}
	for i := range reqs {
		reqs[i] = threshcrypto.NewVerifyFullRequest("tc", origin(uint64(i)), items...)
	}
	total := len(reqs) * len(items)
	b.Run("sync", func(b *testing.B) {
		m, _ := threshcrypto.NewModule(c)
		for b.Loop() {
			if _, err := m.ApplyEvents(stdtypes.ListOf(reqs...)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "sig/s")
	})
	b.Run("pool", func(b *testing.B) {
		p, _ := threshcrypto.NewPool(c, runner.DefaultPoolParams())
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		for b.Loop() {
			if err := p.ApplyEvents(ctx, stdtypes.ListOf(reqs...)); err != nil {
				b.Fatal(err)
			}
			for got := 0; got < len(reqs); {
				got += (<-p.EventsOut()).Len()
			}
		}
		b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "sig/s")
	})
}
