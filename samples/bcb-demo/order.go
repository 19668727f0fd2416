package main

import (
	"fmt"
	"io"
	"maps"
	"slices"

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
// delivered when the leader gives up on it (bcb.ModuleParams.RetainTicks).
// The printer knows from the bcb module's window: while a node has not
// finished instance s, it delivers nothing from s+Window on. So once it
// holds Window deliveries above the gap, the gap will not fill, and it
// says so and moves on. That also bounds what it holds.
type orderedPrinter struct {
	w      io.Writer
	node   stdtypes.NodeID
	leader stdtypes.NodeID
	// window is the bcb module's ModuleParams.Window.
	window uint64
	// next is the lowest sequence number of the leader not printed yet.
	next uint64
	// held are the leader's instances delivered above next, by sequence
	// number: at most window of them.
	held map[uint64]*bcb.Deliver
}

func newOrderedPrinter(w io.Writer, node, leader stdtypes.NodeID, window uint64) *orderedPrinter {
	if window < 1 {
		panic(fmt.Sprintf("orderedPrinter: window %d", window)) // The bcb module's params were validated.
	}
	return &orderedPrinter{w: w, node: node, leader: leader, window: window, held: make(map[uint64]*bcb.Deliver)}
}

// print prints dv now, or holds it until the instances of the leader
// before it are printed.
func (p *orderedPrinter) print(dv *bcb.Deliver) {
	if dv.ID.Leader != p.leader || dv.ID.Seq < p.next {
		// Another leader (only a Byzantine node leads in this demo), or an
		// instance given up as missed: a node never delivers those.
		p.println(dv)
		return
	}
	p.held[dv.ID.Seq] = dv
	p.release()
	if uint64(len(p.held)) >= p.window {
		p.skipGap()
		p.release()
	}
}

// release prints the held deliveries from next on, up to the first gap.
func (p *orderedPrinter) release() {
	for {
		dv, ok := p.held[p.next]
		if !ok {
			return
		}
		delete(p.held, p.next)
		p.println(dv)
		p.next++
	}
}

// skipGap reports the instances from next to the lowest one held as
// missed, and moves next there.
func (p *orderedPrinter) skipGap() {
	low := slices.Min(slices.Collect(maps.Keys(p.held)))
	last := bcb.InstanceID{Leader: p.leader, Seq: low - 1}
	fmt.Fprintf(p.w, "node %s missed %v to %v\n", p.node, bcb.InstanceID{Leader: p.leader, Seq: p.next}, last)
	p.next = low
}

// flush prints the held deliveries, after the instances they wait for are
// reported missed: the node is stopping, so no more will come.
func (p *orderedPrinter) flush() {
	for len(p.held) > 0 {
		p.skipGap()
		p.release()
	}
}

func (p *orderedPrinter) println(dv *bcb.Deliver) {
	fmt.Fprintf(p.w, "node %s delivered %v: %s\n", p.node, dv.ID, printable(dv.Payload))
}
