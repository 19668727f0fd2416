package threshcrypto

import (
	"flag"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"
	"time"

	bls "github.com/consensys/gnark-crypto/ecc/bls12-381"
	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
)

// A timing test in the manner of dudect (Reparaz, Balasch and Verbauwhede,
// "Dude, is my code constant time?", 2017): it times many multiplications
// by secret scalars of two classes, a fixed scalar and fresh random ones,
// interleaved at random, and asks Welch's t-test whether the two classes
// take different times. For signing it times mulSecret, the part of
// SignShare that computes on the key share (hashing the message and
// encoding the signature work on public values). The raw times are tested, and again cropped at
// 100 percentiles (which drops the interruptions, most of the noise), and
// their squared deviations (second order). Times are the CPU time of the
// thread on Linux (see threadCPU), which leaves out the time other
// processes take.
//
// dudect reads |t| > 4.5 as a possible leak and |t| > 10 as a probable
// one. In CI, on a shared machine of two cores, the test runs for
// dudectCIDuration per multiplication and fails above dudectCIThreshold,
// 10. By hand, on a quiet machine, run it long against dudect's 4.5:
//
//	go test -run TestDudect -v -dudect.duration=10m -dudect.threshold=4.5 ./pkg/threshcrypto
//
// The test must be able to fail: it also times the variable-time
// multiplication that signing used before (publicScalar.mulPublic, still
// used with public scalars) with the same classes, for a shorter while,
// and checks that it finds that leak.

var (
	dudectDuration = flag.Duration("dudect.duration", dudectCIDuration,
		"how long TestDudect times each constant-time multiplication; minutes or hours by hand")
	dudectThreshold = flag.Float64("dudect.threshold", dudectCIThreshold,
		"the largest |t| TestDudect accepts; 4.5 for a long run on a quiet machine")
)

const (
	dudectCIDuration  = time.Second
	dudectCIThreshold = 10
	// dudectLeakyDuration is how long the variable-time multiplication is
	// timed: its leak shows at once.
	dudectLeakyDuration = 300 * time.Millisecond
	// dudectPercentiles is the number of cropped tests, as in dudect.
	dudectPercentiles = 100
	// dudectBatch is the number of measurements between two checks of
	// the clock; the first batch only sets the crop thresholds.
	dudectBatch = 200
	// dudectMinSamples is the fewest samples per class for a test to
	// count, as dudect ignores the tests that have few.
	dudectMinSamples = 100
)

// The fixed classes: the scalar 1, whose digits are all zero but the
// lowest (the multiplication adds the identity almost everywhere), and a
// scalar whose halves k1 = 2^127 and k2 = 2^126 have one bit each.
func dudectFixedScalars() []struct {
	name string
	k    fr.Element
} {
	var one, sparse fr.Element
	one.SetOne()
	k := new(big.Int).Lsh(big.NewInt(1), 126)
	k.Mul(k, &lambda).Add(k, new(big.Int).Lsh(big.NewInt(1), 127))
	sparse.SetBigInt(k)
	return []struct {
		name string
		k    fr.Element
	}{{"one", one}, {"sparse-halves", sparse}}
}

func TestDudect(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector slows memory accesses down: times would mean nothing")
	}
	h, err := hashToG1([]byte("dudect"))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for _, fc := range dudectFixedScalars() {
		fixed := fc.k
		t.Run("sign/"+fc.name, func(t *testing.T) {
			fixedS := *newSecretScalar(&fixed)
			res := dudect(*dudectDuration, rng, func(class int) secretScalar {
				if class == 0 {
					return fixedS
				}
				k := randomScalar(rng)
				return *newSecretScalar(&k)
			}, func(s *secretScalar) { s.mulSecret(&h) })
			t.Logf("%v", res)
			if res.maxT > *dudectThreshold {
				t.Errorf("signing time depends on the key share: |t| = %.1f > %.1f (%v)", res.maxT, *dudectThreshold, res)
			}
		})
		t.Run("vartime/"+fc.name, func(t *testing.T) {
			var hj bls.G1Jac
			hj.FromAffine(&h)
			fixedS := newPublicScalar(fixed.BigInt(new(big.Int)))
			res := dudect(dudectLeakyDuration, rng, func(class int) *publicScalar {
				if class == 0 {
					return fixedS
				}
				k := randomScalar(rng)
				return newPublicScalar(k.BigInt(new(big.Int)))
			}, func(s **publicScalar) { (*s).mulPublic(&hj) })
			t.Logf("%v", res)
			if res.maxT <= dudectCIThreshold {
				t.Errorf("the test does not find the leak of the variable-time multiplication: |t| = %.1f (%v)", res.maxT, res)
			}
		})
	}
	t.Run("public-key", func(t *testing.T) {
		fixed := dudectFixedScalars()[0].k
		res := dudect(*dudectDuration/2, rng, func(class int) fr.Element {
			if class == 0 {
				return fixed
			}
			return randomScalar(rng)
		}, func(k *fr.Element) { mulSecretG2Base(k) })
		t.Logf("%v", res)
		if res.maxT > *dudectThreshold {
			t.Errorf("the time of making a public key depends on the secret: |t| = %.1f > %.1f (%v)", res.maxT, *dudectThreshold, res)
		}
	})
}

