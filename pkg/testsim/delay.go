package testsim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Delay is a distribution of durations: link latencies, the time a batch
// takes on a node, the delays an adversary adds. Sample must draw its
// randomness from r only and keep no state, so that a run is a function
// of its seed: one Delay value serves every link of every run.
type Delay interface {
	Sample(r *rand.Rand) time.Duration
}

// Fixed returns the distribution that is always d. It panics if d is
// negative.
func Fixed(d time.Duration) Delay {
	if d < 0 {
		panic(fmt.Sprintf("testsim: Fixed(%v): negative delay", d))
	}
	return fixed(d)
}

type fixed time.Duration

func (f fixed) Sample(*rand.Rand) time.Duration { return time.Duration(f) }

func (f fixed) String() string { return fmt.Sprintf("Fixed(%v)", time.Duration(f)) }

// Uniform returns the uniform distribution over [lo, hi]. It panics unless
// 0 <= lo <= hi.
func Uniform(lo, hi time.Duration) Delay {
	if lo < 0 || hi < lo {
		panic(fmt.Sprintf("testsim: Uniform(%v, %v): need 0 <= lo <= hi", lo, hi))
	}
	return uniform{lo: lo, span: uint64(hi-lo) + 1}
}

type uniform struct {
	lo   time.Duration
	span uint64 // hi - lo + 1
}

func (u uniform) Sample(r *rand.Rand) time.Duration {
	return u.lo + time.Duration(r.Uint64N(u.span))
}

func (u uniform) String() string {
	return fmt.Sprintf("Uniform(%v, %v)", u.lo, u.lo+time.Duration(u.span-1))
}

// Pareto returns a heavy-tailed distribution: a Pareto distribution with
// scale lo and shape alpha, P(X > x) = (lo/x)^alpha for x >= lo, cut off at
// hi. Most samples lie near lo and a few far above it, like the latencies
// of a real network: with alpha = 1.5, one sample in 30 exceeds 10·lo. The
// cut-off keeps one sample from stalling a run. It panics unless
// 0 < lo <= hi and alpha > 0.
func Pareto(lo time.Duration, alpha float64, hi time.Duration) Delay {
	if lo <= 0 || hi < lo || !(alpha > 0) {
		panic(fmt.Sprintf("testsim: Pareto(%v, %v, %v): need 0 < lo <= hi and alpha > 0", lo, alpha, hi))
	}
	return pareto{lo: lo, invAlpha: 1 / alpha, hi: hi}
}

type pareto struct {
	lo       time.Duration
	invAlpha float64
	hi       time.Duration
}

func (p pareto) Sample(r *rand.Rand) time.Duration {
	u := 1 - r.Float64() // in (0, 1]
	x := float64(p.lo) / math.Pow(u, p.invAlpha)
	if x >= float64(p.hi) {
		return p.hi
	}
	return time.Duration(x)
}

func (p pareto) String() string {
	return fmt.Sprintf("Pareto(%v, %v, %v)", p.lo, 1/p.invAlpha, p.hi)
}

// Draw returns a sample of d, or 0 for a nil d. A negative sample, which
// no distribution of this package returns, counts as 0: time never goes
// backwards.
func Draw(d Delay, r *rand.Rand) time.Duration {
	if d == nil {
		return 0
	}
	v := d.Sample(r)
	if v < 0 {
		return 0
	}
	return v
}
