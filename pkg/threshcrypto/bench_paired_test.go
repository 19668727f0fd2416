package threshcrypto_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/mirframework/mir/internal/benchutil"
	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/pkg/threshcrypto"
	"github.com/mirframework/mir/stdtypes"
)

// BenchmarkModuleOverhead compares the synchronous module with direct
// calls, for one item per request.
func BenchmarkModuleOverhead(b *testing.B) {
	nodes := system(b, 3, 4, "bench")
	c := nodes[0]
	m, _ := threshcrypto.NewModule(c)
	sig, err := c.Recover(benchMsg, signShares(b, nodes, benchMsg))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("sign-share", func(b *testing.B) {
		benchutil.Paired(b, func() {
			c.ForgetHashes()
			if _, err := c.SignShare(benchMsg); err != nil {
				b.Fatal(err)
			}
		}, func() {
			c.ForgetHashes()
			if _, err := m.ApplyEvents(stdtypes.ListOf(threshcrypto.NewSignShareRequest("tc", origin(1), benchMsg))); err != nil {
				b.Fatal(err)
			}
		}, "overhead-%")
	})
	b.Run("verify-full", func(b *testing.B) {
		item := threshcrypto.FullItem{Msg: benchMsg, Sig: sig}
		benchutil.Paired(b, func() {
			c.ForgetHashes()
			if err := c.VerifyFull(benchMsg, sig); err != nil {
				b.Fatal(err)
			}
		}, func() {
			c.ForgetHashes()
			if _, err := m.ApplyEvents(stdtypes.ListOf(threshcrypto.NewVerifyFullRequest("tc", origin(1), item))); err != nil {
				b.Fatal(err)
			}
		}, "overhead-%")
	})
}

// BenchmarkPoolSpeedup compares the synchronous module and the pool on 16
// requests of 4 full signatures to verify.
func BenchmarkPoolSpeedup(b *testing.B) {
	nodes := system(b, 3, 4, "bench")
	c := nodes[0]
	items := make([]threshcrypto.FullItem, 4)
	for i := range items {
		msg := fmt.Appendf(nil, "message %d", i)
		sig, err := c.Recover(msg, signShares(b, nodes, msg))
		if err != nil {
			b.Fatal(err)
		}
		items[i] = threshcrypto.FullItem{Msg: msg, Sig: sig}
	}
	reqs := make([]stdtypes.Event, 16)
	for i := range reqs {
		reqs[i] = threshcrypto.NewVerifyFullRequest("tc", origin(uint64(i)), items...)
	}
	m, _ := threshcrypto.NewModule(c)
	p, _ := threshcrypto.NewPool(c, runner.DefaultPoolParams())
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
