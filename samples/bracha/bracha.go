package bracha

import (
	"fmt"
	"slices"

	"github.com/mirframework/mir/pkg/dsl"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// state is a node's state: what the handlers share.
type state struct {
	self   stdtypes.NodeID
	mc     ModuleConfig
	params ModuleParams
	m      *dsl.Module
	// index is each member's position in the membership: message IDs
	// name nodes by it.
	index map[stdtypes.NodeID]int
	// instances, and order, the same in order of creation: a HELLO is
	// answered in that order, so that the output does not depend on the
	// order of a map.
	instances map[key]*instance
	order     []*instance
	// hello holds, for each peer, the highest incarnation whose HELLO
	// this node answered.
	hello map[stdtypes.NodeID]uint64
}

// key names an instance: its origin and sequence number.
type key struct {
	origin stdtypes.NodeID
	seq    uint64
}

// instance is a node's state of one instance: the textbook's variables.
type instance struct {
	key key
	// sent and sendValue: this node is the origin and sent SEND.
	sent      bool
	sendValue string
	// sentEcho and echoValue: the ECHO this node sent.
	sentEcho  bool
	echoValue string
	// sentReady and readyValue: the READY this node sent.
	sentReady  bool
	readyValue string
	delivered  bool
	// echos and readys are the ECHOs and READYs received.
	echos  votes
	readys votes
}

// votes holds the value of each node's first message of one kind in an
// instance (the textbook's echos and readys), and counts them by value.
type votes struct {
	from  map[stdtypes.NodeID]string
	count map[string]int
}

// add records that node from voted for v, unless it voted already, and
// returns the votes for v; 0 if it voted already, which counts nothing.
func (vs *votes) add(from stdtypes.NodeID, v string) int {
	if _, ok := vs.from[from]; ok {
		return 0
	}
	vs.from[from] = v
	vs.count[v]++
	return vs.count[v]
}

// New returns the protocol module of node self. It sends its messages
// through the reliablenet module mc.ReliableNet, whose user it must be.
func New(self stdtypes.NodeID, mc ModuleConfig, params ModuleParams) (*dsl.Module, error) {
	if err := mc.Validate(); err != nil {
		return nil, fmt.Errorf("bracha: %w", err)
	}
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("bracha: %w", err)
	}
	s := &state{
		self:      self,
		mc:        mc,
		params:    params,
		m:         dsl.NewModule(mc.Self),
		index:     make(map[stdtypes.NodeID]int),
		instances: make(map[key]*instance),
		hello:     make(map[stdtypes.NodeID]uint64),
	}
	s.params.Nodes = slices.Clone(params.Nodes)
	for i, id := range params.Nodes {
		s.index[id] = i
	}
	if _, ok := s.index[self]; !ok {
		return nil, fmt.Errorf("bracha: node %s is not a member", self)
	}
	s.register()
	return s.m, nil
}

// register registers the handlers, each under the lines of the textbook's
// Authenticated Double-Echo Broadcast it implements (see the package
// documentation).
func (s *state) register() {
	m := s.m

	// upon event <brb, Broadcast | v> do  // only process s
	//     forall q ∈ Π do trigger <al, Send | q, [SEND, v]>
	dsl.UponEvent(m, s.onBroadcast)

	// upon event <al, Deliver | p, [SEND, v]> such that p = s and sentecho = FALSE do
	//     sentecho := TRUE; forall q ∈ Π do trigger <al, Send | q, [ECHO, v]>
	dsl.UponMessageReceived(m, s.onSend)

	// upon event <al, Deliver | p, [ECHO, v]> do
	//     if echos[p] = ⊥ then echos[p] := v
	// upon exists v such that #({p ∈ Π | echos[p] = v}) > (N+f)/2 and sentready = FALSE do
	//     sentready := TRUE; forall q ∈ Π do trigger <al, Send | q, [READY, v]>
	dsl.UponMessageReceived(m, s.onEcho)

	// upon event <al, Deliver | p, [READY, v]> do
	//     if readys[p] = ⊥ then readys[p] := v
	// upon exists v such that #({p ∈ Π | readys[p] = v}) > f and sentready = FALSE do
	//     sentready := TRUE; forall q ∈ Π do trigger <al, Send | q, [READY, v]>
	// upon exists v such that #({p ∈ Π | readys[p] = v}) > 2f and delivered = FALSE do
	//     delivered := TRUE; trigger <brb, Deliver | s, v>
	dsl.UponMessageReceived(m, s.onReady)

	// Not in the textbook, whose processes never restart: a node that
	// starts says HELLO, and each peer sends it again what it sent it.
	dsl.UponInit(m, s.onInit)
	dsl.UponMessageReceived(m, s.onHello)

	// Not in the textbook either: with a WAL, a node persists each
	// message before it sends it, and gets it back when it restarts.
	dsl.UponEvent(m, s.onSent)
}

