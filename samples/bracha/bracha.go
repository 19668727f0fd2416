package bracha

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// ModuleConfig names the modules the protocol module talks to.
type ModuleConfig struct {
	Self  stdtypes.ModuleID
	Net   stdtypes.ModuleID
	Timer stdtypes.ModuleID
	// App receives the Deliver events.
	App stdtypes.ModuleID
}

// ModuleParams are the protocol's parameters.
type ModuleParams struct {
	// Membership lists the nodes, this one included.
	Membership []stdtypes.NodeID
	// F is the number of Byzantine nodes tolerated; len(Membership) must
	// be at least 3F+1.
	F int
	// RetransmitPeriod is the time between two retransmissions.
	RetransmitPeriod time.Duration
	// MaxSeq bounds the sequence numbers of an origin, and so the
	// instances a node keeps: a Byzantine node cannot make it keep more.
	MaxSeq uint64
	// MaxValueBytes bounds the values.
	MaxValueBytes int
	// Broken turns on the deliberate bug (see the package documentation).
	Broken bool
}

// DefaultParams returns parameters for the given membership and f.
func DefaultParams(membership []stdtypes.NodeID, f int) ModuleParams {
	return ModuleParams{
		Membership:       membership,
		F:                f,
		RetransmitPeriod: 50 * time.Millisecond,
		MaxSeq:           1024,
		MaxValueBytes:    1024,
	}
}

// Validate checks the parameters.
func (p ModuleParams) Validate() error {
	var errs []error
	if p.F < 0 || len(p.Membership) < 3*p.F+1 {
		errs = append(errs, fmt.Errorf("%d nodes cannot tolerate %d faults: need at least 3f+1", len(p.Membership), p.F))
	}
	if p.RetransmitPeriod <= 0 {
		errs = append(errs, fmt.Errorf("RetransmitPeriod is %v; it must be positive", p.RetransmitPeriod))
	}
	if p.MaxSeq < 1 || p.MaxValueBytes < 0 {
		errs = append(errs, errors.New("MaxSeq must be at least 1 and MaxValueBytes not negative"))
	}
	return errors.Join(errs...)
}

// key names an instance.
type key struct {
	origin stdtypes.NodeID
	seq    uint64
}

// instance is a node's state of one instance.
type instance struct {
	key key
	// sent and sendValue: this node is the origin and sent SEND.
	sent      bool
	sendValue string
	// echoed and echoValue: the ECHO this node sent.
	echoed    bool
	echoValue string
	// readied and readyValue: the READY this node sent.
	readied    bool
	readyValue string
	delivered  bool
	// echoFrom and readyFrom: the nodes whose ECHO and READY counted
	// (the first of each node); echoes and readies count them by value.
	echoFrom  map[stdtypes.NodeID]bool
	readyFrom map[stdtypes.NodeID]bool
	echoes    map[string]int
	readies   map[string]int
	// acked holds the peers known to have delivered: no more
	// retransmissions to them.
	acked map[stdtypes.NodeID]bool
}

// protocol is the module.
type protocol struct {
	self   stdtypes.NodeID
	mc     ModuleConfig
	params ModuleParams
	// members is the membership as a set.
	members map[stdtypes.NodeID]bool
	// instances, and order, their keys in order of creation: the ticks
	// go through them in that order, so output does not depend on map
	// iteration.
	instances map[key]*instance
	order     []key
	// dropped counts invalid messages.
	dropped uint64
}

// New returns the protocol module of node self.
func New(self stdtypes.NodeID, mc ModuleConfig, params ModuleParams) (modules.PassiveModule, error) {
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("rbc: %w", err)
	}
	p := &protocol{
		self:      self,
		mc:        mc,
		params:    params,
		members:   make(map[stdtypes.NodeID]bool),
		instances: make(map[key]*instance),
	}
	p.params.Membership = slices.Clone(params.Membership)
	for _, id := range params.Membership {
		p.members[id] = true
	}
	if !p.members[self] {
		return nil, fmt.Errorf("rbc: node %s is not a member", self)
	}
	return p, nil
}

