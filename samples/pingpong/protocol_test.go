package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// other is a message type the protocol does not know.
type other struct {
	stdtypes.MessageBase
}

// Shorthands for the events of the tables.
var (
	initEv = stdevents.NewInit("pingpong")
	tick   = NewTick("pingpong")
)

func recv(from stdtypes.NodeID, msg stdtypes.Message) *stdevents.MessageReceived {
	return stdevents.NewMessageReceived("pingpong", from, msg)
}

func ping(seq uint64) *Ping { return &Ping{Seq: seq} }
func pong(seq uint64) *Pong { return &Pong{Seq: seq} }

// describe renders an event as a short string for the tables.
func describe(ev stdtypes.Event) string {
	switch ev := ev.(type) {
	case *stdevents.TimerRepeat:
		return fmt.Sprintf("TimerRepeat->%s every %v [%s]", ev.Dest(), ev.Period, strings.Join(describeAll(ev.Events), ", "))
	case *stdevents.TimerGarbageCollect:
		return fmt.Sprintf("TimerGarbageCollect->%s %d", ev.Dest(), ev.RetentionIndex)
	case *stdevents.SendMessage:
		return fmt.Sprintf("SendMessage->%s %s to %v for %s", ev.Dest(), describeMsg(ev.Msg), ev.Destinations, ev.MsgDest)
	case *PingSent:
		return fmt.Sprintf("PingSent->%s %d", ev.Dest(), ev.Seq)
	case *PongReceived:
		return fmt.Sprintf("PongReceived->%s %d", ev.Dest(), ev.Seq)
	}
	// This package is main: "main.Tick" reads better as "Tick".
	return fmt.Sprintf("%s->%s", strings.TrimPrefix(stdtypes.TypeName(ev), "main."), ev.Dest())
}

func describeAll(evs []stdtypes.Event) []string {
	out := []string{}
	for _, ev := range evs {
		out = append(out, describe(ev))
	}
	return out
}

func describeMsg(msg stdtypes.Message) string {
	switch msg := msg.(type) {
	case *Ping:
		return fmt.Sprintf("Ping{%d}", msg.Seq)
	case *Pong:
		return fmt.Sprintf("Pong{%d}", msg.Seq)
	}
	return stdtypes.TypeName(msg)
}

