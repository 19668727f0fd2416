package testsim

import (
	"fmt"
	"strings"

	"github.com/mirframework/mir/stdtypes"
)

// Item is something a protocol is asked to deliver, or delivers: a
// broadcast message, a request to order.
type Item struct {
	// ID names the item: a broadcast instance, a request ID. It is unique
	// across the run: two submissions with the same ID are the same item.
	ID string
	// Origin is the node that submitted the item, as the delivering node
	// believes; empty if the protocol does not know.
	Origin stdtypes.NodeID
	// Value is the item's content, compared by agreement and validity.
	Value string
}

// Delivery is implemented by the events through which a protocol announces
// that its node delivered an item, such as a broadcast's Deliver event to
// the application module. The ready checkers look at the events that
// implement it and ignore the rest. A delivery counts when the node
// dispatches it to its destination module, so the node needs a module
// there (modules.NullPassive will do).
type Delivery interface {
	stdtypes.Event
	DeliveredItem() Item
}

// Submission is implemented by the events that ask a protocol to deliver
// an item, such as a Broadcast request injected into the origin node. The
// item's Origin is ignored: it is the node that dispatches the event.
type Submission interface {
	stdtypes.Event
	SubmittedItem() Item
}

// faultySet is the set of Byzantine nodes a checker ignores.
type faultySet map[stdtypes.NodeID]bool

func newFaultySet(faulty []stdtypes.NodeID) faultySet {
	set := make(faultySet, len(faulty))
	for _, id := range faulty {
		set[id] = true
	}
	return set
}

// BroadcastProperties returns the properties of a reliable broadcast, for
// a protocol whose events implement Delivery and Submission: Agreement,
// NoDuplication, Validity and Termination. Like every ready checker, they
// are PerRun: each run is checked by properties of its own, so the slice
// can be handed to run after run. The faulty nodes are Byzantine:
// what they deliver is not checked, what they submit need not be
// delivered. Add TotalOrder for a protocol that orders deliveries.
func BroadcastProperties(faulty ...stdtypes.NodeID) []Property {
	return []Property{Agreement(faulty...), NoDuplication(faulty...), Validity(faulty...), Termination(faulty...)}
}

// Agreement is violated when two correct nodes deliver different values
// for the same item ID. Its state holds one entry per item delivered.
func Agreement(faulty ...stdtypes.NodeID) Property {
	return newAgreement(newFaultySet(faulty))
}

func newAgreement(faulty faultySet) *agreement {
	return &agreement{faulty: faulty, first: make(map[string]firstDelivery)}
}

type agreement struct {
	faulty faultySet
	first  map[string]firstDelivery
}

type firstDelivery struct {
	node  stdtypes.NodeID
	value string
}

func (p *agreement) Name() string { return "agreement" }

// NewRun makes Agreement a PerRun property.
func (p *agreement) NewRun() Property { return newAgreement(p.faulty) }

func (p *agreement) Observe(o *Observation) error {
	d, ok := o.Event.(Delivery)
	if !ok || p.faulty[o.Node] {
		return nil
	}
	item := d.DeliveredItem()
	prev, ok := p.first[item.ID]
	if !ok {
		p.first[item.ID] = firstDelivery{node: o.Node, value: item.Value}
		return nil
	}
	if prev.value != item.Value {
		return fmt.Errorf("node %s delivered %q for item %q, node %s delivered %q",
			o.Node, item.Value, item.ID, prev.node, prev.value)
	}
	return nil
}

// NoDuplication is violated when a correct node delivers the same item ID
// twice in one incarnation. A restarted node starts afresh: without a
// write-ahead log it cannot remember what it delivered. Its state holds
// the IDs each node delivered in its current incarnation.
func NoDuplication(faulty ...stdtypes.NodeID) Property {
	return newNoDuplication(newFaultySet(faulty))
}

func newNoDuplication(faulty faultySet) *noDuplication {
	return &noDuplication{faulty: faulty, nodes: make(map[stdtypes.NodeID]*deliveredSet)}
}

type noDuplication struct {
	faulty faultySet
	nodes  map[stdtypes.NodeID]*deliveredSet
}

