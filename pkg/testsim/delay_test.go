package testsim_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/testsim"
)

func TestDelays(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const n = 10000
	check := func(name string, d testsim.Delay, lo, hi time.Duration) []time.Duration {
		t.Helper()
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = testsim.Draw(d, r)
			if out[i] < lo || out[i] > hi {
				t.Fatalf("%s: sample %v outside [%v, %v]", name, out[i], lo, hi)
			}
		}
		return out
	}
	check("Fixed", testsim.Fixed(3*time.Millisecond), 3*time.Millisecond, 3*time.Millisecond)
	u := check("Uniform", testsim.Uniform(time.Millisecond, 2*time.Millisecond), time.Millisecond, 2*time.Millisecond)
	var sum time.Duration
	for _, v := range u {
		sum += v
	}
	if mean := sum / n; mean < 1450*time.Microsecond || mean > 1550*time.Microsecond {
		t.Errorf("Uniform(1ms, 2ms): mean %v", mean)
	}
	p := check("Pareto", testsim.Pareto(time.Millisecond, 1.5, time.Second), time.Millisecond, time.Second)
	over10 := 0
	for _, v := range p {
		if v > 10*time.Millisecond {
			over10++
		}
	}
	// P(X > 10 lo) = 10^-1.5, about 3.2%: a heavy tail.
	if over10 < n*2/100 || over10 > n*5/100 {
		t.Errorf("Pareto(1ms, 1.5, 1s): %d of %d samples above 10ms, want about 3%%", over10, n)
	}
	if testsim.Draw(nil, r) != 0 {
		t.Error("Draw(nil) is not 0")
	}
	for name, f := range map[string]func(){
		"Fixed(-1)":       func() { testsim.Fixed(-1) },
		"Uniform(2, 1)":   func() { testsim.Uniform(2, 1) },
		"Uniform(-1, 1)":  func() { testsim.Uniform(-1, 1) },
		"Pareto(0, 1, 1)": func() { testsim.Pareto(0, 1, 1) },
		"Pareto(1, 0, 1)": func() { testsim.Pareto(1, 0, 1) },
		"Pareto(2, 1, 1)": func() { testsim.Pareto(2, 1, 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic", name)
				}
			}()
			f()
		}()
	}
}
