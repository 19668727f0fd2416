package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/samples/pingpong/protocol"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// reporter is the active module that measures round trips at the edge: it
// stamps wall-clock time on the PingSent and PongReceived events the
// protocol emits, makes a progress line per pong, and closes Done when the
// protocol reports Finished. It emits no events.
//
// The stamps are taken when the node hands the reporter its events, a
// little after the protocol emitted them. Both ends of a round trip wait
// the same way as long as the reporter is idle when they come, so its
// ApplyEvents does no I/O: progress lines go to Lines, for main to print.
// Each stamp still includes the time the reporter's goroutine waits to be
// scheduled. When that exceeds the round trip itself (tens of
// microseconds in one process), a Ping and its Pong reach the reporter
// together and the round trip measures close to zero: the minimum is the
// least trustworthy figure of the summary.
type reporter struct {
	count int // Pongs expected, for progress lines.
	done  chan struct{}
	// lines carries progress lines to main. Sending never blocks: a line
	// that does not fit is dropped, which costs only progress output.
	lines chan string

	mu sync.Mutex // Guards what follows: the node's worker writes, main reads.
	// sentAt holds when each outstanding ping was sent, for at most
	// maxOutstanding pings, like the protocol's own window.
	sentAt         map[uint64]time.Time
	maxOutstanding uint64
	pingsSent      int
	rtts           []time.Duration
	finished       bool
}

// linesCapacity bounds the progress lines waiting for main to print them.
const linesCapacity = 1024

func newReporter(count int, maxOutstanding uint64) *reporter {
	return &reporter{
		count:          count,
		done:           make(chan struct{}),
		lines:          make(chan string, linesCapacity),
		sentAt:         make(map[uint64]time.Time),
		maxOutstanding: maxOutstanding,
	}
}

var _ modules.ActiveModule = (*reporter)(nil)

// EventsOut returns nil: the reporter never emits.
func (r *reporter) EventsOut() <-chan *stdtypes.EventList { return nil }

// Done is closed when the protocol has all its pongs.
func (r *reporter) Done() <-chan struct{} { return r.done }

// Lines carries the progress lines, one per pong.
func (r *reporter) Lines() <-chan string { return r.lines }

// ApplyEvents records and prints what the protocol reports.
func (r *reporter) ApplyEvents(_ context.Context, events *stdtypes.EventList) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, ev := range events.Slice() {
		now := time.Now()
		switch ev := ev.(type) {
		case *stdevents.Init:
		case *protocol.PingSent:
			r.pingSent(ev.Seq, now)
		case *protocol.PongReceived:
			r.pongReceived(ev.Seq, now)
		case *protocol.Finished:
			if !r.finished {
				r.finished = true
				close(r.done)
			}
		default:
			return fmt.Errorf("reporter: unexpected event %s", stdtypes.TypeName(ev))
		}
	}
	return nil
}

func (r *reporter) pingSent(seq uint64, now time.Time) {
	r.pingsSent++
	r.sentAt[seq] = now
	if seq > r.maxOutstanding {
		delete(r.sentAt, seq-r.maxOutstanding)
	}
}

func (r *reporter) pongReceived(seq uint64, now time.Time) {
	sent, ok := r.sentAt[seq]
	if !ok {
		// The protocol only reports pongs of pings it remembers, in the
		// same window: this is a bug, but of a demo's bookkeeping.
		r.println(fmt.Sprintf("pong seq=%d: no record of its ping", seq))
		return
	}
	delete(r.sentAt, seq)
	rtt := now.Sub(sent)
	r.rtts = append(r.rtts, rtt)
	r.println(fmt.Sprintf("pong %d/%d seq=%d rtt=%v", len(r.rtts), r.count, seq, rtt.Round(time.Microsecond)))
}

// println hands a progress line to main, or drops it if main is behind.
func (r *reporter) println(line string) {
	select {
	case r.lines <- line:
	default:
	}
}

// summary is what the reporter measured.
type summary struct {
	PingsSent, PongsReceived int
	// RTT statistics; zero if no pong arrived.
	Min, Median, P99, Max time.Duration
}

// Summary returns what the reporter has measured so far.
func (r *reporter) Summary() summary {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := summary{PingsSent: r.pingsSent, PongsReceived: len(r.rtts)}
	if len(r.rtts) == 0 {
		return s
	}
	sorted := slices.Sorted(slices.Values(r.rtts))
	s.Min, s.Max = sorted[0], sorted[len(sorted)-1]
	s.Median = percentile(sorted, 50)
	s.P99 = percentile(sorted, 99)
	return s
}

// percentile returns the p-th percentile (0 < p <= 100) of sorted, a
// non-empty ascending slice, by the nearest-rank method: the smallest
// value with at least p percent of the values at or below it.
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n), in integers.
	return sorted[max(rank, 1)-1]
}
