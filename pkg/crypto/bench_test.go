package crypto_test

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"testing"

	"github.com/hdevalence/ed25519consensus"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/stdtypes"
)

// The benchmarks compare each operation through the synchronous module
// with the library call it makes, report per-item costs as ns/sig or
// ns/input, and compare the pool's throughput with the synchronous
// module's. Run them with -cpu 2, as on the reference machine.

var benchMsg = []byte("a 32-byte digest of a proposal..")

func benchSetup(b *testing.B, s crypto.Scheme) (*crypto.NodeCrypto, crypto.PrivateKey) {
	b.Helper()
	nodes := testMembers(b, 4, func(int) crypto.Scheme { return s })
	return nodes[0], mustKey(b, s, 0)
}

// validItems returns n valid signatures of distinct messages by the 4
// nodes of benchSetup.
func validItems(b *testing.B, s crypto.Scheme, n int) []crypto.SigItem {
	items := make([]crypto.SigItem, n)
	for i := range items {
		k := mustKey(b, s, i%4)
		msg := fmt.Appendf(nil, "%032d", i)
		sig, err := k.Sign(msg)
		if err != nil {
			b.Fatal(err)
		}
		items[i] = crypto.SigItem{Msg: msg, Sig: sig, Signer: stdtypes.NewNodeIDFromInt(i % 4)}
	}
	return items
}

func perItem(b *testing.B, items int, unit string) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*items), "ns/"+unit)
}

// BenchmarkSign: the library call (crypto/ed25519, or crypto/ecdsa through
// PrivateKey.Sign) against the synchronous module, with 1 and 16 messages
// per request.
func BenchmarkSign(b *testing.B) {
	for _, s := range schemes {
		c, k := benchSetup(b, s)
		b.Run(s.String()+"/direct", func(b *testing.B) {
			b.ReportAllocs()
			if s == crypto.Ed25519 {
				std := k.Signer().(ed25519.PrivateKey)
				for b.Loop() {
					ed25519.Sign(std, benchMsg)
				}
				return
			}
			for b.Loop() {
				if _, err := k.Sign(benchMsg); err != nil {
					b.Fatal(err)
				}
			}
		})
		for _, n := range []int{1, 16} {
			b.Run(fmt.Sprintf("%v/module/%d", s, n), func(b *testing.B) {
				b.ReportAllocs()
				m, _ := crypto.NewModule(c)
				msgs := make([][]byte, n)
				for i := range msgs {
					msgs[i] = benchMsg
				}
				for b.Loop() {
					if _, err := m.ApplyEvents(stdtypes.ListOf(crypto.NewSignRequest("crypto", origin(1), msgs...))); err != nil {
						b.Fatal(err)
					}
				}
				perItem(b, n, "sig")
			})
		}
	}
}

// BenchmarkVerify: one signature, by the library call the module makes
// (ed25519consensus.Verify, ZIP 215; crypto/ed25519.Verify for reference)
// and through the synchronous module.
func BenchmarkVerify(b *testing.B) {
	for _, s := range schemes {
		c, _ := benchSetup(b, s)
		it := validItems(b, s, 1)[0]
		pk, _ := c.PublicKey(it.Signer)
		if s == crypto.Ed25519 {
			std := pk.StdKey().(ed25519.PublicKey)
			b.Run("ed25519/direct-stdlib", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if !ed25519.Verify(std, it.Msg, it.Sig) {
						b.Fatal("invalid")
					}
				}
			})
			b.Run("ed25519/direct", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if !ed25519consensus.Verify(std, it.Msg, it.Sig) {
						b.Fatal("invalid")
					}
				}
			})
		} else {
			b.Run(s.String()+"/direct", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if pk.Verify(it.Msg, it.Sig) != nil {
						b.Fatal("invalid")
					}
				}
			})
		}
		b.Run(s.String()+"/module", func(b *testing.B) {
			b.ReportAllocs()
			m, _ := crypto.NewModule(c)
			for b.Loop() {
				out, err := m.ApplyEvents(stdtypes.ListOf(crypto.NewVerifyRequest("crypto", origin(1), it)))
				if err != nil || !out.Get(0).(*crypto.VerifyResult).AllValid {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerify64: 64 Ed25519 signatures one by one (library calls), as
// one batch (NodeCrypto.VerifyMany), and through the synchronous module
// (one request of 64 items, batched), per signature.
func BenchmarkVerify64(b *testing.B) {
	const n = 64
	c, _ := benchSetup(b, crypto.Ed25519)
	items := validItems(b, crypto.Ed25519, n)
	keys := make([]ed25519.PublicKey, n)
	for i, it := range items {
		pk, _ := c.PublicKey(it.Signer)
		keys[i] = pk.StdKey().(ed25519.PublicKey)
	}
	b.Run("one-by-one-stdlib", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for i, it := range items {
				if !ed25519.Verify(keys[i], it.Msg, it.Sig) {
					b.Fatal("invalid")
				}
			}
		}
		perItem(b, n, "sig")
	})
	b.Run("one-by-one", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for i, it := range items {
				if !ed25519consensus.Verify(keys[i], it.Msg, it.Sig) {
					b.Fatal("invalid")
				}
			}
		}
		perItem(b, n, "sig")
	})
	b.Run("batch", func(b *testing.B) {
		b.ReportAllocs()
		valid := make([]bool, n)
		for b.Loop() {
			c.VerifyMany(items, valid)
		}
		perItem(b, n, "sig")
	})
	b.Run("module", func(b *testing.B) {
		b.ReportAllocs()
		m, _ := crypto.NewModule(c)
		for b.Loop() {
			out, err := m.ApplyEvents(stdtypes.ListOf(crypto.NewVerifyRequest("crypto", origin(1), items...)))
			if err != nil || !out.Get(0).(*crypto.VerifyResult).AllValid {
				b.Fatal(err)
			}
		}
		perItem(b, n, "sig")
	})
	// One bad signature among 64: the batch fails and each is checked.
	bad := append([]crypto.SigItem(nil), items...)
	bad[17].Msg = []byte("tampered")
	b.Run("batch-one-invalid", func(b *testing.B) {
		b.ReportAllocs()
		valid := make([]bool, n)
		for b.Loop() {
			c.VerifyMany(bad, valid)
		}
		perItem(b, n, "sig")
	})
}