func randomScalar(rng *rand.Rand) fr.Element {
	var b [64]byte
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return scalarFromBytes(b[:])
}

// dudectResult is the largest |t| of the tests of a run, and which test
// gave it.
type dudectResult struct {
	maxT     float64
	test     string
	samples  int
	duration time.Duration
}

func (r dudectResult) String() string {
	return fmt.Sprintf("max |t| %.1f in the %s test, %d samples in %v", r.maxT, r.test, r.samples, r.duration.Round(time.Millisecond))
}

// dudect times run on inputs of classes drawn at random, for about d,
// and returns the largest |t| of its tests. It makes the inputs of a
// batch (input(class)) before it times any, and copies each to the same
// variable before timing run on it, so that making an input, and where
// it lies in memory, is the same for both classes.
func dudect[In any](d time.Duration, rng *rand.Rand, input func(class int) In, run func(*In)) dudectResult {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// A collection during a measurement would be noise: none, for the
	// short while of the test.
	runtime.GC()
	defer debug.SetGCPercent(debug.SetGCPercent(-1))

	times := make([]float64, dudectBatch)
	classes := make([]int, dudectBatch)
	inputs := make([]In, dudectBatch)
	var cur In
	measure := func() {
		for i := range inputs {
			classes[i] = rng.IntN(2)
			inputs[i] = input(classes[i])
		}
		for i := range times {
			cur = inputs[i]
			start := threadCPU()
			run(&cur)
			times[i] = float64(threadCPU() - start)
		}
	}
	// The first batch warms up and sets the crop thresholds:
	// the percentiles 1 - 0.5^(10 (i+1) / 100) of its times, as dudect.
	measure()
	sorted := slices.Clone(times)
	slices.Sort(sorted)
	crops := make([]float64, dudectPercentiles)
	for i := range crops {
		p := 1 - math.Pow(0.5, 10*float64(i+1)/dudectPercentiles)
		crops[i] = sorted[int(p*float64(len(sorted)-1))]
	}
	// tests[0] is the raw times, tests[1:len(crops)+1] the cropped ones,
	// the last one the second order of the raw times.
	tests := make([]welch, len(crops)+2)
	second := &tests[len(tests)-1]
	samples := 0
	start := time.Now()
	for time.Since(start) < d {
		measure()
		for i, x := range times {
			c := classes[i]
			tests[0].push(x, c)
			for j, limit := range crops {
				if x < limit {
					tests[j+1].push(x, c)
				}
			}
			if tests[0].n[0] > 1 && tests[0].n[1] > 1 {
				dev := x - tests[0].mean[c]
				second.push(dev*dev, c)
			}
		}
		samples += len(times)
	}
	res := dudectResult{samples: samples, duration: time.Since(start)}
	for i := range tests {
		if tests[i].n[0] < dudectMinSamples || tests[i].n[1] < dudectMinSamples {
			continue
		}
		if t := math.Abs(tests[i].t()); t > res.maxT || res.test == "" {
			res.maxT = t
			res.test = testName(i, len(tests))
		}
	}
	return res
}

func testName(i, n int) string {
	switch {
	case i == 0:
		return "raw"
	case i == n-1:
		return "second-order"
	default:
		return fmt.Sprintf("cropped-%d", i)
	}
}

// welch is Welch's t-test between two classes, with the running means
// and sums of squared deviations of Welford's method.
type welch struct {
	n, mean, m2 [2]float64
}

func (w *welch) push(x float64, class int) {
	w.n[class]++
	delta := x - w.mean[class]
	w.mean[class] += delta / w.n[class]
	w.m2[class] += delta * (x - w.mean[class])
}

// t returns Welch's t statistic.
func (w *welch) t() float64 {
	v0 := w.m2[0] / (w.n[0] - 1)
	v1 := w.m2[1] / (w.n[1] - 1)
	return (w.mean[0] - w.mean[1]) / math.Sqrt(v0/w.n[0]+v1/w.n[1])
}
