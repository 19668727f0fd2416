package reliablenet_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// note is the message the tests send.
type note struct {
	stdtypes.MessageBase
	Text string
}

var _ = codec.Register[note]("reliablenet_test.note")

// unregistered is a message the codec cannot encode.
type unregistered struct{ stdtypes.MessageBase }

// The module IDs of the tests.
const (
	rnetID stdtypes.ModuleID = "reliablenet"
	appID  stdtypes.ModuleID = "app"
)

var mc = reliablenet.DefaultModuleConfig(appID)

// testParams are small parameters for event-in, event-out tests:
// retransmission after 2 ticks, then 4, then every 8.
func testParams() reliablenet.ModuleParams {
	p := reliablenet.DefaultModuleParams(1)
	p.MinBackoffTicks, p.MaxBackoffTicks = 2, 8
	return p
}

// newModule returns node self's module after Init.
func newModule(t testing.TB, self stdtypes.NodeID, tweak func(*reliablenet.ModuleParams)) *reliablenet.Module {
	t.Helper()
	p := testParams()
	if tweak != nil {
		tweak(&p)
	}
	m, err := reliablenet.NewModule(self, mc, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.ApplyEvents(stdtypes.ListOf(stdevents.NewInit(rnetID)))
	if err != nil {
		t.Fatal(err)
	}
	if tr, ok := out.Get(0).(*stdevents.TimerRepeat); out.Len() != 1 || !ok || tr.Period != p.TickPeriod || tr.Dest() != mc.Timer {
		t.Fatalf("Init gave %v", out.Slice())
	}
	return m
}

// apply hands m the events, one batch, and describes its output.
func apply(t testing.TB, m *reliablenet.Module, evs ...stdtypes.Event) string {
	t.Helper()
	out, err := m.ApplyEvents(stdtypes.ListOf(evs...))
	if err != nil {
		t.Fatal(err)
	}
	return describe(out.Slice())
}

// describe lists events: "data 0:hi to [1 2]" for a DataMsg numbered 0
// carrying note "hi", "ack 0,1 to [1]", "got hi from 1" for a delivery.
func describe(evs []stdtypes.Event) string {
	var parts []string
	for _, ev := range evs {
		switch ev := ev.(type) {
		case *stdevents.SendMessage:
			if ev.Dest() != mc.Net || ev.MsgDest != rnetID {
				parts = append(parts, fmt.Sprintf("SendMessage to %s/%s", ev.Dest(), ev.MsgDest))
				continue
			}
			parts = append(parts, fmt.Sprintf("%s to %v", describeMsg(ev.Msg), ev.Destinations))
		case *stdevents.MessageReceived:
			parts = append(parts, fmt.Sprintf("got %s from %s to %s", describeMsg(ev.Msg), ev.From, ev.Dest()))
		default:
			parts = append(parts, fmt.Sprintf("%T", ev))
		}
	}
	return strings.Join(parts, "; ")
}

func describeMsg(msg stdtypes.Message) string {
	switch msg := msg.(type) {
	case *reliablenet.DataMsg:
		return fmt.Sprintf("data %d:%s", msg.Seq, describeMsg(msg.Msg))
	case *reliablenet.AckMsg:
		seqs := make([]string, len(msg.Seqs))
		for i, s := range msg.Seqs {
			seqs[i] = fmt.Sprint(s)
		}
		return fmt.Sprintf("ack@%d %s", msg.Incarnation, strings.Join(seqs, ","))
	case *note:
		return msg.Text
	}
	return fmt.Sprintf("%T", msg)
}

func send(id reliablenet.MsgID, text string, dests ...stdtypes.NodeID) *reliablenet.SendMessage {
	return reliablenet.NewSendMessage(rnetID, id, &note{Text: text}, stdevents.To(appID, dests...))
}

func tick() stdtypes.Event { return reliablenet.NewTick(rnetID) }

func ack(from stdtypes.NodeID, incarnation uint64, seqs ...uint64) stdtypes.Event {
	return stdevents.NewMessageReceived(rnetID, from, &reliablenet.AckMsg{Incarnation: incarnation, Seqs: seqs})
}

func data(from stdtypes.NodeID, incarnation, seq uint64, dest stdtypes.ModuleID, msg stdtypes.Message) stdtypes.Event {
	return stdevents.NewMessageReceived(rnetID, from, &reliablenet.DataMsg{Incarnation: incarnation, Seq: seq, MsgDest: dest, Msg: msg})
}

// ticks hands m n ticks, one batch each, and returns at which ones (from
// 1) it sent something, and what.
func ticks(t testing.TB, m *reliablenet.Module, n int) []string {
	t.Helper()
	var sent []string
	for i := 1; i <= n; i++ {
		if out := apply(t, m, tick()); out != "" {
			sent = append(sent, fmt.Sprintf("%d: %s", i, out))
		}
	}
	return sent
}
