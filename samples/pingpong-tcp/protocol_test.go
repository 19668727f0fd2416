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

var (
	initEv = stdevents.NewInit("pingpong")
	tick   = NewTick("pingpong")
)

func recv(from stdtypes.NodeID, msg stdtypes.Message) *stdevents.MessageReceived {
	return stdevents.NewMessageReceived("pingpong", from, msg)
}

// describe renders an event as a short string for the tables.
func describe(ev stdtypes.Event) string {
	switch ev := ev.(type) {
	case *stdevents.TimerRepeat:
		return fmt.Sprintf("TimerRepeat->%s every %v", ev.Dest(), ev.Period)
	case *stdevents.SendMessage:
		var msg string
		switch m := ev.Msg.(type) {
		case *Ping:
			msg = fmt.Sprintf("Ping{%d}", m.Seq)
		case *Pong:
			msg = fmt.Sprintf("Pong{%d}", m.Seq)
		}
		return fmt.Sprintf("SendMessage->%s %s to %v for %s", ev.Dest(), msg, ev.Destinations, ev.MsgDest)
	case *PingSent:
		return fmt.Sprintf("PingSent->%s %d", ev.Dest(), ev.Seq)
	case *PongReceived:
		return fmt.Sprintf("PongReceived->%s %s %d", ev.Dest(), ev.From, ev.Seq)
	}
	return strings.TrimPrefix(stdtypes.TypeName(ev), "main.")
}

// TestProtocol feeds the protocol module of node 0, in a membership of
// nodes 0, 1 and 2, events and checks what comes out.
func TestProtocol(t *testing.T) {
	cases := []struct {
		name    string
		window  uint64 // Default 4.
		setup   []stdtypes.Event
		in      stdtypes.Event
		want    []string
		dropped uint64
	}{
		{name: "init starts the timer", in: initEv, want: []string{"TimerRepeat->timer every 10ms"}},
		{
			name: "tick pings every peer", setup: []stdtypes.Event{initEv}, in: tick,
			want: []string{"SendMessage->net Ping{1} to [1 2] for pingpong", "PingSent->reporter 1"},
		},
		{
			name: "each tick pings with the next number", setup: []stdtypes.Event{initEv, tick}, in: tick,
			want: []string{"SendMessage->net Ping{2} to [1 2] for pingpong", "PingSent->reporter 2"},
		},
		{
			name: "ping is answered", setup: []stdtypes.Event{initEv}, in: recv("2", &Ping{Seq: 9}),
			want: []string{"SendMessage->net Pong{9} to [2] for pingpong"},
		},
		{
			name: "pong is reported", setup: []stdtypes.Event{initEv, tick}, in: recv("1", &Pong{Seq: 1}),
			want: []string{"PongReceived->reporter 1 1"},
		},
		{
			name: "each peer's pongs count apart", setup: []stdtypes.Event{initEv, tick, recv("1", &Pong{Seq: 1})}, in: recv("2", &Pong{Seq: 1}),
			want: []string{"PongReceived->reporter 2 1"},
		},
		{
			name: "pongs may skip lost pings", setup: []stdtypes.Event{initEv, tick, tick, tick}, in: recv("1", &Pong{Seq: 3}),
			want: []string{"PongReceived->reporter 1 3"},
		},
		{name: "duplicate pong", setup: []stdtypes.Event{initEv, tick, recv("1", &Pong{Seq: 1})}, in: recv("1", &Pong{Seq: 1}), dropped: 1},
		{name: "older pong", setup: []stdtypes.Event{initEv, tick, tick, recv("1", &Pong{Seq: 2})}, in: recv("1", &Pong{Seq: 1}), dropped: 1},
		{name: "pong for a ping not sent", setup: []stdtypes.Event{initEv, tick}, in: recv("1", &Pong{Seq: 2}), dropped: 1},
		{
			name: "pong outside the window", window: 2, setup: []stdtypes.Event{initEv, tick, tick, tick},
			in: recv("1", &Pong{Seq: 1}), dropped: 1,
		},
		{name: "pong from self", setup: []stdtypes.Event{initEv, tick}, in: recv("0", &Pong{Seq: 1}), dropped: 1},
		{name: "ping from a stranger", setup: []stdtypes.Event{initEv}, in: recv("7", &Ping{Seq: 1}), dropped: 1},
		{name: "ping 0", setup: []stdtypes.Event{initEv}, in: recv("1", &Ping{}), dropped: 1},
		{name: "pong 0", setup: []stdtypes.Event{initEv, tick}, in: recv("1", &Pong{}), dropped: 1},
		{name: "nil ping", setup: []stdtypes.Event{initEv}, in: recv("1", (*Ping)(nil)), dropped: 1},
		{name: "nil pong", setup: []stdtypes.Event{initEv}, in: recv("1", (*Pong)(nil)), dropped: 1},
		{name: "unknown message", setup: []stdtypes.Event{initEv}, in: recv("1", &other{}), dropped: 1},
		{name: "nil message", setup: []stdtypes.Event{initEv}, in: recv("1", nil), dropped: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			params := DefaultModuleParams([]stdtypes.NodeID{"1", "2"})
			params.Interval = 10 * time.Millisecond
			params.Window = 4
			if c.window != 0 {
				params.Window = c.window
			}
			m, err := newPingPong(DefaultModuleConfig(), params)
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
			var got []string
			for _, ev := range out.Slice() {
				got = append(got, describe(ev))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("output:\n  got  %q\n  want %q", got, c.want)
			}
			if d := m.Dropped() - before; d != c.dropped {
				t.Errorf("dropped %d messages, want %d", d, c.dropped)
			}
		})
	}
}

func TestProtocolErrors(t *testing.T) {
	m, err := newPingPong(DefaultModuleConfig(), DefaultModuleParams([]stdtypes.NodeID{"1"}))
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range []stdtypes.Event{nil, stdevents.NewTimerDelay("pingpong", time.Second)} {
		if _, err := m.ApplyEvents(stdtypes.ListOf(ev)); err == nil {
			t.Errorf("%v: no error", ev)
		}
	}
	for name, p := range map[string]ModuleParams{
		"no peers":       {Interval: time.Second, Window: 1},
		"duplicate peer": {Peers: []stdtypes.NodeID{"1", "1"}, Interval: time.Second, Window: 1},
		"no interval":    {Peers: []stdtypes.NodeID{"1"}, Window: 1},
		"no window":      {Peers: []stdtypes.NodeID{"1"}, Interval: time.Second},
	} {
		if _, err := newPingPong(DefaultModuleConfig(), p); err == nil {
			t.Errorf("%s: newPingPong returned no error", name)
		}
	}
}