func (p *protocol) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	out := stdtypes.EmptyList()
	for _, ev := range evs.Slice() {
		if err := p.apply(ev, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (p *protocol) apply(ev stdtypes.Event, out *stdtypes.EventList) error {
	switch ev := ev.(type) {
	case *stdevents.Init:
		out.PushBack(stdevents.NewTimerRepeat(p.mc.Timer, p.params.RetransmitPeriod, 0, &Tick{Header: stdtypes.NewHeader(p.mc.Self)}))
	case *Broadcast:
		return p.handleBroadcast(ev, out)
	case *Tick:
		p.handleTick(out)
	case *stdevents.MessageReceived:
		p.handleMessage(ev.From, ev.Msg, out)
	default:
		return fmt.Errorf("rbc: unexpected event %s", stdtypes.TypeName(ev))
	}
	return nil
}

// quorum is the number of ECHOs that make a node ready: ceil((n+f+1)/2).
func (p *protocol) quorum() int { return (len(p.params.Membership) + p.params.F + 2) / 2 }

func (p *protocol) instance(k key) *instance {
	inst, ok := p.instances[k]
	if !ok {
		inst = &instance{
			key:       k,
			echoFrom:  make(map[stdtypes.NodeID]bool),
			readyFrom: make(map[stdtypes.NodeID]bool),
			echoes:    make(map[string]int),
			readies:   make(map[string]int),
			acked:     make(map[stdtypes.NodeID]bool),
		}
		p.instances[k] = inst
		p.order = append(p.order, k)
	}
	return inst
}

// origin, on broadcast(v): send SEND(v) to all.
func (p *protocol) handleBroadcast(b *Broadcast, out *stdtypes.EventList) error {
	if b.Origin != p.self || b.Seq < 1 || b.Seq > p.params.MaxSeq || len(b.Value) > p.params.MaxValueBytes {
		return fmt.Errorf("rbc: node %s: invalid broadcast request %+v", p.self, *b)
	}
	inst := p.instance(key{p.self, b.Seq})
	if inst.sent {
		return fmt.Errorf("rbc: node %s: sequence number %d broadcast twice", p.self, b.Seq)
	}
	inst.sent, inst.sendValue = true, b.Value
	p.send(out, &Send{Seq: b.Seq, Value: b.Value}, p.params.Membership...)
	return nil
}

// handleMessage validates a message and hands it to its handler.
func (p *protocol) handleMessage(from stdtypes.NodeID, msg stdtypes.Message, out *stdtypes.EventList) {
	if !p.members[from] {
		p.dropped++
		return
	}
	switch msg := msg.(type) {
	case *Send:
		if msg == nil || !p.valid(from, msg.Seq, msg.Value) {
			p.dropped++
			return
		}
		inst := p.instance(key{from, msg.Seq})
		p.noteDone(inst, from, msg.Done, out)
		p.handleSend(inst, msg.Value, out)
	case *Echo:
		if msg == nil || !p.valid(msg.Origin, msg.Seq, msg.Value) {
			p.dropped++
			return
		}
		inst := p.instance(key{msg.Origin, msg.Seq})
		p.noteDone(inst, from, msg.Done, out)
		p.handleEcho(inst, from, msg.Value, out)
	case *Ready:
		if msg == nil || !p.valid(msg.Origin, msg.Seq, msg.Value) {
			p.dropped++
			return
		}
		inst := p.instance(key{msg.Origin, msg.Seq})
		p.noteDone(inst, from, msg.Done, out)
		p.handleReady(inst, from, msg.Value, out)
	default:
		p.dropped++
	}
}

func (p *protocol) valid(origin stdtypes.NodeID, seq uint64, value string) bool {
	return p.members[origin] && seq >= 1 && seq <= p.params.MaxSeq && len(value) <= p.params.MaxValueBytes
}

// noteDone records whether peer from has delivered the instance; if it
// has not and this node has, it helps with its READY.
func (p *protocol) noteDone(inst *instance, from stdtypes.NodeID, done bool, out *stdtypes.EventList) {
	if from == p.self {
		return
	}
	if done {
		inst.acked[from] = true
		return
	}
	if inst.delivered && inst.readied {
		p.send(out, p.readyMsg(inst), from)
	}
}

// on SEND(v) from the origin: if not echoed, send ECHO(v) to all.
func (p *protocol) handleSend(inst *instance, v string, out *stdtypes.EventList) {
	if inst.echoed {
		return
	}
	inst.echoed, inst.echoValue = true, v
	p.send(out, p.echoMsg(inst), p.params.Membership...)
}

// on ECHO(v) from ceil((n+f+1)/2): if not readied, send READY(v) to all.
func (p *protocol) handleEcho(inst *instance, from stdtypes.NodeID, v string, out *stdtypes.EventList) {
	if inst.echoFrom[from] {
		return
	}
	inst.echoFrom[from] = true
	inst.echoes[v]++
	if p.params.Broken && inst.echoes[v] >= p.params.F+1 {
		// The deliberate bug: f+1 ECHOs may all come from the one
		// correct node and the f Byzantine ones; they prove nothing.
		p.deliver(inst, v, out)
	}
	if inst.echoes[v] >= p.quorum() {
		p.ready(inst, v, out)
	}
}

// on READY(v) from f+1: if not readied, send READY(v) to all;
// on READY(v) from 2f+1: deliver v.
func (p *protocol) handleReady(inst *instance, from stdtypes.NodeID, v string, out *stdtypes.EventList) {
	if inst.readyFrom[from] {
		return
	}
	inst.readyFrom[from] = true
	inst.readies[v]++
	if inst.readies[v] >= p.params.F+1 {
		p.ready(inst, v, out)
	}
	if inst.readies[v] >= 2*p.params.F+1 {
		p.deliver(inst, v, out)
	}
}

func (p *protocol) ready(inst *instance, v string, out *stdtypes.EventList) {
	if inst.readied {
		return
	}
	inst.readied, inst.readyValue = true, v
	p.send(out, p.readyMsg(inst), p.params.Membership...)
}

func (p *protocol) deliver(inst *instance, v string, out *stdtypes.EventList) {
	if inst.delivered {
		return
	}
	inst.delivered = true
	out.PushBack(&Deliver{Header: stdtypes.NewHeader(p.mc.App), Origin: inst.key.origin, Seq: inst.key.seq, Value: v})
}

// handleTick resends, for each instance, this node's messages to the
// peers not known to have delivered: all of them while this node has not
// delivered, its READY once it has (the broken variant may deliver before
// it has one, and then goes on sending all).
func (p *protocol) handleTick(out *stdtypes.EventList) {
	for _, k := range p.order {
		inst := p.instances[k]
		var dests []stdtypes.NodeID
		for _, id := range p.params.Membership {
			if id != p.self && !inst.acked[id] {
				dests = append(dests, id)
			}
		}
		if len(dests) == 0 {
			continue
		}
		if inst.delivered && inst.readied {
			p.send(out, p.readyMsg(inst), dests...)
			continue
		}
		if inst.sent {
			p.send(out, &Send{Seq: k.seq, Value: inst.sendValue}, dests...)
		}
		if inst.echoed {
			p.send(out, p.echoMsg(inst), dests...)
		}
		if inst.readied {
			p.send(out, p.readyMsg(inst), dests...)
		}
	}
}

func (p *protocol) echoMsg(inst *instance) *Echo {
	return &Echo{Origin: inst.key.origin, Seq: inst.key.seq, Value: inst.echoValue, Done: inst.delivered}
}

func (p *protocol) readyMsg(inst *instance) *Ready {
	return &Ready{Origin: inst.key.origin, Seq: inst.key.seq, Value: inst.readyValue, Done: inst.delivered}
}

func (p *protocol) send(out *stdtypes.EventList, msg stdtypes.Message, dests ...stdtypes.NodeID) {
	out.PushBack(stdevents.NewSendMessage(p.mc.Net, p.mc.Self, msg, dests...))
}
