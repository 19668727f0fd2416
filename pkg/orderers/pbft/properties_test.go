package pbft_test

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// sbProperties checks the orderers' deliveries (iss.SBDeliver) on every
// event, ignoring the faulty nodes':
//
//   - agreement: no two correct nodes deliver different outcomes for a
//     slot;
//   - integrity: a node delivers each slot at most once per incarnation,
//     only slots of the segment it names, and a value only if the slot's
//     leader (when correct) proposed it;
//
// and, as a liveness property, termination: every correct node that is up
// delivered every slot of every segment in its current incarnation.
type sbProperties struct {
	// segs are the segments; nil until CheckLiveness if the deployment's
	// size is not known in advance (scenarios): the checks that need them
	// wait for it, and the leader of segment i is node i (simSegments).
	segs   []iss.Segment
	faulty []stdtypes.NodeID
	// seen holds the slots each incarnation of a node delivered; first
	// the first outcome a correct node delivered, per slot.
	seen  map[incarnation]map[stdtypes.SeqNr]bool
	first map[stdtypes.SeqNr]*iss.SBDeliver
}

type incarnation struct {
	node stdtypes.NodeID
	inc  int
}

var (
	_ testsim.PerRun   = (*sbProperties)(nil)
	_ testsim.Liveness = (*sbProperties)(nil)
)

func newSBProperties(segs []iss.Segment, faulty []stdtypes.NodeID) *sbProperties {
	return &sbProperties{
		segs:   segs,
		faulty: slices.Clone(faulty),
		seen:   map[incarnation]map[stdtypes.SeqNr]bool{},
		first:  map[stdtypes.SeqNr]*iss.SBDeliver{},
	}
}

func (p *sbProperties) Name() string { return "sequenced broadcast" }

func (p *sbProperties) NewRun() testsim.Property { return newSBProperties(p.segs, p.faulty) }

func (p *sbProperties) Observe(o *testsim.Observation) error {
	ev, ok := o.Event.(*iss.SBDeliver)
	if !ok || slices.Contains(p.faulty, o.Node) {
		return nil
	}
	key := incarnation{o.Node, o.Incarnation}
	if p.seen[key] == nil {
		p.seen[key] = map[stdtypes.SeqNr]bool{}
	}
	switch {
	case p.seen[key][ev.SeqNr]:
		return fmt.Errorf("integrity: node %s (incarnation %d) delivered slot %d twice", o.Node, o.Incarnation, ev.SeqNr)
	case p.segs != nil && (ev.Segment < 0 || ev.Segment >= len(p.segs) || !slices.Contains(p.segs[ev.Segment].SeqNrs, ev.SeqNr)):
		return fmt.Errorf("integrity: node %s delivered slot %d in segment %d", o.Node, ev.SeqNr, ev.Segment)
	}
	p.seen[key][ev.SeqNr] = true
	leader := stdtypes.NewNodeIDFromInt(ev.Segment)
	if !ev.Aborted && len(ev.Value) > 0 && !slices.Contains(p.faulty, leader) && !proposedBySomeIncarnation(ev.SeqNr, ev.Value) {
		return fmt.Errorf("integrity: node %s delivered %q in slot %d, which its leader never proposed", o.Node, ev.Value, ev.SeqNr)
	}
	if f := p.first[ev.SeqNr]; f == nil {
		p.first[ev.SeqNr] = ev
	} else if f.Aborted != ev.Aborted || !bytes.Equal(f.Value, ev.Value) {
		return fmt.Errorf("agreement: slot %d delivered as %s and, by node %s, as %s", ev.SeqNr, outcomeOf(f), o.Node, outcomeOf(ev))
	}
	return nil
}

// CheckLiveness checks termination.
func (p *sbProperties) CheckLiveness(nodes []testsim.NodeStatus) error { return p.complete(nodes) }

// complete tells why not every correct node that is up delivered every
// slot in its current incarnation, or nil if they all did.
func (p *sbProperties) complete(nodes []testsim.NodeStatus) error {
	if p.segs == nil {
		ids := make([]stdtypes.NodeID, len(nodes))
		for i, n := range nodes {
			ids[i] = n.ID
		}
		p.segs = simSegments(membership.EqualVoters(ids...))
	}
	total := 0
	for _, s := range p.segs {
		total += len(s.SeqNrs)
	}
	for _, n := range nodes {
		if !n.Up || slices.Contains(p.faulty, n.ID) {
			continue
		}
		if got := len(p.seen[incarnation{n.ID, n.Incarnation}]); got < total {
			return fmt.Errorf("termination: node %s (incarnation %d) delivered %d of %d slots", n.ID, n.Incarnation, got, total)
		}
	}
	return nil
}

// outcomeOf describes a delivery's outcome.
func outcomeOf(ev *iss.SBDeliver) string {
	if ev.Aborted {
		return "⊥"
	}
	return fmt.Sprintf("%q", ev.Value)
}
