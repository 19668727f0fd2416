package crypto_test

import (
	"context"
	"crypto/ed25519"
	"testing"

	"github.com/hdevalence/ed25519consensus"

	"github.com/mirframework/mir/internal/benchutil"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/stdtypes"
)

// BenchmarkModuleOverhead compares the synchronous module with the library
// calls it makes, on requests of 1 and 16 items: overhead-% is the
// module's extra time.
func BenchmarkModuleOverhead(b *testing.B) {
	c, k := benchSetup(b, crypto.Ed25519)
	std := k.Signer().(ed25519.PrivateKey)
	m, _ := crypto.NewModule(c)
	items := validItems(b, crypto.Ed25519, 16)
	keys := make([]ed25519.PublicKey, len(items))
	for i, it := range items {
		pk, _ := c.PublicKey(it.Signer)
		keys[i] = pk.StdKey().(ed25519.PublicKey)
	}
	for _, n := range []int{1, 16} {
		msgs := make([][]byte, n)
		for i := range msgs {
			msgs[i] = benchMsg
		}
		b.Run("sign-ed25519/"+itoa(n), func(b *testing.B) {
			benchutil.Paired(b, func() {
				for _, msg := range msgs {
					ed25519.Sign(std, msg)
				}
			}, func() {
				if _, err := m.ApplyEvents(stdtypes.ListOf(crypto.NewSignRequest("crypto", origin(1), msgs...))); err != nil {
					b.Fatal(err)
				}
			}, "overhead-%")
		})
	}
	// One signature: the module makes the single-signature call.
	b.Run("verify-ed25519/1", func(b *testing.B) {
		benchutil.Paired(b, func() {
			if !ed25519consensus.Verify(keys[0], items[0].Msg, items[0].Sig) {
				b.Fatal("invalid")
			}
		}, func() {
			if _, err := m.ApplyEvents(stdtypes.ListOf(crypto.NewVerifyRequest("crypto", origin(1), items[0]))); err != nil {
				b.Fatal(err)
			}
		}, "overhead-%")
	})
	// Sixteen: the module verifies them as one batch, as VerifyMany does.
	b.Run("verify-ed25519/16", func(b *testing.B) {
		valid := make([]bool, len(items))
		benchutil.Paired(b, func() {
			c.VerifyMany(items, valid)
		}, func() {
			if _, err := m.ApplyEvents(stdtypes.ListOf(crypto.NewVerifyRequest("crypto", origin(1), items...))); err != nil {
				b.Fatal(err)
			}
		}, "overhead-%")
	})
	// Against the standard library's verification one by one.
	b.Run("verify-ed25519/1-vs-stdlib", func(b *testing.B) {
		benchutil.Paired(b, func() {
			if !ed25519.Verify(keys[0], items[0].Msg, items[0].Sig) {
				b.Fatal("invalid")
			}
		}, func() {
			if _, err := m.ApplyEvents(stdtypes.ListOf(crypto.NewVerifyRequest("crypto", origin(1), items[0]))); err != nil {
				b.Fatal(err)
			}
		}, "overhead-%")
	})
}

// BenchmarkPoolSpeedup compares the synchronous module and the pool on the
// same burst of 32 requests of 64 Ed25519 signatures: speedup-x is the
// synchronous module's time over the pool's.
func BenchmarkPoolSpeedup(b *testing.B) {
	c, _ := benchSetup(b, crypto.Ed25519)
	reqs := throughputRequests(b)
	m, _ := crypto.NewModule(c)
	p, _ := crypto.NewPool(c, runner.DefaultPoolParams())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	benchutil.Paired(b, func() {
		if _, err := m.ApplyEvents(stdtypes.ListOf(reqs...)); err != nil {
			b.Fatal(err)
		}
	}, func() {
		if err := p.ApplyEvents(ctx, stdtypes.ListOf(reqs...)); err != nil {
			b.Fatal(err)
		}
		for got := 0; got < len(reqs); {
			got += (<-p.EventsOut()).Len()
		}
	}, "speedup-x")
}

// BenchmarkBatchGain compares 64 Ed25519 signatures verified one by one
// (ed25519consensus.Verify, the same rules) and as one batch: speedup-x is
// how many times cheaper the batch is per signature.
func BenchmarkBatchGain(b *testing.B) {
	c, _ := benchSetup(b, crypto.Ed25519)
	items := validItems(b, crypto.Ed25519, 64)
	keys := make([]ed25519.PublicKey, len(items))
	for i, it := range items {
		pk, _ := c.PublicKey(it.Signer)
		keys[i] = pk.StdKey().(ed25519.PublicKey)
	}
	valid := make([]bool, len(items))
	b.Run("vs-zip215", func(b *testing.B) {
		benchutil.Paired(b, func() {
			for i, it := range items {
				ed25519consensus.Verify(keys[i], it.Msg, it.Sig)
			}
		}, func() { c.VerifyMany(items, valid) }, "speedup-x")
	})
	b.Run("vs-stdlib", func(b *testing.B) {
		benchutil.Paired(b, func() {
			for i, it := range items {
				ed25519.Verify(keys[i], it.Msg, it.Sig)
			}
		}, func() { c.VerifyMany(items, valid) }, "speedup-x")
	})
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
