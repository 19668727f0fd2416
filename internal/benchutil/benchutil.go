// Package benchutil holds what several packages' benchmarks share.
package benchutil

import (
	"testing"
	"time"
)

// Paired runs a and b alternately bm.N times and reports b's time relative
// to a's: as a percentage above 100 (metric "overhead-%") or as a's time
// over b's ("speedup-x"). Each iteration times both sides, one right after
// the other: on a machine whose load from other work changes by the
// second, this compares like with like where two separate benchmarks, run
// a minute apart, would not.
func Paired(bm *testing.B, a, b func(), metric string) {
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
	default:
		bm.Fatalf("benchutil.Paired: unknown metric %q", metric)
	}
}
