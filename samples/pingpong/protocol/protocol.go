package protocol

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
	// Self is the protocol module's own ID: messages and ticks are
	// addressed to it.
	Self stdtypes.ModuleID
	// Net is the transport.
	Net stdtypes.ModuleID
	// Timer is the timer module.
	Timer stdtypes.ModuleID
	// Reporter receives PingSent, PongReceived and Finished. Only a node
	// with Targets emits them.
	Reporter stdtypes.ModuleID
}

// DefaultModuleConfig returns the module IDs the samples use.
func DefaultModuleConfig() ModuleConfig {
	return ModuleConfig{Self: "pingpong", Net: "net", Timer: "timer", Reporter: "reporter"}
}

// ModuleParams are the protocol's parameters.
type ModuleParams struct {
	// Peers are the members whose messages the node accepts, and whose
	// pings it answers. They do not include the node itself.
	Peers []stdtypes.NodeID
	// Targets are the peers the node pings, each tick, in this order.
	// Empty: the node only answers.
	Targets []stdtypes.NodeID
	// Count is the number of pongs, from all targets together, the node
	// collects before it stops pinging and emits Finished; 0: it never
	// stops.
	Count int
	// Interval is the time between two pings.
	Interval time.Duration
	// Window is how many of the latest pings a pong may answer: an older
	// pong is dropped. It bounds what a reporter must remember.
	Window uint64
}

// DefaultModuleParams returns parameters for pinging every one of peers
// every 100ms, without end, accepting pongs for the latest 1024 pings.
func DefaultModuleParams(peers []stdtypes.NodeID) ModuleParams {
	return ModuleParams{
		Peers:    slices.Clone(peers),
		Targets:  slices.Clone(peers),
		Interval: 100 * time.Millisecond,
		Window:   1024,
	}
}

