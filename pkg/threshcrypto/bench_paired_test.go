package threshcrypto_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/pkg/threshcrypto"
	"github.com/mirframework/mir/stdtypes"
)

// paired runs a and b alternately b.N times and reports b's time relative
// to a's, as in package crypto's paired benchmarks: overhead-% is b's
// extra time, speedup-x is a's time over b's.
func paired(bm *testing.B, a, b func(), metric string) {
	var ta, tb time.Duration
	for bm.Loop() {
		start := time.Now()
		a()
		mid := time.Now()
		b()
		tb += time.Since(mid)
		ta += mid.Sub(start)
	}
	switch metric {
	case "overhead-%":
		bm.ReportMetric(100*(float64(tb)/float64(ta)-1), metric)
	case "speedup-x":
		bm.ReportMetric(float64(ta)/float64(tb), metric)
	}
}

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
		paired(b, func() {
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
		paired(b, func() {
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
	paired(b, func() {
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
