package main

import (
	"errors"
	"fmt"
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
	// Reporter receives PingSent, PongReceived and Finished. Only the
	// pinger emits them.
	Reporter stdtypes.ModuleID
}

// DefaultModuleConfig returns the module IDs the sample uses.
func DefaultModuleConfig() ModuleConfig {
	return ModuleConfig{Self: "pingpong", Net: "net", Timer: "timer", Reporter: "reporter"}
}

// ModuleParams are the protocol's parameters.
type ModuleParams struct {
	// Peer is the other node: the only one whose messages are accepted,
	// and the one the pinger pings.
	Peer stdtypes.NodeID
	// Pinger tells whether this node pings. Both nodes answer pings.
	Pinger bool
	// Count is the number of pongs the pinger collects before it stops.
	Count int
	// Interval is the time between two pings.
	Interval time.Duration
	// MaxOutstanding bounds the pings the pinger remembers while it waits
	// for their pongs; a pong for an older ping, forgotten, is dropped as
	// if it answered no ping. A bound keeps a peer that never answers from
	// making the pinger's state grow with every tick.
	MaxOutstanding int
}

// DefaultModuleParams returns parameters for a pinger of peer: 10 pongs, a
// ping every 100ms, up to 1024 pings awaiting their pong.
func DefaultModuleParams(peer stdtypes.NodeID) ModuleParams {
	return ModuleParams{Peer: peer, Pinger: true, Count: 10, Interval: 100 * time.Millisecond, MaxOutstanding: 1024}
}

// Validate checks that the parameters are usable.
func (p ModuleParams) Validate() error {
	var errs []error
	if p.Peer == "" {
		errs = append(errs, errors.New("no peer"))
	}
	if p.Pinger && p.Count < 1 {
		errs = append(errs, fmt.Errorf("Count is %d; a pinger needs at least 1", p.Count))
	}
	if p.Pinger && p.Interval <= 0 {
		errs = append(errs, fmt.Errorf("Interval is %v; it must be positive", p.Interval))
	}
	if p.MaxOutstanding < 1 {
		errs = append(errs, fmt.Errorf("MaxOutstanding is %d; it must be at least 1", p.MaxOutstanding))
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
	// outstanding holds the sequence numbers of the pings sent and not
	// yet answered, at most params.MaxOutstanding of the newest. It is
	// only looked up, never iterated, so its order never reaches output.
	outstanding map[uint64]struct{}
	// pongs counts the pongs that answered an outstanding ping.
	pongs int
	// finished is set once pongs reaches params.Count: no more pings.
	finished bool
	// dropped counts the messages dropped as invalid: from a node other
	// than the peer, malformed, of an unknown type, or a pong that answers
	// no outstanding ping.
	dropped uint64
}

// newPingPong returns the protocol module with the given configuration.
func newPingPong(mc ModuleConfig, params ModuleParams) (*pingPong, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	return &pingPong{mc: mc, params: params, nextSeq: 1, outstanding: make(map[uint64]struct{})}, nil
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

// handleInit starts the pinger's clock: a Tick every interval.
func (p *pingPong) handleInit() *stdtypes.EventList {
	if !p.params.Pinger {
		return nil
	}
	return stdtypes.ListOf(stdevents.NewTimerRepeat(p.mc.Timer, p.params.Interval, 0, NewTick(p.mc.Self)))
}

// handleTick sends the next ping, until the pinger has all its pongs. A
// ping whose pong got lost is not resent: the next tick sends a new one.
func (p *pingPong) handleTick() *stdtypes.EventList {
	if !p.params.Pinger || p.finished {
		return nil // A tick already on its way when the timer stopped.
	}
	seq := p.nextSeq
	p.nextSeq++
	p.outstanding[seq] = struct{}{}
	// Sequence numbers grow by one, so the one falling out of the window
	// is known: the map never holds more than MaxOutstanding.
	if seq > uint64(p.params.MaxOutstanding) {
		delete(p.outstanding, seq-uint64(p.params.MaxOutstanding))
	}
	return stdtypes.ListOf(
		stdevents.NewSendMessage(p.mc.Net, p.mc.Self, &Ping{Seq: seq}, p.params.Peer),
		NewPingSent(p.mc.Reporter, seq),
	)
}

// handleMessage validates a message from the network and dispatches it.
// Nothing a peer sends can make it fail: bad input is dropped and counted.
func (p *pingPong) handleMessage(from stdtypes.NodeID, msg stdtypes.Message) *stdtypes.EventList {
	if from != p.params.Peer {
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
		return p.handlePong(msg)
	}
	return p.drop()
}

// handlePing answers a Ping with the Pong of the same sequence number.
func (p *pingPong) handlePing(from stdtypes.NodeID, ping *Ping) *stdtypes.EventList {
	return stdtypes.ListOf(stdevents.NewSendMessage(p.mc.Net, p.mc.Self, &Pong{Seq: ping.Seq}, from))
}

// handlePong counts a Pong that answers an outstanding Ping, and finishes
// once there are params.Count of them. A Pong for a ping never sent,
// already answered, or forgotten is dropped.
func (p *pingPong) handlePong(pong *Pong) *stdtypes.EventList {
	if _, ok := p.outstanding[pong.Seq]; !ok {
		return p.drop()
	}
	delete(p.outstanding, pong.Seq)
	p.pongs++
	out := stdtypes.ListOf(NewPongReceived(p.mc.Reporter, pong.Seq))
	if p.pongs == p.params.Count {
		p.finished = true
		// Garbage-collecting retention index 0 stops the repeating tick.
		out.PushBack(stdevents.NewTimerGarbageCollect(p.mc.Timer, 1))
		out.PushBack(NewFinished(p.mc.Reporter))
	}
	return out
}

// drop counts an invalid message.
func (p *pingPong) drop() *stdtypes.EventList {
	p.dropped++
	return nil
}