// newTestModule returns node 0's protocol (the pinger, of peer 1) or node
// 1's (the ponger, of peer 0), pinging every 10ms.
func newTestModule(t *testing.T, pinger bool, count, maxOutstanding int) *pingPong {
	t.Helper()
	params := DefaultModuleParams("0")
	if pinger {
		params.Peer = "1"
	}
	params.Pinger = pinger
	params.Count = count
	params.Interval = 10 * time.Millisecond
	params.MaxOutstanding = maxOutstanding
	m, err := newPingPong(DefaultModuleConfig(), params)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestProtocol feeds the protocol module events and checks what comes out:
// setup brings the module to a state, then in is applied and its output
// compared with want.
func TestProtocol(t *testing.T) {
	const pinger, ponger = true, false
	cases := []struct {
		name           string
		pinger         bool
		count          int // Default 3.
		maxOutstanding int // Default 1024.
		setup          []stdtypes.Event
		in             stdtypes.Event
		want           []string
		dropped        uint64
	}{
		{
			name: "pinger init starts the timer", pinger: pinger,
			in:   initEv,
			want: []string{"TimerRepeat->timer every 10ms [Tick->pingpong]"},
		},
		{
			name: "ponger init does nothing", pinger: ponger,
			in: initEv,
		},
		{
			name: "tick sends a ping", pinger: pinger,
			setup: []stdtypes.Event{initEv},
			in:    tick,
			want:  []string{"SendMessage->net Ping{1} to [1] for pingpong", "PingSent->reporter 1"},
		},
		{
			name: "each tick sends a new ping", pinger: pinger,
			setup: []stdtypes.Event{initEv, tick},
			in:    tick,
			want:  []string{"SendMessage->net Ping{2} to [1] for pingpong", "PingSent->reporter 2"},
		},
		{
			name: "ping is answered with a pong", pinger: ponger,
			setup: []stdtypes.Event{initEv},
			in:    recv("0", ping(5)),
			want:  []string{"SendMessage->net Pong{5} to [0] for pingpong"},
		},
		{
			name: "the pinger answers pings too", pinger: pinger,
			setup: []stdtypes.Event{initEv},
			in:    recv("1", ping(5)),
			want:  []string{"SendMessage->net Pong{5} to [1] for pingpong"},
		},
		{
			name: "pong is reported", pinger: pinger,
			setup: []stdtypes.Event{initEv, tick},
			in:    recv("1", pong(1)),
			want:  []string{"PongReceived->reporter 1"},
		},
		{
			name: "pongs may come out of order", pinger: pinger,
			setup: []stdtypes.Event{initEv, tick, tick},
			in:    recv("1", pong(2)),
			want:  []string{"PongReceived->reporter 2"},
		},
		{
			name: "last pong stops the timer and finishes", pinger: pinger, count: 1,
			setup: []stdtypes.Event{initEv, tick},
			in:    recv("1", pong(1)),
			want:  []string{"PongReceived->reporter 1", "TimerGarbageCollect->timer 1", "Finished->reporter"},
		},
		{
			name: "no ping after finishing", pinger: pinger, count: 1,
			setup: []stdtypes.Event{initEv, tick, recv("1", pong(1))},
			in:    tick,
		},
		{
			name: "ponger ignores ticks", pinger: ponger,
			setup: []stdtypes.Event{initEv},
			in:    tick,
		},
		{
			name: "pong for a ping never sent is dropped", pinger: pinger,
			setup: []stdtypes.Event{initEv, tick},
			in:    recv("1", pong(9)), dropped: 1,
		},
		{
			name: "duplicate pong is dropped", pinger: pinger,
			setup: []stdtypes.Event{initEv, tick, recv("1", pong(1))},
			in:    recv("1", pong(1)), dropped: 1,
		},
		{
			name: "pong for a forgotten ping is dropped", pinger: pinger, maxOutstanding: 2,
			setup: []stdtypes.Event{initEv, tick, tick, tick},
			in:    recv("1", pong(1)), dropped: 1,
		},
		{
			name: "pong within the window is kept", pinger: pinger, maxOutstanding: 2,
			setup: []stdtypes.Event{initEv, tick, tick, tick},
			in:    recv("1", pong(2)),
			want:  []string{"PongReceived->reporter 2"},
		},
		{
			name: "pong to the ponger is dropped", pinger: ponger,
			setup: []stdtypes.Event{initEv},
			in:    recv("0", pong(1)), dropped: 1,
		},
		{
			name: "pong from a stranger is dropped", pinger: pinger,
			setup: []stdtypes.Event{initEv, tick},
			in:    recv("7", pong(1)), dropped: 1,
		},
		{
			name: "pong from self is dropped", pinger: pinger,
			setup: []stdtypes.Event{initEv, tick},
			in:    recv("0", pong(1)), dropped: 1,
		},
		{
			name: "ping from a stranger is dropped", pinger: ponger,
			setup: []stdtypes.Event{initEv},
			in:    recv("7", ping(1)), dropped: 1,
		},
		{
			name: "ping with sequence number 0 is dropped", pinger: ponger,
			setup: []stdtypes.Event{initEv},
			in:    recv("0", ping(0)), dropped: 1,
		},
		{
			name: "pong with sequence number 0 is dropped", pinger: pinger,
			setup: []stdtypes.Event{initEv, tick},
			in:    recv("1", pong(0)), dropped: 1,
		},
		{
			name: "unknown message type is dropped", pinger: ponger,
			setup: []stdtypes.Event{initEv},
			in:    recv("0", &other{}), dropped: 1,
		},
		{
			name: "nil message is dropped", pinger: ponger,
			setup: []stdtypes.Event{initEv},
			in:    recv("0", nil), dropped: 1,
		},
		{
			name: "typed nil ping is dropped", pinger: ponger,
			setup: []stdtypes.Event{initEv},
			in:    recv("0", (*Ping)(nil)), dropped: 1,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			count, maxOutstanding := 3, 1024
			if c.count != 0 {
				count = c.count
			}
			if c.maxOutstanding != 0 {
				maxOutstanding = c.maxOutstanding
			}
			m := newTestModule(t, c.pinger, count, maxOutstanding)
			if _, err := m.ApplyEvents(stdtypes.ListOf(c.setup...)); err != nil {
				t.Fatalf("setup: %v", err)
			}
			before := m.Dropped()
			out, err := m.ApplyEvents(stdtypes.ListOf(c.in))
			if err != nil {
				t.Fatalf("ApplyEvents: %v", err)
			}
			if got := describeAll(out.Slice()); !slices.Equal(got, c.want) {
				t.Errorf("output:\n  got  %q\n  want %q", got, c.want)
			}
			if got := m.Dropped() - before; got != c.dropped {
				t.Errorf("dropped %d messages, want %d", got, c.dropped)
			}
		})
	}
}