type deliveredSet struct {
	incarnation int
	ids         map[string]struct{}
}

func (p *noDuplication) Name() string { return "no duplication" }

// NewRun makes NoDuplication a PerRun property.
func (p *noDuplication) NewRun() Property { return newNoDuplication(p.faulty) }

func (p *noDuplication) Observe(o *Observation) error {
	d, ok := o.Event.(Delivery)
	if !ok || p.faulty[o.Node] {
		return nil
	}
	set := p.nodes[o.Node]
	if set == nil || set.incarnation != o.Incarnation {
		set = &deliveredSet{incarnation: o.Incarnation, ids: make(map[string]struct{})}
		p.nodes[o.Node] = set
	}
	id := d.DeliveredItem().ID
	if _, dup := set.ids[id]; dup {
		return fmt.Errorf("node %s delivered item %q twice", o.Node, id)
	}
	set.ids[id] = struct{}{}
	return nil
}

// Validity is violated when a correct node delivers an item whose origin
// is a correct node that never submitted it, or submitted another value.
// Items from faulty or unknown origins are not checked. Its state holds
// one entry per item submitted.
func Validity(faulty ...stdtypes.NodeID) Property {
	return newValidity(newFaultySet(faulty))
}

func newValidity(faulty faultySet) *validity {
	return &validity{faulty: faulty, submitted: make(map[string]Item)}
}

type validity struct {
	faulty    faultySet
	submitted map[string]Item
}

func (p *validity) Name() string { return "validity" }

// NewRun makes Validity a PerRun property.
func (p *validity) NewRun() Property { return newValidity(p.faulty) }

func (p *validity) Observe(o *Observation) error {
	if p.faulty[o.Node] {
		return nil
	}
	switch ev := o.Event.(type) {
	case Submission:
		item := ev.SubmittedItem()
		if _, ok := p.submitted[item.ID]; !ok {
			item.Origin = o.Node
			p.submitted[item.ID] = item
		}
	case Delivery:
		item := ev.DeliveredItem()
		if item.Origin == "" || p.faulty[item.Origin] {
			return nil
		}
		sub, ok := p.submitted[item.ID]
		switch {
		case !ok || sub.Origin != item.Origin:
			return fmt.Errorf("node %s delivered item %q with value %q from node %s, which never submitted it",
				o.Node, item.ID, item.Value, item.Origin)
		case sub.Value != item.Value:
			return fmt.Errorf("node %s delivered item %q with value %q; node %s submitted %q",
				o.Node, item.ID, item.Value, item.Origin, sub.Value)
		}
	}
	return nil
}

// TotalOrder is violated when two correct nodes deliver different items at
// the same position of their sequences of deliveries. A node's position
// counts its deliveries since it last started: a restarted node delivers
// the sequence again from its start, as a replica without a write-ahead
// log does. Its state holds the sequence, one ID per position.
func TotalOrder(faulty ...stdtypes.NodeID) Property {
	return newTotalOrder(newFaultySet(faulty))
}

func newTotalOrder(faulty faultySet) *totalOrder {
	return &totalOrder{faulty: faulty, nodes: make(map[stdtypes.NodeID]*orderPosition)}
}

type totalOrder struct {
	faulty faultySet
	// log is the sequence delivered so far: log[i] is the item ID at
	// position i, set by the first correct node to reach it.
	log   []orderEntry
	nodes map[stdtypes.NodeID]*orderPosition
}

type orderEntry struct {
	id   string
	node stdtypes.NodeID
}

type orderPosition struct {
	incarnation int
	next        int
}

func (p *totalOrder) Name() string { return "total order" }

// NewRun makes TotalOrder a PerRun property.
func (p *totalOrder) NewRun() Property { return newTotalOrder(p.faulty) }

func (p *totalOrder) Observe(o *Observation) error {
	d, ok := o.Event.(Delivery)
	if !ok || p.faulty[o.Node] {
		return nil
	}
	pos := p.nodes[o.Node]
	if pos == nil || pos.incarnation != o.Incarnation {
		pos = &orderPosition{incarnation: o.Incarnation}
		p.nodes[o.Node] = pos
	}
	id := d.DeliveredItem().ID
	i := pos.next
	pos.next++
	if i == len(p.log) {
		p.log = append(p.log, orderEntry{id: id, node: o.Node})
		return nil
	}
	if want := p.log[i]; want.id != id {
		return fmt.Errorf("node %s delivered item %q at position %d, node %s delivered %q there",
			o.Node, id, i, want.node, want.id)
	}
	return nil
}