// BenchmarkVerifyBatchSize: batch verification per signature as the batch
// grows, which is what chose minBatch and the pool's chunk size.
func BenchmarkVerifyBatchSize(b *testing.B) {
	c, _ := benchSetup(b, crypto.Ed25519)
	for _, n := range []int{2, 4, 8, 16, 32, 64, 128} {
		items := validItems(b, crypto.Ed25519, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			valid := make([]bool, n)
			for b.Loop() {
				c.VerifyMany(items, valid)
			}
			perItem(b, n, "sig")
		})
	}
}

// throughputRequests returns the burst of requests one iteration of the
// throughput benchmarks processes: 32 requests of 64 Ed25519 signatures.
func throughputRequests(b *testing.B) []stdtypes.Event {
	items := validItems(b, crypto.Ed25519, 64)
	reqs := make([]stdtypes.Event, 32)
	for i := range reqs {
		reqs[i] = crypto.NewVerifyRequest("crypto", origin(uint64(i)), items...)
	}
	return reqs
}

// BenchmarkVerifyThroughput: a burst of 32 requests of 64 signatures
// through the synchronous module and through the pool (one worker per
// CPU); the ratio of their sig/s is the pool's speed-up.
func BenchmarkVerifyThroughput(b *testing.B) {
	c, _ := benchSetup(b, crypto.Ed25519)
	reqs := throughputRequests(b)
	total := 32 * 64
	b.Run("sync", func(b *testing.B) {
		b.ReportAllocs()
		m, _ := crypto.NewModule(c)
		for b.Loop() {
			if _, err := m.ApplyEvents(stdtypes.ListOf(reqs...)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "sig/s")
	})
	b.Run("pool", func(b *testing.B) {
		b.ReportAllocs()
		p, _ := crypto.NewPool(c, runner.DefaultPoolParams())
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

// BenchmarkHash: 64 inputs of 1 KiB, directly and through the modules.
func BenchmarkHash(b *testing.B) {
	inputs := make([][][]byte, 64)
	for i := range inputs {
		inputs[i] = [][]byte{make([]byte, 1024)}
	}
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, in := range inputs {
				crypto.Digest(crypto.SHA256, in...)
			}
		}
		perItem(b, len(inputs), "input")
	})
	b.Run("module", func(b *testing.B) {
		b.ReportAllocs()
		h, _ := crypto.NewHasher(crypto.SHA256)
		for b.Loop() {
			if _, err := h.ApplyEvents(stdtypes.ListOf(crypto.NewHashRequest("hasher", origin(1), inputs...))); err != nil {
				b.Fatal(err)
			}
		}
		perItem(b, len(inputs), "input")
	})
	b.Run("pool", func(b *testing.B) {
		b.ReportAllocs()
		p, _ := crypto.NewHashPool(crypto.SHA256, runner.DefaultPoolParams())
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		reqs := make([]stdtypes.Event, 16)
		for i := range reqs {
			reqs[i] = crypto.NewHashRequest("hasher", origin(uint64(i)), inputs...)
		}
		for b.Loop() {
			if err := p.ApplyEvents(ctx, stdtypes.ListOf(reqs...)); err != nil {
				b.Fatal(err)
			}
			for got := 0; got < len(reqs); {
				got += (<-p.EventsOut()).Len()
			}
		}
		perItem(b, len(inputs)*len(reqs), "input")
	})
}
