package bracha

import (
	"fmt"
	"slices"

	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// NoEquivocation is the property that a correct node never sends two
// values for one instance in messages of one kind (SEND, ECHO, READY),
// over all its incarnations: what the protocol's thresholds rest on. A
// node that restarts without a WAL can break it: it forgot what it sent,
// and an origin that lies to it then gets a second ECHO out of it. The
// property looks at the messages the protocol modules hand their
// reliablenet modules; the faulty nodes' are not checked. It is PerRun.
func NoEquivocation(faulty ...stdtypes.NodeID) testsim.Property {
	return &noEquivocation{faulty: slices.Clone(faulty)}
}

type noEquivocation struct {
	faulty []stdtypes.NodeID
	// sent holds the value of each message a correct node sent.
	sent map[sentKey]string
}

// sentKey names a node's message of one kind in one instance.
type sentKey struct {
	node   stdtypes.NodeID
	origin stdtypes.NodeID
	seq    uint64
	kind   kind
}

func (p *noEquivocation) Name() string { return "no-equivocation" }

// NewRun returns the property with the state of a run that has not
// started (testsim.PerRun).
func (p *noEquivocation) NewRun() testsim.Property { return NoEquivocation(p.faulty...) }

// Observe checks the messages a correct node sends.
func (p *noEquivocation) Observe(o *testsim.Observation) error {
	send, ok := o.Event.(*reliablenet.SendMessage)
	if !ok || slices.Contains(p.faulty, o.Node) {
		return nil
	}
	k := sentKey{node: o.Node}
	var value string
	switch m := send.Msg.(type) {
	case *SendMsg:
		k.origin, k.seq, k.kind, value = o.Node, m.Seq, kindSend, m.Value
	case *EchoMsg:
		k.origin, k.seq, k.kind, value = m.Origin, m.Seq, kindEcho, m.Value
	case *ReadyMsg:
		k.origin, k.seq, k.kind, value = m.Origin, m.Seq, kindReady, m.Value
	default:
		return nil
	}
	if p.sent == nil {
		p.sent = make(map[sentKey]string)
	}
	prev, seen := p.sent[k]
	if seen && prev != value {
		return fmt.Errorf("node %s (incarnation %d) sent %s %q for %s, after %q", o.Node, o.Incarnation,
			k.kind.name(), value, ItemID(k.origin, k.seq), prev)
	}
	p.sent[k] = value
	return nil
}

// name returns the kind as the textbook writes it.
func (k kind) name() string {
	switch k {
	case kindSend:
		return "SEND"
	case kindEcho:
		return "ECHO"
	}
	return "READY"
}