// Termination is a liveness property: by the time it is checked, every
// correct node that is up has delivered (in any of its incarnations) every
// item submitted to a correct node whose incarnation that received it is
// still running, and every item some correct node delivered. A
// submission to an incarnation that has crashed may be lost with it,
// unless a correct node delivered it. Its state holds the items and who
// delivered them.
func Termination(faulty ...stdtypes.NodeID) Liveness { return newTermination(newFaultySet(faulty)) }

func newTermination(faulty faultySet) *termination {
	return &termination{
		faulty:    faulty,
		known:     make(map[string]bool),
		delivered: make(map[stdtypes.NodeID]map[string]struct{}),
	}
}

type termination struct {
	faulty faultySet
	// submitted lists the submissions to correct nodes, and
	// deliveredByCorrect the items correct nodes delivered, each in the
	// order first seen, so that reports are deterministic.
	submitted          []submission
	deliveredByCorrect []submission
	known              map[string]bool
	delivered          map[stdtypes.NodeID]map[string]struct{}
}

// submission is an item, and the node (and incarnation) that got it or
// first delivered it.
type submission struct {
	id          string
	node        stdtypes.NodeID
	incarnation int
}

func (p *termination) Name() string { return "termination" }

// NewRun makes Termination a PerRun property.
func (p *termination) NewRun() Property { return newTermination(p.faulty) }

func (p *termination) Observe(o *Observation) error {
	if p.faulty[o.Node] {
		return nil
	}
	switch ev := o.Event.(type) {
	case Submission:
		p.submitted = append(p.submitted, submission{id: ev.SubmittedItem().ID, node: o.Node, incarnation: o.Incarnation})
	case Delivery:
		id := ev.DeliveredItem().ID
		if !p.known[id] {
			p.known[id] = true
			p.deliveredByCorrect = append(p.deliveredByCorrect, submission{id: id, node: o.Node, incarnation: o.Incarnation})
		}
		set := p.delivered[o.Node]
		if set == nil {
			set = make(map[string]struct{})
			p.delivered[o.Node] = set
		}
		set[id] = struct{}{}
	}
	return nil
}

// maxReported bounds the missing deliveries a report lists one by one.
const maxReported = 5

func (p *termination) CheckLiveness(nodes []NodeStatus) error {
	running := make(map[stdtypes.NodeID]int, len(nodes))
	for _, n := range nodes {
		if n.Up {
			running[n.ID] = n.Incarnation
		}
	}
	// The items every correct node that is up must have delivered.
	type required struct{ id, why string }
	var reqs []required
	seen := make(map[string]bool)
	for _, s := range p.submitted {
		if inc, ok := running[s.node]; ok && inc == s.incarnation && !seen[s.id] {
			seen[s.id] = true
			reqs = append(reqs, required{s.id, fmt.Sprintf("submitted to node %s", s.node)})
		}
	}
	for _, d := range p.deliveredByCorrect {
		if !seen[d.id] {
			seen[d.id] = true
			reqs = append(reqs, required{d.id, fmt.Sprintf("delivered by node %s", d.node)})
		}
	}
	var missing []string
	count := 0
	for _, n := range nodes {
		if !n.Up || p.faulty[n.ID] {
			continue
		}
		for _, r := range reqs {
			if _, ok := p.delivered[n.ID][r.id]; ok {
				continue
			}
			count++
			if len(missing) < maxReported {
				missing = append(missing, fmt.Sprintf("node %s did not deliver item %q (%s)", n.ID, r.id, r.why))
			}
		}
	}
	if count == 0 {
		return nil
	}
	more := ""
	if count > len(missing) {
		more = fmt.Sprintf("; and %d more", count-len(missing))
	}
	return fmt.Errorf("%d deliveries missing: %s%s", count, strings.Join(missing, "; "), more)
}
