package loadgen

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Result is the figures of a run, over the transactions submitted after
// the warm-up. Its JSON is what cmd/bench writes.
type Result struct {
	// Mode is "open" or "closed".
	Mode string `json:"mode"`
	// Rate is the open loop's offered rate (transactions/s), and
	// Arrivals its spacing ("poisson" or "uniform").
	Rate     float64 `json:"rate,omitempty"`
	Arrivals string  `json:"arrivals,omitempty"`
	// Clients is the number of clients; Outstanding the closed loop's
	// transactions in flight per client.
	Clients     int `json:"clients"`
	Outstanding int `json:"outstanding,omitempty"`
	// TxBytes is the size of a transaction, if the workload tells it.
	TxBytes int `json:"tx_bytes,omitempty"`
	// DurationSeconds is the measured time, WarmupSeconds the time before
	// it.
	DurationSeconds float64 `json:"duration_s"`
	WarmupSeconds   float64 `json:"warmup_s"`
	// Throughput is the transactions answered, of those submitted in the
	// measured time, per second of it.
	Throughput float64 `json:"throughput_tx_s"`
	Counts
	// Latency is the answered transactions' latency.
	Latency Latency `json:"latency"`
}

// Counts counts what became of the transactions.
type Counts struct {
	// Completed were answered with a result the workload accepted.
	Completed int64 `json:"completed"`
	// Errors failed: the client refused them, or the workload refused
	// their result.
	Errors int64 `json:"errors"`
	// Timeouts were not answered within the load's Timeout.
	Timeouts int64 `json:"timeouts"`
	// Shed are an open loop's arrivals never submitted: more were
	// waiting for a client than the generator holds, or the run ended.
	Shed int64 `json:"shed"`
}

// Latency is a latency distribution's percentiles, in milliseconds.
type Latency struct {
	P50Ms  float64 `json:"p50_ms"`
	P90Ms  float64 `json:"p90_ms"`
	P99Ms  float64 `json:"p99_ms"`
	P999Ms float64 `json:"p999_ms"`
	MaxMs  float64 `json:"max_ms"`
	MeanMs float64 `json:"mean_ms"`
}

// Progress is the figures of a run since the last Progress: of the last
// second for Load.Progress, since the last call for Running.Progress.
type Progress struct {
	// Elapsed is the time since the run started, warm-up included; Warmup
	// tells whether the interval began in the warm-up. Interval is the
	// interval's length.
	Elapsed  time.Duration
	Warmup   bool
	Interval time.Duration
	// TxPerSecond is the transactions answered in the interval
	// (Completed), per second; P50Ms and P99Ms their latency.
	TxPerSecond  float64
	Completed    int64
	P50Ms, P99Ms float64
	// Failed counts the interval's errors and timeouts.
	Failed int64
	// Submitted counts the transactions submitted since the run started,
	// and Total what became of them and of the open loop's arrivals
	// (warm-up included; those in flight are in neither).
	Submitted int64
	Total     Counts
}

func latencyOf(h *hdrhistogram.Histogram) Latency {
	ms := func(micros int64) float64 { return float64(micros) / 1000 }
	return Latency{
		P50Ms: ms(h.ValueAtQuantile(50)), P90Ms: ms(h.ValueAtQuantile(90)), P99Ms: ms(h.ValueAtQuantile(99)),
		P999Ms: ms(h.ValueAtQuantile(99.9)), MaxMs: ms(h.Max()), MeanMs: h.Mean() / 1000,
	}
}
