package protocol

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
		return fmt.Sprintf("PongReceived->%s %s %d", ev.Dest(), ev.From, ev.Seq)
	}
	return fmt.Sprintf("%s->%s", strings.TrimPrefix(stdtypes.TypeName(ev), "protocol."), ev.Dest())
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

// protocolCase is one row of the tables: setup brings a module to a state,
// then in is applied and its output compared with want.
type protocolCase struct {
	name    string
	params  func(*ModuleParams) // Changes to the table's parameters, if any.
	setup   []stdtypes.Event
	in      stdtypes.Event
	want    []string
	dropped uint64
}

func runCases(t *testing.T, base ModuleParams, cases []protocolCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			params := base
			if c.params != nil {
				c.params(&params)
			}
			m, err := New(DefaultModuleConfig(), params)
			if err != nil {
				t.Fatal(err)
			}
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

// pingerParams are node 0's of the in-process sample: it pings node 1, its
// only peer, until it has 3 pongs, every 10ms.
func pingerParams() ModuleParams {
	p := DefaultModuleParams([]stdtypes.NodeID{"1"})
	p.Count = 3
	p.Interval = 10 * time.Millisecond
	return p
}

// pongerParams are node 1's of the in-process sample: it answers node 0.
func pongerParams() ModuleParams {
	p := DefaultModuleParams([]stdtypes.NodeID{"0"})
	p.Targets = nil
	return p
}

func withCount(n int) func(*ModuleParams)     { return func(p *ModuleParams) { p.Count = n } }
func withWindow(n uint64) func(*ModuleParams) { return func(p *ModuleParams) { p.Window = n } }

// TestPinger is the in-process sample's pinger, node 0 of nodes 0 and 1.
func TestPinger(t *testing.T) {
	runCases(t, pingerParams(), []protocolCase{
		{
			name: "init starts the timer", in: initEv,
			want: []string{"TimerRepeat->timer every 10ms [Tick->pingpong]"},
		},
		{
			name: "tick sends a ping", setup: []stdtypes.Event{initEv}, in: tick,
			want: []string{"SendMessage->net Ping{1} to [1] for pingpong", "PingSent->reporter 1"},
		},
		{
			name: "each tick sends a new ping", setup: []stdtypes.Event{initEv, tick}, in: tick,
			want: []string{"SendMessage->net Ping{2} to [1] for pingpong", "PingSent->reporter 2"},
		},
		{
			name: "the pinger answers pings too", setup: []stdtypes.Event{initEv}, in: recv("1", ping(5)),
			want: []string{"SendMessage->net Pong{5} to [1] for pingpong"},
		},
		{
			name: "pong is reported", setup: []stdtypes.Event{initEv, tick}, in: recv("1", pong(1)),
			want: []string{"PongReceived->reporter 1 1"},
		},
		{
			name: "pongs may skip lost pings", setup: []stdtypes.Event{initEv, tick, tick}, in: recv("1", pong(2)),
			want: []string{"PongReceived->reporter 1 2"},
		},
		{
			name: "last pong stops the timer and finishes", params: withCount(1),
			setup: []stdtypes.Event{initEv, tick}, in: recv("1", pong(1)),
			want: []string{"PongReceived->reporter 1 1", "TimerGarbageCollect->timer 1", "Finished->reporter"},
		},
		{
			name: "no ping after finishing", params: withCount(1),
			setup: []stdtypes.Event{initEv, tick, recv("1", pong(1))}, in: tick,
		},
		{
			name: "pong for a ping never sent is dropped", setup: []stdtypes.Event{initEv, tick},
			in: recv("1", pong(9)), dropped: 1,
		},
		{
			name: "duplicate pong is dropped", setup: []stdtypes.Event{initEv, tick, recv("1", pong(1))},
			in: recv("1", pong(1)), dropped: 1,
		},
		{
			name: "overtaken pong is dropped", setup: []stdtypes.Event{initEv, tick, tick, recv("1", pong(2))},
			in: recv("1", pong(1)), dropped: 1,
		},
		{
			name: "pong for a forgotten ping is dropped", params: withWindow(2),
			setup: []stdtypes.Event{initEv, tick, tick, tick}, in: recv("1", pong(1)), dropped: 1,
		},
		{
			name: "pong within the window is kept", params: withWindow(2),
			setup: []stdtypes.Event{initEv, tick, tick, tick}, in: recv("1", pong(2)),
			want: []string{"PongReceived->reporter 1 2"},
		},
		{name: "pong from a stranger is dropped", setup: []stdtypes.Event{initEv, tick}, in: recv("7", pong(1)), dropped: 1},
		{name: "pong from self is dropped", setup: []stdtypes.Event{initEv, tick}, in: recv("0", pong(1)), dropped: 1},
		{name: "pong with sequence number 0 is dropped", setup: []stdtypes.Event{initEv, tick}, in: recv("1", pong(0)), dropped: 1},
	})
}

// TestPonger is the in-process sample's ponger, node 1 of nodes 0 and 1.
func TestPonger(t *testing.T) {
	runCases(t, pongerParams(), []protocolCase{
		{name: "init does nothing", in: initEv},
		{name: "ticks are ignored", setup: []stdtypes.Event{initEv}, in: tick},
		{
			name: "ping is answered with a pong", setup: []stdtypes.Event{initEv}, in: recv("0", ping(5)),
			want: []string{"SendMessage->net Pong{5} to [0] for pingpong"},
		},
		{name: "pong to the ponger is dropped", setup: []stdtypes.Event{initEv}, in: recv("0", pong(1)), dropped: 1},
		{name: "ping from a stranger is dropped", setup: []stdtypes.Event{initEv}, in: recv("7", ping(1)), dropped: 1},
		{name: "ping with sequence number 0 is dropped", setup: []stdtypes.Event{initEv}, in: recv("0", ping(0)), dropped: 1},
		{name: "unknown message type is dropped", setup: []stdtypes.Event{initEv}, in: recv("0", &other{}), dropped: 1},
		{name: "nil message is dropped", setup: []stdtypes.Event{initEv}, in: recv("0", nil), dropped: 1},
		{name: "typed nil ping is dropped", setup: []stdtypes.Event{initEv}, in: recv("0", (*Ping)(nil)), dropped: 1},
		{name: "typed nil pong is dropped", setup: []stdtypes.Event{initEv}, in: recv("0", (*Pong)(nil)), dropped: 1},
	})
}

// TestMembership is the TCP sample's node 0, in a membership of nodes 0, 1
// and 2: it pings both others, without end.
func TestMembership(t *testing.T) {
	base := DefaultModuleParams([]stdtypes.NodeID{"1", "2"})
	base.Interval = 10 * time.Millisecond
	base.Window = 4
	runCases(t, base, []protocolCase{
		{name: "init starts the timer", in: initEv, want: []string{"TimerRepeat->timer every 10ms [Tick->pingpong]"}},
		{
			name: "tick pings every peer", setup: []stdtypes.Event{initEv}, in: tick,
			want: []string{"SendMessage->net Ping{1} to [1 2] for pingpong", "PingSent->reporter 1"},
		},
		{
			name: "each tick pings with the next number", setup: []stdtypes.Event{initEv, tick}, in: tick,
			want: []string{"SendMessage->net Ping{2} to [1 2] for pingpong", "PingSent->reporter 2"},
		},
		{
			name: "ping is answered", setup: []stdtypes.Event{initEv}, in: recv("2", ping(9)),
			want: []string{"SendMessage->net Pong{9} to [2] for pingpong"},
		},
		{
			name: "pong is reported", setup: []stdtypes.Event{initEv, tick}, in: recv("1", pong(1)),
			want: []string{"PongReceived->reporter 1 1"},
		},
		{
			name: "each peer's pongs count apart", setup: []stdtypes.Event{initEv, tick, recv("1", pong(1))}, in: recv("2", pong(1)),
			want: []string{"PongReceived->reporter 2 1"},
		},
		{
			name: "pongs may skip lost pings", setup: []stdtypes.Event{initEv, tick, tick, tick}, in: recv("1", pong(3)),
			want: []string{"PongReceived->reporter 1 3"},
		},
		{
			name: "no end without a count", setup: []stdtypes.Event{initEv, tick, recv("1", pong(1)), tick, recv("2", pong(2))}, in: tick,
			want: []string{"SendMessage->net Ping{3} to [1 2] for pingpong", "PingSent->reporter 3"},
		},
		{
			name: "count adds up pongs of all peers", params: withCount(2),
			setup: []stdtypes.Event{initEv, tick, recv("1", pong(1))}, in: recv("2", pong(1)),
			want: []string{"PongReceived->reporter 2 1", "TimerGarbageCollect->timer 1", "Finished->reporter"},
		},
		{
			name: "pong from a peer that is not a target", params: func(p *ModuleParams) { p.Targets = p.Targets[:1] },
			setup: []stdtypes.Event{initEv, tick}, in: recv("2", pong(1)), dropped: 1,
		},
		{
			name: "ping from a peer that is not a target is answered", params: func(p *ModuleParams) { p.Targets = p.Targets[:1] },
			setup: []stdtypes.Event{initEv}, in: recv("2", ping(4)),
			want: []string{"SendMessage->net Pong{4} to [2] for pingpong"},
		},
		{name: "duplicate pong", setup: []stdtypes.Event{initEv, tick, recv("1", pong(1))}, in: recv("1", pong(1)), dropped: 1},
		{name: "older pong", setup: []stdtypes.Event{initEv, tick, tick, recv("1", pong(2))}, in: recv("1", pong(1)), dropped: 1},
		{name: "pong for a ping not sent", setup: []stdtypes.Event{initEv, tick}, in: recv("1", pong(2)), dropped: 1},
		{
			name: "pong outside the window", params: withWindow(2), setup: []stdtypes.Event{initEv, tick, tick, tick},
			in: recv("1", pong(1)), dropped: 1,
		},
		{name: "pong from self", setup: []stdtypes.Event{initEv, tick}, in: recv("0", pong(1)), dropped: 1},
		{name: "ping from a stranger", setup: []stdtypes.Event{initEv}, in: recv("7", ping(1)), dropped: 1},
		{name: "ping 0", setup: []stdtypes.Event{initEv}, in: recv("1", &Ping{}), dropped: 1},
		{name: "pong 0", setup: []stdtypes.Event{initEv, tick}, in: recv("1", &Pong{}), dropped: 1},
		{name: "nil ping", setup: []stdtypes.Event{initEv}, in: recv("1", (*Ping)(nil)), dropped: 1},
		{name: "nil pong", setup: []stdtypes.Event{initEv}, in: recv("1", (*Pong)(nil)), dropped: 1},
		{name: "unknown message", setup: []stdtypes.Event{initEv}, in: recv("1", &other{}), dropped: 1},
		{name: "nil message", setup: []stdtypes.Event{initEv}, in: recv("1", nil), dropped: 1},
	})
}

// TestRun plays a whole exchange between a pinger and a ponger by hand, as
// the network would, and checks the pinger finishes exactly once.
func TestRun(t *testing.T) {
	pingerP := pingerParams()
	pingerP.Count = 2
	pinger, err := New(DefaultModuleConfig(), pingerP)
	if err != nil {
		t.Fatal(err)
	}
	ponger, err := New(DefaultModuleConfig(), pongerParams())
	if err != nil {
		t.Fatal(err)
	}
	var trace []string
	step := func(m *Module, evs ...stdtypes.Event) []stdtypes.Event {
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
		"PongReceived->reporter 1 1",
		"SendMessage->net Ping{2} to [1] for pingpong", "PingSent->reporter 2",
		"SendMessage->net Pong{2} to [0] for pingpong",
		"PongReceived->reporter 1 2", "TimerGarbageCollect->timer 1", "Finished->reporter",
	}
	if !slices.Equal(trace, want) {
		t.Errorf("trace:\n  got  %q\n  want %q", trace, want)
	}
}

func TestRejectsUnexpectedEvents(t *testing.T) {
	m, err := New(DefaultModuleConfig(), pingerParams())
	if err != nil {
		t.Fatal(err)
	}
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
	for name, good := range map[string]ModuleParams{
		"defaults": DefaultModuleParams([]stdtypes.NodeID{"1", "2"}),
		"pinger":   pingerParams(),
		// A node that only answers needs no count or interval.
		"ponger": func() ModuleParams { p := pongerParams(); p.Count, p.Interval = 0, 0; return p }(),
	} {
		if err := good.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, change := range map[string]func(*ModuleParams){
		"no peers":         func(p *ModuleParams) { p.Peers, p.Targets = nil, nil },
		"duplicate peer":   func(p *ModuleParams) { p.Peers = []stdtypes.NodeID{"1", "1"} },
		"duplicate target": func(p *ModuleParams) { p.Targets = []stdtypes.NodeID{"1", "1"} },
		"target not peer":  func(p *ModuleParams) { p.Targets = []stdtypes.NodeID{"7"} },
		"negative count":   func(p *ModuleParams) { p.Count = -1 },
		"zero interval":    func(p *ModuleParams) { p.Interval = 0 },
		"zero window":      func(p *ModuleParams) { p.Window = 0 },
	} {
		p := pingerParams()
		change(&p)
		if err := p.Validate(); err == nil {
			t.Errorf("%s: Validate returned no error", name)
		}
		if _, err := New(DefaultModuleConfig(), p); err == nil {
			t.Errorf("%s: New returned no error", name)
		}
	}
}

// TestNewCopiesPeers checks that changing the caller's slices after New
// changes nothing in the module.
func TestNewCopiesPeers(t *testing.T) {
	p := DefaultModuleParams([]stdtypes.NodeID{"1", "2"})
	m, err := New(DefaultModuleConfig(), p)
	if err != nil {
		t.Fatal(err)
	}
	p.Targets[0] = "9"
	out, err := m.ApplyEvents(stdtypes.ListOf(tick))
	if err != nil {
		t.Fatal(err)
	}
	if got := describe(out.Slice()[0]); got != "SendMessage->net Ping{1} to [1 2] for pingpong" {
		t.Errorf("after changing the caller's slice: %s", got)
	}
}
