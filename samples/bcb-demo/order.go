package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/mirframework/mir/pkg/bcb"
	"github.com/mirframework/mir/stdtypes"
)

// orderedPrinter prints one node's deliveries, those of the leader's
// instances in the order of their sequence numbers. Consistent broadcast
// runs its instances independently, and the worker-pool crypto module
// answers in the order its work completes, so a node may deliver instance
// 1 before instance 0: the printer holds 1 until 0 comes.
//
// A gap can also be for good: a node forgets an instance it never
// delivered when the leader gives up on it (bcb.ModuleParams.RetainTicks),
// and a node that restarts never gets the instances the leader finished
// before. So the printer waits for a gap at most gapTimeout, then says the
// instances in it were missed and goes on. It also knows from the bcb
// module's window: while a node has not finished instance s, it delivers
// nothing from s+Window on, so once it holds Window deliveries above the
// gap, the gap will not fill. That bounds what it holds.
//
// A leader that restarts numbers its instances from 0 again, in a new
// incarnation (bcb.InstanceID): the printer says so, and starts again
// from 0.
type orderedPrinter struct {
	w      io.Writer
	node   stdtypes.NodeID
	leader stdtypes.NodeID
	// window is the bcb module's ModuleParams.Window.
	window     uint64
	gapTimeout time.Duration
	// incarnation is the leader's incarnation whose instances the printer
	// prints; known tells whether it has seen one.
	incarnation uint64
	known       bool
	// next is the lowest sequence number of the leader not printed yet.
	next uint64
	// held are the leader's instances delivered above next, by sequence
	// number: at most window of them; heldSince is when the printer began
	// to wait for next with something held.
	held      map[uint64]*bcb.Deliver
	heldSince time.Time
}

func newOrderedPrinter(w io.Writer, node, leader stdtypes.NodeID, window uint64, gapTimeout time.Duration) *orderedPrinter {
	if window < 1 || gapTimeout <= 0 {
		panic(fmt.Sprintf("orderedPrinter: window %d, gap timeout %v", window, gapTimeout)) // Validated before.
	}
	return &orderedPrinter{w: w, node: node, leader: leader, window: window, gapTimeout: gapTimeout, held: make(map[uint64]*bcb.Deliver)}
}

// print prints dv now, or holds it until the instances of the leader
// before it are printed. now is the time, for gapTimeout.
func (p *orderedPrinter) print(dv *bcb.Deliver, now time.Time) {
	if dv.ID.Leader != p.leader {
		p.println(dv) // Another leader: only a Byzantine node leads in this demo.
		return
	}
	switch {
	case !p.known:
		p.known, p.incarnation = true, dv.ID.Incarnation
	case dv.ID.Incarnation > p.incarnation:
		// No more of the former incarnation will come: the bcb module
		// forgets it.
		p.flush()
		fmt.Fprintf(p.w, "node %s: leader %s restarted (incarnation %d); its instances start from 0 again\n",
			p.node, p.leader, dv.ID.Incarnation)
		p.incarnation, p.next = dv.ID.Incarnation, 0
	case dv.ID.Incarnation < p.incarnation:
		p.println(dv) // The bcb module delivers none once it saw a later one.
		return
	}
	if dv.ID.Seq < p.next {
		p.println(dv) // Reported missed already; it came late after all.
		return
	}
	if len(p.held) == 0 {
		p.heldSince = now
	}
	p.held[dv.ID.Seq] = dv
	p.release(now)
	if uint64(len(p.held)) >= p.window {
		p.skipGap()
		p.release(now)
	}
}

// expire reports the gap the printer waits for as missed if it has waited
// gapTimeout, and prints what follows it.
func (p *orderedPrinter) expire(now time.Time) {
	if len(p.held) > 0 && now.Sub(p.heldSince) >= p.gapTimeout {
		p.skipGap()
		p.release(now)
	}
}

// release prints the held deliveries from next on, up to the first gap.
func (p *orderedPrinter) release(now time.Time) {
	moved := false
	for {
		dv, ok := p.held[p.next]
		if !ok {
			break
		}
		delete(p.held, p.next)
		p.println(dv)
		p.next++
		moved = true
	}
	if moved {
		p.heldSince = now // A new gap, if anything is held.
	}
}

// skipGap reports the instances from next to the lowest one held as
// missed, and moves next there.
func (p *orderedPrinter) skipGap() {
	low := slices.Min(slices.Collect(maps.Keys(p.held)))
	fmt.Fprintf(p.w, "node %s missed %s/%d to %s/%d\n", p.node, p.leader, p.next, p.leader, low-1)
	p.next = low
}

// flush prints the held deliveries, after the instances they wait for are
// reported missed: no more will come.
func (p *orderedPrinter) flush() {
	for len(p.held) > 0 {
		p.skipGap()
		p.release(time.Time{})
	}
}

// println prints a delivery. The leader's instances are numbered within
// its incarnation, which the printer announces when it changes.
func (p *orderedPrinter) println(dv *bcb.Deliver) {
	fmt.Fprintf(p.w, "node %s delivered %s/%d: %s\n", p.node, dv.ID.Leader, dv.ID.Seq, printable(dv.Payload))
}