// onBroadcast sends SEND(v) to all. A bad request is the local caller's
// bug, which stops the node.
func (s *state) onBroadcast(b *Broadcast) error {
	if b.Origin != s.self || b.Seq < 1 || b.Seq > s.params.MaxSeq || len(b.Value) > s.params.MaxValueBytes {
		return fmt.Errorf("node %s: invalid broadcast request (origin %s, seq %d, %d bytes)", s.self, b.Origin, b.Seq, len(b.Value))
	}
	inst := s.instance(key{s.self, b.Seq})
	switch {
	case inst.sent && inst.sendValue == b.Value:
		return nil // Asked again, after a restart the WAL restored it from.
	case inst.sent:
		return fmt.Errorf("node %s: sequence number %d broadcast twice", s.self, b.Seq)
	}
	inst.sent, inst.sendValue = true, b.Value
	s.sendAll(inst, kindSend)
	return nil
}

// onSend echoes the origin's first SEND. The origin is the sender: a node
// cannot send a SEND for another.
func (s *state) onSend(from stdtypes.NodeID, msg *SendMsg) error {
	if err := s.validate(from, from, msg.Seq, msg.Value); err != nil {
		return err
	}
	inst := s.instance(key{from, msg.Seq})
	if inst.sentEcho {
		return nil
	}
	inst.sentEcho, inst.echoValue = true, msg.Value
	s.sendAll(inst, kindEcho)
	return nil
}

// onEcho counts the first ECHO of each node, and sends READY once more
// than (n+f)/2 nodes echoed one value.
func (s *state) onEcho(from stdtypes.NodeID, msg *EchoMsg) error {
	if err := s.validate(from, msg.Origin, msg.Seq, msg.Value); err != nil {
		return err
	}
	inst := s.instance(key{msg.Origin, msg.Seq})
	echos := inst.echos.add(from, msg.Value)
	if s.params.Broken && echos > s.params.F {
		// The deliberate bug: f+1 ECHOs may come from the f Byzantine
		// nodes and one correct node; they prove nothing.
		s.deliver(inst, msg.Value)
	}
	if echos > (len(s.params.Nodes)+s.params.F)/2 {
		s.ready(inst, msg.Value)
	}
	return nil
}

// onReady counts the first READY of each node, sends READY once f+1
// nodes sent one for a value, and delivers once 2f+1 did.
func (s *state) onReady(from stdtypes.NodeID, msg *ReadyMsg) error {
	if err := s.validate(from, msg.Origin, msg.Seq, msg.Value); err != nil {
		return err
	}
	inst := s.instance(key{msg.Origin, msg.Seq})
	readys := inst.readys.add(from, msg.Value)
	if readys > s.params.F {
		s.ready(inst, msg.Value)
	}
	if readys > 2*s.params.F {
		s.deliver(inst, msg.Value)
	}
	return nil
}

// ready sends READY(v) to all, unless this node sent one already.
func (s *state) ready(inst *instance, v string) {
	if inst.sentReady {
		return
	}
	inst.sentReady, inst.readyValue = true, v
	s.sendAll(inst, kindReady)
}

// deliver delivers v, unless this node delivered already.
func (s *state) deliver(inst *instance, v string) {
	if inst.delivered {
		return
	}
	inst.delivered = true
	dsl.EmitEvent(s.m, &Deliver{Header: stdtypes.NewHeader(s.mc.App), Origin: inst.key.origin, Seq: inst.key.seq, Value: v})
}

// validate checks what a message from the network says about an
// instance: every node may be Byzantine, so the message is dropped (and
// counted) unless its sender and origin are members and its sequence
// number and value are within bounds.
func (s *state) validate(from, origin stdtypes.NodeID, seq uint64, value string) error {
	switch _, member := s.index[from]; {
	case !member:
		return dsl.Drop("message from %.64q, who is not a member", from)
	case !s.isMember(origin):
		return dsl.Drop("message from %s about an instance of %.64q, who is not a member", from, origin)
	case seq < 1 || seq > s.params.MaxSeq:
		return dsl.Drop("message from %s about sequence number %d; want 1 to %d", from, seq, s.params.MaxSeq)
	case len(value) > s.params.MaxValueBytes:
		return dsl.Drop("message from %s with a value of %d bytes; at most %d", from, len(value), s.params.MaxValueBytes)
	}
	return nil
}

