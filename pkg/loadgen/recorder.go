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
// submitted in [from, to), or from on if to is zero) for the Result, and
// all of those since the last take for Progress.
type recorder struct {
	start, from, to time.Time

	mu sync.Mutex
	// total is the measured transactions' latencies; window those of the
	// answers since the last take, at lastTake.
	total, window *hdrhistogram.Histogram
	lastTake      time.Time
	// counts counts the measured transactions, all every one.
	counts, all Counts
	// submittedTxs counts the transactions submitted.
	submittedTxs int64
	// windowFailed counts the errors and timeouts since the last take.
	windowFailed int64
}

func newRecorder(start, from, to time.Time) *recorder {
	return &recorder{start: start, from: from, to: to, total: newHistogram(), window: newHistogram(), lastTake: start}
}

// measured tells whether a transaction that arrived at at counts in the
// Result.
func (r *recorder) measured(at time.Time) bool {
	return !at.Before(r.from) && (r.to.IsZero() || at.Before(r.to))
}

// record records the answer of a transaction that arrived at at: its
// latency, or the error it ended with.
func (r *recorder) record(at time.Time, latency time.Duration, err error) {
	micros := min(max(latency.Microseconds(), histMinMicros), histMaxMicros)
	measured := r.measured(at)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.windowFailed++
	} else {
		_ = r.window.RecordValue(micros) // Within the range: no error.
	}
	count(&r.all, err)
	if !measured {
		return
	}
	count(&r.counts, err)
	if err == nil {
		_ = r.total.RecordValue(micros)
	}
}

// count counts an answer that ended with err in c.
func count(c *Counts, err error) {
	switch {
	case errors.Is(err, errTimeout):
		c.Timeouts++
	case err != nil:
		c.Errors++
	default:
		c.Completed++
	}
}

// shed counts n arrivals that were never submitted.
func (r *recorder) shed(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts.Shed += int64(n)
	r.all.Shed += int64(n)
}

// submitted counts a transaction submitted.
func (r *recorder) submitted() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.submittedTxs++
}

// take returns the figures since the last take, at now, and starts the
// next interval.
func (r *recorder) take(now time.Time) Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	lat, completed := latencyOf(r.window), r.window.TotalCount()
	p := Progress{
		Elapsed: now.Sub(r.start), Warmup: r.lastTake.Before(r.from), Interval: now.Sub(r.lastTake),
		Completed: completed, Failed: r.windowFailed, P50Ms: lat.P50Ms, P99Ms: lat.P99Ms,
		Submitted: r.submittedTxs, Total: r.all,
	}
	if p.Interval > 0 {
		p.TxPerSecond = float64(completed) / p.Interval.Seconds()
	}
	r.window.Reset()
	r.windowFailed = 0
	r.lastTake = now
	return p
}

// reportProgress calls the load's Progress every second until the
// returned function is called.
func (r *run) reportProgress() (stop func()) {
	if r.load.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				r.load.Progress(r.rec.take(now))
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// result returns the run's figures, over a measured time of measured.
func (r *run) result(measured time.Duration) Result {
	r.rec.mu.Lock()
	defer r.rec.mu.Unlock()
	l := r.load
	res := Result{
		Mode: l.Mode.String(), Clients: len(r.g.clients),
		DurationSeconds: measured.Seconds(), WarmupSeconds: l.Warmup.Seconds(),
		Counts: r.rec.counts, Latency: latencyOf(r.rec.total),
	}
	if measured > 0 {
		res.Throughput = float64(r.rec.counts.Completed) / measured.Seconds()
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
