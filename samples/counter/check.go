package counter

import (
	"fmt"

	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Monotonic is the property the counters promise, checked on every event
// of a simulation: a node never sends a count it sent already, or a lower
// one, in any of its incarnations; and the count a restarted node
// recovers is at least the highest it had sent. It is PerRun: one value
// can check run after run.
func Monotonic() testsim.Property { return &monotonic{} }

type monotonic struct {
	// sent holds each node's highest count sent, over its incarnations.
	sent map[stdtypes.NodeID]uint64
}

func (p *monotonic) Name() string { return "monotonic" }

// NewRun returns the property with the state of a run that has not
// started (testsim.PerRun).
func (p *monotonic) NewRun() testsim.Property { return &monotonic{} }

// Observe checks the counts a node sends (what it hands its transport)
// and those it recovers.
func (p *monotonic) Observe(o *testsim.Observation) error {
	if p.sent == nil {
		p.sent = make(map[stdtypes.NodeID]uint64)
	}
	switch ev := o.Event.(type) {
	case *stdevents.SendMessage:
		msg, ok := ev.Msg.(*CountMsg)
		if !ok {
			return nil
		}
		if last := p.sent[o.Node]; msg.Value <= last {
			return fmt.Errorf("node %s (incarnation %d) sent count %d after count %d", o.Node, o.Incarnation, msg.Value, last)
		}
		p.sent[o.Node] = msg.Value
	case *Counted:
		// Only the WAL module hands a Counted to the counter.
		if last := p.sent[o.Node]; ev.Value < last {
			return fmt.Errorf("node %s (incarnation %d) recovered count %d, but had sent count %d", o.Node, o.Incarnation, ev.Value, last)
		}
	}
	return nil
}