// Validate checks that the parameters are usable.
func (p ModuleParams) Validate() error {
	var errs []error
	if len(p.Peers) == 0 {
		errs = append(errs, errors.New("no peers"))
	}
	if hasDuplicates(p.Peers) {
		errs = append(errs, errors.New("a peer is listed twice"))
	}
	if hasDuplicates(p.Targets) {
		errs = append(errs, errors.New("a target is listed twice"))
	}
	for _, t := range p.Targets {
		if !slices.Contains(p.Peers, t) {
			errs = append(errs, fmt.Errorf("target %s is not a peer", t))
		}
	}
	if p.Count < 0 {
		errs = append(errs, fmt.Errorf("the count is %d; it must not be negative", p.Count))
	}
	if len(p.Targets) > 0 && p.Interval <= 0 {
		errs = append(errs, fmt.Errorf("the interval is %v; a pinger needs a positive one", p.Interval))
	}
	if p.Window < 1 {
		errs = append(errs, errors.New("the window must be at least 1"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid pingpong parameters: %w", err)
	}
	return nil
}

func hasDuplicates(ids []stdtypes.NodeID) bool {
	sorted := slices.Sorted(slices.Values(ids))
	return len(slices.Compact(sorted)) != len(ids)
}

// Module is the protocol module, passive and deterministic.
type Module struct {
	mc     ModuleConfig
	params ModuleParams

	// nextSeq is the sequence number of the next ping; the first is 1.
	nextSeq uint64
	// peers is params.Peers as a set. It and lastPong are bounded by the
	// membership, and only looked up, never iterated, so their order never
	// reaches output.
	peers map[stdtypes.NodeID]struct{}
	// lastPong holds, per target, the highest sequence number it answered.
	// Messages on a link arrive in order, so a pong at or below it is a
	// duplicate (or one overtaken, which is dropped too: the next tick
	// sends a new ping); and a peer that restarted still answers with the
	// numbers of this node's pings, which only grow.
	lastPong map[stdtypes.NodeID]uint64
	// pongs counts the pongs accepted, from all peers.
	pongs int
	// finished is set once pongs reaches params.Count: no more pings.
	finished bool
	// dropped counts the messages dropped as invalid: from a node that is
	// not a peer, malformed, of an unknown type, or a pong that answers no
	// ping of the window or is not newer than the peer's last one.
	dropped uint64
}

// New returns the protocol module with the given configuration.
func New(mc ModuleConfig, params ModuleParams) (*Module, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	params.Peers, params.Targets = slices.Clone(params.Peers), slices.Clone(params.Targets)
	p := &Module{
		mc:       mc,
		params:   params,
		nextSeq:  1,
		peers:    make(map[stdtypes.NodeID]struct{}, len(params.Peers)),
		lastPong: make(map[stdtypes.NodeID]uint64, len(params.Targets)),
	}
	for _, peer := range params.Peers {
		p.peers[peer] = struct{}{}
	}
	for _, target := range params.Targets {
		p.lastPong[target] = 0
	}
	return p, nil
}

var (
	_ modules.PassiveModule   = (*Module)(nil)
	_ modules.MessageReceiver = (*Module)(nil)
)

// ReceivesMessages implements modules.MessageReceiver: the module takes
// pings and pongs from other nodes.
func (p *Module) ReceivesMessages() {}

// Dropped returns how many received messages were dropped as invalid. It
// must not be called while a node runs the module.
func (p *Module) Dropped() uint64 { return p.dropped }

// ApplyEvents handles events one by one.
func (p *Module) ApplyEvents(events *stdtypes.EventList) (*stdtypes.EventList, error) {
	return modules.ApplyAllFunc(events, p.applyEvent)
}

func (p *Module) applyEvent(ev stdtypes.Event) (*stdtypes.EventList, error) {
	switch ev := ev.(type) {
	case *stdevents.Init:
		return p.handleInit(), nil
	case *Tick:
		return p.handleTick(), nil
	case *stdevents.MessageReceived:
		return p.handleMessage(ev.From, ev.Msg), nil
	case nil:
		return nil, errors.New("pingpong: nil event")
	}
	return nil, fmt.Errorf("pingpong: unexpected event %s", stdtypes.TypeName(ev))
}

// pinging tells whether the node still sends pings.
func (p *Module) pinging() bool { return len(p.params.Targets) > 0 && !p.finished }

// handleInit starts a pinger's clock: a Tick every interval.
func (p *Module) handleInit() *stdtypes.EventList {
	if !p.pinging() {
		return nil
	}
	return stdtypes.ListOf(stdevents.NewTimerRepeat(p.mc.Timer, p.params.Interval, 0, NewTick(p.mc.Self)))
}

// handleTick pings every target with the next sequence number. A ping that
// is lost is not resent: the next tick sends a new one.
func (p *Module) handleTick() *stdtypes.EventList {
	if !p.pinging() {
		return nil // Or a tick already on its way when the timer stopped.
	}
	seq := p.nextSeq
	p.nextSeq++
	return stdtypes.ListOf(
		stdevents.NewSendMessage(p.mc.Net, &Ping{Seq: seq}, stdevents.To(p.mc.Self, p.params.Targets...)),
		NewPingSent(p.mc.Reporter, seq),
	)
}

// handleMessage validates a message from the network and dispatches it.
// Nothing a peer sends can make it fail: bad input is dropped and counted.
func (p *Module) handleMessage(from stdtypes.NodeID, msg stdtypes.Message) *stdtypes.EventList {
	if _, ok := p.peers[from]; !ok {
		return p.drop()
	}
	switch msg := msg.(type) {
	case *Ping:
		if msg == nil || msg.Validate() != nil {
			return p.drop()
		}
		return p.handlePing(from, msg)
	case *Pong:
		if msg == nil || msg.Validate() != nil {
			return p.drop()
		}
		return p.handlePong(from, msg)
	}
	return p.drop()
}

// handlePing answers a Ping with the Pong of the same sequence number.
func (p *Module) handlePing(from stdtypes.NodeID, ping *Ping) *stdtypes.EventList {
	return stdtypes.ListOf(stdevents.NewSendMessage(p.mc.Net, &Pong{Seq: ping.Seq}, stdevents.To(p.mc.Self, from)))
}

// handlePong reports a pong from a target that answers one of the latest
// Window pings, newer than the target's previous pong, and finishes once
// there are params.Count of them. A pong from a peer that is not a target
// answers no ping and is dropped.
func (p *Module) handlePong(from stdtypes.NodeID, pong *Pong) *stdtypes.EventList {
	last, isTarget := p.lastPong[from]
	sent := p.nextSeq - 1
	if !isTarget || pong.Seq > sent || sent-pong.Seq >= p.params.Window || pong.Seq <= last {
		return p.drop()
	}
	p.lastPong[from] = pong.Seq
	p.pongs++
	out := stdtypes.ListOf(NewPongReceived(p.mc.Reporter, from, pong.Seq))
	if p.params.Count > 0 && p.pongs == p.params.Count {
		p.finished = true
		// Garbage-collecting retention index 0 stops the repeating tick.
		out.PushBack(stdevents.NewTimerGarbageCollect(p.mc.Timer, 1))
		out.PushBack(NewFinished(p.mc.Reporter))
	}
	return out
}

// drop counts an invalid message.
func (p *Module) drop() *stdtypes.EventList {
	p.dropped++
	return nil
}
