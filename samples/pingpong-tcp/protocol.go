package main

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
	// Reporter receives PingSent and PongReceived.
	Reporter stdtypes.ModuleID
}

// DefaultModuleConfig returns the module IDs the sample uses.
func DefaultModuleConfig() ModuleConfig {
	return ModuleConfig{Self: "pingpong", Net: "net", Timer: "timer", Reporter: "reporter"}
}

// ModuleParams are the protocol's parameters.
type ModuleParams struct {
	// Peers are the nodes this node pings, and the only ones whose
	// messages it accepts. They do not include the node itself.
	Peers []stdtypes.NodeID
	// Interval is the time between two pings.
	Interval time.Duration
	// Window is how many of the latest pings a pong may answer: an older
	// pong is dropped. It bounds what the reporter remembers.
	Window uint64
}

// DefaultModuleParams returns parameters for pinging peers every 100ms,
// accepting pongs for the latest 1024 pings.
func DefaultModuleParams(peers []stdtypes.NodeID) ModuleParams {
	return ModuleParams{Peers: slices.Clone(peers), Interval: 100 * time.Millisecond, Window: 1024}
}

// Validate checks that the parameters are usable.
func (p ModuleParams) Validate() error {
	var errs []error
	if len(p.Peers) == 0 {
		errs = append(errs, errors.New("no peers"))
	}
	sorted := slices.Sorted(slices.Values(p.Peers))
	if len(slices.Compact(sorted)) != len(p.Peers) {
		errs = append(errs, errors.New("a peer is listed twice"))
	}
	if p.Interval <= 0 {
		errs = append(errs, fmt.Errorf("Interval is %v; it must be positive", p.Interval))
	}
	if p.Window < 1 {
		errs = append(errs, errors.New("Window must be at least 1"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid pingpong parameters: %w", err)
	}
	return nil
}

// pingPong is the protocol module, passive and deterministic.
type pingPong struct {
	mc     ModuleConfig
	params ModuleParams
	// nextSeq is the sequence number of the next ping; the first is 1.
	nextSeq uint64
	// lastPong holds, per peer, the highest sequence number it answered.
	// Messages on a link arrive in order, so a pong at or below it is a
	// duplicate; and a peer that restarted still answers with the
	// numbers of this node's pings, which only grow. Its keys are the
	// peers: bounded by the membership.
	lastPong map[stdtypes.NodeID]uint64
	// dropped counts the messages dropped as invalid.
	dropped uint64
}

func newPingPong(mc ModuleConfig, params ModuleParams) (*pingPong, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	p := &pingPong{mc: mc, params: params, nextSeq: 1, lastPong: make(map[stdtypes.NodeID]uint64, len(params.Peers))}
	for _, peer := range params.Peers {
		p.lastPong[peer] = 0
	}
	return p, nil
}

var _ modules.PassiveModule = (*pingPong)(nil)

// Dropped returns how many received messages were dropped as invalid. It
// must not be called while a node runs the module.
func (p *pingPong) Dropped() uint64 { return p.dropped }

// ApplyEvents handles events one by one.
func (p *pingPong) ApplyEvents(events *stdtypes.EventList) (*stdtypes.EventList, error) {
	return modules.ApplyAllFunc(events, p.applyEvent)
}

func (p *pingPong) applyEvent(ev stdtypes.Event) (*stdtypes.EventList, error) {
	switch ev := ev.(type) {
	case *stdevents.Init:
		return stdtypes.ListOf(stdevents.NewTimerRepeat(p.mc.Timer, p.params.Interval, 0, NewTick(p.mc.Self))), nil
	case *Tick:
		return p.handleTick(), nil
	case *stdevents.MessageReceived:
		return p.handleMessage(ev.From, ev.Msg), nil
	case nil:
		return nil, errors.New("pingpong: nil event")
	}
	return nil, fmt.Errorf("pingpong: unexpected event %s", stdtypes.TypeName(ev))
}

// handleTick pings every peer with the next sequence number. A ping that
// is lost is not resent: the next tick sends a new one.
func (p *pingPong) handleTick() *stdtypes.EventList {
	seq := p.nextSeq
	p.nextSeq++
	return stdtypes.ListOf(
		stdevents.NewSendMessage(p.mc.Net, p.mc.Self, &Ping{Seq: seq}, p.params.Peers...),
		NewPingSent(p.mc.Reporter, seq),
	)
}

// handleMessage validates a message from the network and dispatches it.
// Nothing a peer sends can make it fail: bad input is dropped and counted.
func (p *pingPong) handleMessage(from stdtypes.NodeID, msg stdtypes.Message) *stdtypes.EventList {
	if _, ok := p.lastPong[from]; !ok {
		return p.drop()
	}
	switch msg := msg.(type) {
	case *Ping:
		if msg == nil || msg.Validate() != nil {
			return p.drop()
		}
		return stdtypes.ListOf(stdevents.NewSendMessage(p.mc.Net, p.mc.Self, &Pong{Seq: msg.Seq}, from))
	case *Pong:
		if msg == nil || msg.Validate() != nil {
			return p.drop()
		}
		return p.handlePong(from, msg)
	}
	return p.drop()
}

// handlePong reports a pong that answers one of the latest Window pings,
// newer than the peer's previous pong.
func (p *pingPong) handlePong(from stdtypes.NodeID, pong *Pong) *stdtypes.EventList {
	sent := p.nextSeq - 1
	if pong.Seq > sent || sent-pong.Seq >= p.params.Window || pong.Seq <= p.lastPong[from] {
		return p.drop()
	}
	p.lastPong[from] = pong.Seq
	return stdtypes.ListOf(NewPongReceived(p.mc.Reporter, from, pong.Seq))
}

// drop counts an invalid message.
func (p *pingPong) drop() *stdtypes.EventList {
	p.dropped++
	return nil
}
