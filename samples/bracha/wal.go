package bracha

import (
	"fmt"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/dsl"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

var _ = codec.Register[Sent]("bracha.Sent")

// Sent is what a node with a WAL persists before it sends a message of an
// instance: the message. The WAL module hands it back to the protocol
// module when the node restarts, right after Init: the module then knows
// what it sent, sends it again (its reliablenet module forgot it), and
// never sends a different value for the instance.
type Sent struct {
	stdtypes.Header
	// Msg is the SendMsg, EchoMsg or ReadyMsg the node sent.
	Msg stdtypes.Message
}

// persisted returns the event that sends this node's message of kind k in
// inst: send itself without a WAL; with one, the Append that persists the
// message, with send as its follow-up, which the node releases only once
// the message is durable. A node that crashes in between has sent
// nothing, and may choose anew.
func (s *state) persisted(inst *instance, k kind, send stdtypes.Event) stdtypes.Event {
	if s.mc.WAL == "" {
		return send
	}
	sent := &Sent{Header: stdtypes.NewHeader(s.mc.Self), Msg: s.message(inst, k)}
	// The instances are bounded (MaxSeq per origin), and so the records:
	// no retention index, no truncation.
	return stdtypes.WithFollowUps(wal.NewAppend(s.mc.WAL, sent, 0), send)
}

// onSent restores what the node sent before it restarted, and sends it
// again. The record is this node's own, but it is checked like a message:
// a record that contradicts another, or the parameters, stops the node.
func (s *state) onSent(ev *Sent) error {
	inst, k, value, err := s.restored(ev.Msg)
	if err != nil {
		return fmt.Errorf("node %s: restoring from the WAL: %w", s.self, err)
	}
	sent, prev := s.sentValue(inst, k)
	switch {
	case sent && prev == value:
		return nil // Restored already.
	case sent:
		return fmt.Errorf("node %s: restoring from the WAL: %c of %s sent with two values", s.self, k, ItemID(inst.key.origin, inst.key.seq))
	}
	switch k {
	case kindSend:
		inst.sent, inst.sendValue = true, value
	case kindEcho:
		inst.sentEcho, inst.echoValue = true, value
	case kindReady:
		inst.sentReady, inst.readyValue = true, value
	}
	// Sent again without persisting it again: it is durable.
	dsl.EmitEvent(s.m, reliablenet.NewSendMessage(s.mc.ReliableNet, s.msgID(inst, k), s.message(inst, k), stdevents.To(s.mc.Self, s.params.Nodes...)))
	return nil
}

// restored returns the instance, the kind and the value of a message
// handed back by the WAL module, checked as validate checks a message.
func (s *state) restored(msg stdtypes.Message) (*instance, kind, string, error) {
	var origin stdtypes.NodeID
	var seq uint64
	var k kind
	var value string
	switch m := msg.(type) {
	case *SendMsg:
		origin, seq, k, value = s.self, m.Seq, kindSend, m.Value
	case *EchoMsg:
		origin, seq, k, value = m.Origin, m.Seq, kindEcho, m.Value
	case *ReadyMsg:
		origin, seq, k, value = m.Origin, m.Seq, kindReady, m.Value
	default:
		return nil, 0, "", fmt.Errorf("a record of %s", stdtypes.TypeName(msg))
	}
	if err := s.validate(s.self, origin, seq, value); err != nil {
		// Not wrapped: a record that does not check is no message to
		// drop, but a log this node cannot trust.
		return nil, 0, "", fmt.Errorf("invalid record: %v", err)
	}
	return s.instance(key{origin, seq}), k, value, nil
}

// sentValue returns whether this node sent its message of kind k in inst,
// and its value.
func (s *state) sentValue(inst *instance, k kind) (bool, string) {
	switch k {
	case kindSend:
		return inst.sent, inst.sendValue
	case kindEcho:
		return inst.sentEcho, inst.echoValue
	}
	return inst.sentReady, inst.readyValue
}
