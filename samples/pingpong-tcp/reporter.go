package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/samples/pingpong/protocol"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// reporter is the active module that measures round trips at the edge: it
// stamps wall-clock time on the PingSent and PongReceived events the
// protocol emits and makes a line per pong. It emits no events.
//
// It does no I/O in ApplyEvents, which would hold up the node if standard
// output blocked: lines go to Lines, for main to print, and a line that
// does not fit is dropped and counted.
type reporter struct {
	// lines carries the lines to main.
	lines chan string
	// sentAt holds when each of the latest window pings was sent, by
	// sequence number modulo window. Only ApplyEvents uses it, and the
	// node never runs two at once.
	sentAt []time.Time
	// seqAt holds the sequence number each slot of sentAt is for.
	seqAt []uint64
	// droppedLines counts lines main was too slow to take.
	droppedLines atomic.Uint64
}

// linesCapacity bounds the lines waiting for main to print them.
const linesCapacity = 4096

func newReporter(window uint64) *reporter {
	return &reporter{
		lines:  make(chan string, linesCapacity),
		sentAt: make([]time.Time, window),
		seqAt:  make([]uint64, window),
	}
}

var _ modules.ActiveModule = (*reporter)(nil)

// EventsOut returns nil: the reporter never emits.
func (r *reporter) EventsOut() <-chan *stdtypes.EventList { return nil }

// Lines carries the progress lines, one per pong.
func (r *reporter) Lines() <-chan string { return r.lines }

// ApplyEvents records what the protocol reports.
func (r *reporter) ApplyEvents(_ context.Context, events *stdtypes.EventList) error {
	for _, ev := range events.Slice() {
		now := time.Now()
		switch ev := ev.(type) {
		case *stdevents.Init:
		case *protocol.PingSent:
			slot := ev.Seq % uint64(len(r.sentAt))
			r.sentAt[slot], r.seqAt[slot] = now, ev.Seq
		case *protocol.PongReceived:
			r.pongReceived(ev.From, ev.Seq, now)
		default:
			return fmt.Errorf("reporter: unexpected event %s", stdtypes.TypeName(ev))
		}
	}
	return nil
}

func (r *reporter) pongReceived(from stdtypes.NodeID, seq uint64, now time.Time) {
	slot := seq % uint64(len(r.sentAt))
	rtt := "?"
	if r.seqAt[slot] == seq {
		rtt = now.Sub(r.sentAt[slot]).Round(time.Microsecond).String()
	}
	r.println(fmt.Sprintf("pong from=%s seq=%d rtt=%s", from, seq, rtt))
}

// println hands a line to main, or drops it if main is behind.
func (r *reporter) println(line string) {
	select {
	case r.lines <- line:
	default:
		r.droppedLines.Add(1)
	}
}