// TestProtocolRun plays a whole exchange between a pinger and a ponger by
// hand, as the network would, and checks the pinger finishes exactly once.
func TestProtocolRun(t *testing.T) {
	pinger := newTestModule(t, true, 2, 1024)
	ponger := newTestModule(t, false, 0, 1024)
	var trace []string
	step := func(m *pingPong, evs ...stdtypes.Event) []stdtypes.Event {
		out, err := m.ApplyEvents(stdtypes.ListOf(evs...))
		if err != nil {
			t.Fatal(err)
		}
		trace = append(trace, describeAll(out.Slice())...)
		return out.Slice()
	}
	// deliver turns the SendMessages among evs into MessageReceived events.
	deliver := func(from stdtypes.NodeID, evs []stdtypes.Event) []stdtypes.Event {
		var got []stdtypes.Event
		for _, ev := range evs {
			if send, ok := ev.(*stdevents.SendMessage); ok {
				got = append(got, recv(from, send.Msg))
			}
		}
		return got
	}
	step(pinger, initEv)
	step(ponger, initEv)
	for range 3 { // One tick more than needed: it must do nothing.
		pings := deliver("0", step(pinger, tick))
		if len(pings) > 0 {
			step(pinger, deliver("1", step(ponger, pings...))...)
		}
	}
	want := []string{
		"TimerRepeat->timer every 10ms [Tick->pingpong]",
		"SendMessage->net Ping{1} to [1] for pingpong", "PingSent->reporter 1",
		"SendMessage->net Pong{1} to [0] for pingpong",
		"PongReceived->reporter 1",
		"SendMessage->net Ping{2} to [1] for pingpong", "PingSent->reporter 2",
		"SendMessage->net Pong{2} to [0] for pingpong",
		"PongReceived->reporter 2", "TimerGarbageCollect->timer 1", "Finished->reporter",
	}
	if !slices.Equal(trace, want) {
		t.Errorf("trace:\n  got  %q\n  want %q", trace, want)
	}
}

func TestProtocolRejectsUnexpectedEvents(t *testing.T) {
	m := newTestModule(t, true, 3, 1024)
	for _, ev := range []stdtypes.Event{
		stdevents.NewTimerDelay("pingpong", time.Second),
		NewPingSent("pingpong", 1),
		nil,
	} {
		if _, err := m.ApplyEvents(stdtypes.ListOf(ev)); err == nil {
			t.Errorf("event %v: no error", ev)
		}
	}
}

func TestModuleParamsValidate(t *testing.T) {
	good := DefaultModuleParams("1")
	if err := good.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for name, change := range map[string]func(*ModuleParams){
		"no peer":         func(p *ModuleParams) { p.Peer = "" },
		"zero count":      func(p *ModuleParams) { p.Count = 0 },
		"zero interval":   func(p *ModuleParams) { p.Interval = 0 },
		"zero window":     func(p *ModuleParams) { p.MaxOutstanding = 0 },
		"negative window": func(p *ModuleParams) { p.MaxOutstanding = -1 },
	} {
		p := good
		change(&p)
		if err := p.Validate(); err == nil {
			t.Errorf("%s: Validate returned no error", name)
		}
	}
	ponger := good
	ponger.Pinger, ponger.Count, ponger.Interval = false, 0, 0
	if err := ponger.Validate(); err != nil {
		t.Errorf("a ponger needs no count or interval: %v", err)
	}
}
