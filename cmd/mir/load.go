package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mirframework/mir/pkg/trantor/client"
	"github.com/mirframework/mir/samples/kvstore"
)

// load submits Put operations to the cluster at a fixed rate (open loop:
// the rate does not wait for results, up to the client's bound on
// outstanding transactions of each client) and measures each one's latency, from
// submission to the result f+1 replicas agreed on.
type load struct {
	// clients take turns: transaction n goes to clients[n%len(clients)].
	clients  []*client.Client
	ratePerS int

	mu sync.Mutex
	// window holds the latencies of the transactions completed since the
	// last take, in microseconds.
	window    *hdrhistogram.Histogram
	completed uint64 // Since the start.
	failed    uint64 // Completed with an error (or refused by the store).
	submitted uint64
}

// Histogram bounds: latencies from 1 µs to 10 minutes (a longer one is
// recorded as 10 minutes), with 3 significant digits.
const (
	minLatencyMicros = 1
	maxLatencyMicros = int64(10 * time.Minute / time.Microsecond)
	latencyDigits    = 3
)

// loadKeys is how many keys the load writes, round robin: the store's
// state stays bounded (a key holds the last value put).
const loadKeys = 1024

// loadTick is how often the load submits what is due: often enough that
// transactions leave evenly, seldom enough that an idle cluster costs
// nothing.
const loadTick = 10 * time.Millisecond

func newLoad(clients []*client.Client, ratePerS int) *load {
	return &load{clients: clients, ratePerS: ratePerS, window: newLatencyHistogram()}
}

func newLatencyHistogram() *hdrhistogram.Histogram {
	return hdrhistogram.New(minLatencyMicros, maxLatencyMicros, latencyDigits)
}

// run submits transactions until ctx ends: at each tick, those due since
// the start at the rate. When a client is at its bound on outstanding
// transactions, SubmitAsync waits, and the load falls behind the rate.
func (l *load) run(ctx context.Context) {
	if l.ratePerS <= 0 {
		return
	}
	t := time.NewTicker(loadTick)
	defer t.Stop()
	start := time.Now()
	var sent uint64
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			due := uint64(now.Sub(start).Seconds() * float64(l.ratePerS))
			for ; sent < due; sent++ {
				if err := l.submit(ctx, sent); err != nil {
					return // ctx ended, or the client closed.
				}
			}
		}
	}
}

// submit submits the n-th transaction, and records its latency once it
// completes.
func (l *load) submit(ctx context.Context, n uint64) error {
	key := fmt.Sprintf("k%04d", n%loadKeys)
	tx, err := kvstore.Op{Kind: kvstore.Put, Key: []byte(key), Value: []byte(fmt.Sprint(n))}.Encode()
	if err != nil {
		return err // Cannot happen: a short key and value.
	}
	start := time.Now()
	call, err := l.clients[n%uint64(len(l.clients))].SubmitAsync(ctx, tx)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.submitted++
	l.mu.Unlock()
	// One goroutine per outstanding transaction, at most the client's
	// MaxOutstanding.
	go func() {
		<-call.Done()
		res, err := call.Result()
		if err == nil {
			var r kvstore.Result
			if r, err = kvstore.DecodeResult(res); err == nil && r.Status != kvstore.OK {
				err = fmt.Errorf("store: %v", r.Status)
			}
		}
		l.record(time.Since(start), err)
	}()
	return nil
}

func (l *load) record(latency time.Duration, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.completed++
	if err != nil {
		l.failed++
		return
	}
	_ = l.window.RecordValue(min(latency.Microseconds(), maxLatencyMicros)) // In range: never fails.
}

// loadStatus is what the load did: in total, and in the last window.
type loadStatus struct {
	ratePerS                     int
	submitted, completed, failed uint64
	// windowTxs completed in the window, with these latencies.
	windowTxs uint64
	p50, p99  time.Duration
}

// take returns the status and starts a new window.
func (l *load) take() loadStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := loadStatus{
		ratePerS: l.ratePerS, submitted: l.submitted, completed: l.completed, failed: l.failed,
		windowTxs: uint64(l.window.TotalCount()),
		p50:       time.Duration(l.window.ValueAtQuantile(50)) * time.Microsecond,
		p99:       time.Duration(l.window.ValueAtQuantile(99)) * time.Microsecond,
	}
	l.window.Reset()
	return s
}
