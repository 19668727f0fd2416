package loadgen

import (
	"errors"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// The histograms' range and precision: latencies from 1 µs to an hour
// (more than any Timeout a run would use; longer ones are recorded as an
// hour), to 3 significant digits, in about 200 KiB per histogram.
const (
	histMinMicros = 1
	histMaxMicros = int64(time.Hour / time.Microsecond)
	histDigits    = 3
)

func newHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(histMinMicros, histMaxMicros, histDigits)
}

// recorder collects the answers of a run: the measured ones (those
// submitted in [from, to)) for the Result, and all of the last second's
// for Progress.
type recorder struct {
	from, to time.Time

	mu sync.Mutex
	// total is the measured transactions' latencies; second the last
	// second's.
	total, second *hdrhistogram.Histogram
	counts        Counts
	// secondErrors counts the last second's errors and timeouts.
	secondErrors int64
}

func newRecorder(from, to time.Time) *recorder {
	return &recorder{from: from, to: to, total: newHistogram(), second: newHistogram()}
}

// record records the answer of a transaction that arrived at at: its
// latency, or the error it ended with.
func (r *recorder) record(at time.Time, latency time.Duration, err error) {
	micros := min(max(latency.Microseconds(), histMinMicros), histMaxMicros)
	measured := !at.Before(r.from) && at.Before(r.to)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.secondErrors++
	} else {
		_ = r.second.RecordValue(micros) // Within the range: no error.
	}
	if !measured {
		return
	}
	switch {
	case errors.Is(err, errTimeout):
		r.counts.Timeouts++
	case err != nil:
		r.counts.Errors++
	default:
		r.counts.Completed++
		_ = r.total.RecordValue(micros)
	}
}

// shed counts n arrivals that were never submitted.
func (r *recorder) shed(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts.Shed += int64(n)
}

// takeSecond returns the last second's figures and starts the next
// second.
func (r *recorder) takeSecond() (latency Latency, completed, failed int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	latency, completed, failed = latencyOf(r.second), r.second.TotalCount(), r.secondErrors
	r.second.Reset()
	r.secondErrors = 0
	return latency, completed, failed
}

// reportProgress calls the load's Progress every second until the
// returned function is called.
func (r *run) reportProgress(start time.Time) (stop func()) {
	if r.load.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		last := start
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				lat, completed, failed := r.rec.takeSecond()
				r.load.Progress(Progress{
					Elapsed: now.Sub(start), Warmup: last.Before(r.rec.from),
					TxPerSecond: float64(completed) / now.Sub(last).Seconds(), Failed: failed,
					P50Ms: lat.P50Ms, P99Ms: lat.P99Ms,
				})
				last = now
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// result returns the run's figures.
func (r *run) result() Result {
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	l := r.load
	res := Result{
		Mode: l.Mode.String(), Clients: len(r.g.clients),
		DurationSeconds: l.Duration.Seconds(), WarmupSeconds: l.Warmup.Seconds(),
		Counts: r.rec.counts, Latency: latencyOf(r.rec.total),
		Throughput: float64(r.rec.counts.Completed) / l.Duration.Seconds(),
	}
	if l.Mode == OpenLoop {
		res.Rate, res.Arrivals = l.Rate, l.Arrivals.String()
	} else {
		res.Outstanding = l.Outstanding
	}
	if w, ok := l.Workload.(interface{ SizeBytes() int }); ok {
		res.TxBytes = w.SizeBytes()
	}
	return res
}