func (s *state) isMember(id stdtypes.NodeID) bool {
	_, ok := s.index[id]
	return ok
}

// instance returns the state of instance k, made on first use.
func (s *state) instance(k key) *instance {
	inst, ok := s.instances[k]
	if !ok {
		inst = &instance{
			key:    k,
			echos:  votes{from: make(map[stdtypes.NodeID]string), count: make(map[string]int)},
			readys: votes{from: make(map[stdtypes.NodeID]string), count: make(map[string]int)},
		}
		s.instances[k] = inst
		s.order = append(s.order, inst)
	}
	return inst
}

// onInit says HELLO to the other nodes, if there are any.
func (s *state) onInit() error {
	if peers := s.peers(); len(peers) > 0 {
		dsl.EmitEvent(s.m, reliablenet.NewSendMessage(s.mc.ReliableNet, "hello", &HelloMsg{Incarnation: s.params.Incarnation}, stdevents.To(s.mc.Self, peers...)))
	}
	return nil
}

// onHello sends a peer that (re)started every message this node sent so
// far, once per incarnation of the peer: a copy of the HELLO, or one of
// an earlier incarnation, changes nothing.
func (s *state) onHello(from stdtypes.NodeID, msg *HelloMsg) error {
	switch last, answered := s.hello[from]; {
	case from == s.self || !s.isMember(from):
		return dsl.Drop("HELLO from %.64q, who is not a peer", from)
	case answered && msg.Incarnation <= last:
		return nil
	}
	s.hello[from] = msg.Incarnation
	// What was sent to the peer's earlier incarnation in answer to its
	// HELLO is of no use any more.
	dsl.EmitEvent(s.m, reliablenet.NewCancelPrefix(s.mc.ReliableNet, s.mc.Self, s.toPrefix(from)))
	for _, inst := range s.order {
		for _, kind := range []kind{kindSend, kindEcho, kindReady} {
			if msg := s.message(inst, kind); msg != nil {
				id := s.toPrefix(from) + s.msgID(inst, kind)
				dsl.EmitEvent(s.m, reliablenet.NewSendMessage(s.mc.ReliableNet, id, msg, stdevents.To(s.mc.Self, from)))
			}
		}
	}
	return nil
}

// kind is the kind of a message of an instance.
type kind byte

const (
	kindSend  kind = 's'
	kindEcho  kind = 'e'
	kindReady kind = 'r'
)

// message returns the message of the kind this node sent in inst, or nil
// if it sent none.
func (s *state) message(inst *instance, k kind) stdtypes.Message {
	switch {
	case k == kindSend && inst.sent:
		return &SendMsg{Seq: inst.key.seq, Value: inst.sendValue}
	case k == kindEcho && inst.sentEcho:
		return &EchoMsg{Origin: inst.key.origin, Seq: inst.key.seq, Value: inst.echoValue}
	case k == kindReady && inst.sentReady:
		return &ReadyMsg{Origin: inst.key.origin, Seq: inst.key.seq, Value: inst.readyValue}
	}
	return nil
}

// sendAll has the reliablenet module send this node's message of the kind
// in inst to every node, this one included, until each has it; with a
// WAL, once the message is durable (see persisted).
func (s *state) sendAll(inst *instance, k kind) {
	send := reliablenet.NewSendMessage(s.mc.ReliableNet, s.msgID(inst, k), s.message(inst, k), stdevents.To(s.mc.Self, s.params.Nodes...))
	dsl.EmitEvent(s.m, s.persisted(inst, k, send))
}

// msgID is the name of this node's message of the kind in inst, for the
// reliablenet module: "3/17/e" for its ECHO in the instance 17 of the
// fourth member. Sent at most once, it never has two in flight.
func (s *state) msgID(inst *instance, k kind) reliablenet.MsgID {
	return reliablenet.MsgID(fmt.Sprintf("%d/%d/%c", s.index[inst.key.origin], inst.key.seq, k))
}

// toPrefix starts the names of the messages sent to peer in answer to its
// HELLO ("to3/"), which one CancelPrefix cancels.
func (s *state) toPrefix(peer stdtypes.NodeID) reliablenet.MsgID {
	return reliablenet.MsgID(fmt.Sprintf("to%d/", s.index[peer]))
}

// peers returns the members other than this node, in membership order.
func (s *state) peers() []stdtypes.NodeID {
	peers := make([]stdtypes.NodeID, 0, len(s.params.Nodes)-1)
	for _, id := range s.params.Nodes {
		if id != s.self {
			peers = append(peers, id)
		}
	}
	return peers
}
