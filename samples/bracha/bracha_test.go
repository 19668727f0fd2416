package bracha_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/dsl"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/samples/bracha"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// The tests in this file drive one node's protocol module by hand: events
// in, events out, no network and no other node.

var (
	members = []stdtypes.NodeID{"0", "1", "2", "3"}
	mc      = bracha.DefaultModuleConfig()
)

// newNode returns node self's protocol module, after its Init, with f = 1.
func newNode(t *testing.T, self stdtypes.NodeID, tweak func(*bracha.ModuleParams)) *dsl.Module {
	t.Helper()
	params := bracha.DefaultModuleParams(members)
	params.Incarnation = 1
	if tweak != nil {
		tweak(&params)
	}
	m, err := bracha.New(self, mc, params)
	if err != nil {
		t.Fatal(err)
	}
	apply(t, m, stdevents.NewInit(mc.Self))
	return m
}

// apply hands m the events, as one batch, and describes what it emits,
// one event per line (see describe).
func apply(t *testing.T, m *dsl.Module, evs ...stdtypes.Event) string {
	t.Helper()
	out, err := m.ApplyEvents(stdtypes.ListOf(evs...))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, ev := range out.Slice() {
		lines = append(lines, describe(ev))
	}
	return strings.Join(lines, "\n")
}

// describe writes an event the module emits as a line:
// `send "0/1/e" ECHO 0/1 "v" to [0 1 2 3]` for a message to the reliablenet
// module, `deliver 0/1 "v"` for a delivery.
func describe(ev stdtypes.Event) string {
	switch ev := ev.(type) {
	case *reliablenet.SendMessage:
		return fmt.Sprintf("send %q %s to %v", ev.MsgID, describeMsg(ev.Msg), ev.Destinations)
	case *reliablenet.CancelPrefix:
		return fmt.Sprintf("cancel %q*", ev.Prefix)
	case *bracha.Deliver:
		return fmt.Sprintf("deliver %s/%d %q", ev.Origin, ev.Seq, ev.Value)
	case *wal.Append:
		var next []string
		for _, f := range ev.FollowUps() {
			next = append(next, describe(f))
		}
		return fmt.Sprintf("persist %s, then %s", describeMsg(ev.Event.(*bracha.Sent).Msg), strings.Join(next, ", "))
	}
	return fmt.Sprintf("%T", ev)
}

func describeMsg(msg stdtypes.Message) string {
	switch m := msg.(type) {
	case *bracha.SendMsg:
		return fmt.Sprintf("SEND %d %q", m.Seq, m.Value)
	case *bracha.EchoMsg:
		return fmt.Sprintf("ECHO %s/%d %q", m.Origin, m.Seq, m.Value)
	case *bracha.ReadyMsg:
		return fmt.Sprintf("READY %s/%d %q", m.Origin, m.Seq, m.Value)
	case *bracha.HelloMsg:
		return fmt.Sprintf("HELLO %d", m.Incarnation)
	}
	return fmt.Sprintf("%T", msg)
}

// receive is the event by which the reliablenet module hands the
// protocol module msg from node from.
func receive(from stdtypes.NodeID, msg stdtypes.Message) stdtypes.Event {
	return stdevents.NewMessageReceived(mc.Self, from, msg)
}

func echo(v string) *bracha.EchoMsg   { return &bracha.EchoMsg{Origin: "0", Seq: 1, Value: v} }
func ready(v string) *bracha.ReadyMsg { return &bracha.ReadyMsg{Origin: "0", Seq: 1, Value: v} }

// check fails the test unless got is want.
func check(t *testing.T, step, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got\n%s\nwant\n%s", step, got, want)
	}
}

func TestInitSaysHello(t *testing.T) {
	m, err := bracha.New("2", mc, bracha.DefaultModuleParams(members))
	if err != nil {
		t.Fatal(err)
	}
	check(t, "Init", apply(t, m, stdevents.NewInit(mc.Self)), `send "hello" HELLO 0 to [0 1 3]`)

	alone, err := bracha.New("0", mc, bracha.ModuleParams{Nodes: []stdtypes.NodeID{"0"}, MaxSeq: 1})
	if err != nil {
		t.Fatal(err)
	}
	check(t, "Init of a single node", apply(t, alone, stdevents.NewInit(mc.Self)), "")
}

// TestOneInstance walks node 1 through an instance of node 0, rule by
// rule, as the textbook writes them.
func TestOneInstance(t *testing.T) {
	m := newNode(t, "1", nil)

	// upon SEND from the origin: ECHO, once.
	check(t, "SEND", apply(t, m, receive("0", &bracha.SendMsg{Seq: 1, Value: "v"})),
		`send "0/1/e" ECHO 0/1 "v" to [0 1 2 3]`)
	check(t, "SEND again", apply(t, m, receive("0", &bracha.SendMsg{Seq: 1, Value: "w"})), "")

	// upon ECHOs from more than (n+f)/2 = 2.5 nodes: READY. A node's
	// second ECHO does not count.
	check(t, "2 ECHOs", apply(t, m, receive("1", echo("v")), receive("2", echo("v")), receive("2", echo("v"))), "")
	check(t, "3 ECHOs", apply(t, m, receive("3", echo("v"))), `send "0/1/r" READY 0/1 "v" to [0 1 2 3]`)

	// upon READYs from 2f+1 = 3 nodes: deliver, once.
	check(t, "2 READYs", apply(t, m, receive("1", ready("v")), receive("3", ready("v")), receive("3", ready("v"))), "")
	check(t, "3 READYs", apply(t, m, receive("2", ready("v"))), `deliver 0/1 "v"`)
	check(t, "4 READYs", apply(t, m, receive("0", ready("v"))), "")
}

// TestReadyAmplification: f+1 READYs make a node ready, whatever it saw
// of the ECHOs; then 2f+1 deliver.
func TestReadyAmplification(t *testing.T) {
	m := newNode(t, "3", nil)
	check(t, "1 READY", apply(t, m, receive("1", ready("v"))), "")
	check(t, "2 READYs", apply(t, m, receive("2", ready("v"))), `send "0/1/r" READY 0/1 "v" to [0 1 2 3]`)
	check(t, "ECHOs after", apply(t, m, receive("0", echo("v")), receive("1", echo("v")), receive("2", echo("v"))), "")
	check(t, "own READY", apply(t, m, receive("3", ready("v"))), `deliver 0/1 "v"`)
}

// TestValuesDoNotMix: ECHOs and READYs count per value; votes split
// between two values make no quorum.
func TestValuesDoNotMix(t *testing.T) {
	m := newNode(t, "1", nil)
	got := apply(t, m,
		receive("0", echo("v")), receive("1", echo("w")), receive("2", echo("v")), receive("3", echo("w")),
		receive("0", ready("v")), receive("1", ready("w")))
	check(t, "split votes", got, "")
}

func TestOriginBroadcasts(t *testing.T) {
	m := newNode(t, "0", nil)
	check(t, "Broadcast", apply(t, m, bracha.NewBroadcast(mc.Self, "0", 1, "v")), `send "0/1/s" SEND 1 "v" to [0 1 2 3]`)
	// The origin's own SEND comes back to it through the reliablenet module.
	check(t, "own SEND", apply(t, m, receive("0", &bracha.SendMsg{Seq: 1, Value: "v"})), `send "0/1/e" ECHO 0/1 "v" to [0 1 2 3]`)
}

// TestBrokenDeliversOnEchoes: the deliberate bug delivers on f+1 ECHOs.
func TestBrokenDeliversOnEchoes(t *testing.T) {
	m := newNode(t, "1", func(p *bracha.ModuleParams) { p.Broken = true })
	check(t, "1 ECHO", apply(t, m, receive("0", echo("v"))), "")
	check(t, "2 ECHOs", apply(t, m, receive("3", echo("v"))), `deliver 0/1 "v"`)
}

// TestHello: a node that says HELLO gets again everything this node sent,
// once per incarnation.
func TestHello(t *testing.T) {
	m := newNode(t, "1", nil)
	apply(t, m, bracha.NewBroadcast(mc.Self, "1", 1, "mine"), receive("0", &bracha.SendMsg{Seq: 1, Value: "v"}),
		receive("1", echo("v")), receive("2", echo("v")), receive("3", echo("v")))
	want := `cancel "to2/"*
send "to2/1/1/s" SEND 1 "mine" to [2]
send "to2/0/1/e" ECHO 0/1 "v" to [2]
send "to2/0/1/r" READY 0/1 "v" to [2]`
	check(t, "HELLO", apply(t, m, receive("2", &bracha.HelloMsg{Incarnation: 7})), want)
	check(t, "HELLO again", apply(t, m, receive("2", &bracha.HelloMsg{Incarnation: 7})), "")
	check(t, "HELLO of an earlier incarnation", apply(t, m, receive("2", &bracha.HelloMsg{Incarnation: 6})), "")
	check(t, "HELLO of a later incarnation", apply(t, m, receive("2", &bracha.HelloMsg{Incarnation: 8})), want)
}

// TestInvalidMessagesDropped: what a Byzantine node can send is dropped
// and counted, and changes nothing.
func TestInvalidMessagesDropped(t *testing.T) {
	m := newNode(t, "1", func(p *bracha.ModuleParams) { p.MaxSeq, p.MaxValueBytes = 8, 4 })
	bad := []stdtypes.Event{
		receive("9", &bracha.SendMsg{Seq: 1, Value: "v"}),         // Not a member.
		receive("0", &bracha.SendMsg{Seq: 0, Value: "v"}),         // Sequence numbers start at 1.
		receive("0", &bracha.SendMsg{Seq: 9, Value: "v"}),         // Beyond MaxSeq.
		receive("0", &bracha.SendMsg{Seq: 1, Value: "12345"}),     // Beyond MaxValueBytes.
		receive("0", &bracha.EchoMsg{Origin: "9", Seq: 1}),        // Of an origin that is not a member.
		receive("0", &bracha.ReadyMsg{Origin: "0", Seq: 1 << 62}), // Beyond MaxSeq.
		receive("9", &bracha.HelloMsg{}),                          // Not a member.
		receive("1", &bracha.HelloMsg{}),                          // From itself.
		receive("0", (*bracha.EchoMsg)(nil)),                      // Nil.
		receive("0", &reliablenet.AckMsg{}),                       // Not the protocol's.
		stdevents.NewMessageReceived(mc.Self, "0", nil),           // No message.
		receive("2", &bracha.ReadyMsg{Origin: "0", Seq: 9, Value: "v"}),
	}
	check(t, "invalid messages", apply(t, m, bad...), "")
	if st := m.Stats(); st.DroppedMessages+st.UnknownMessages != uint64(len(bad)) {
		t.Errorf("%d messages dropped, want %d: %+v", st.DroppedMessages+st.UnknownMessages, len(bad), st)
	}
	// Nothing counted: it takes three READYs, as ever.
	check(t, "2 READYs", apply(t, m, receive("0", ready("v")), receive("2", ready("v"))), `send "0/1/r" READY 0/1 "v" to [0 1 2 3]`)
	check(t, "3 READYs", apply(t, m, receive("3", ready("v"))), `deliver 0/1 "v"`)
}

// TestBadBroadcast: a bad request from the local application is a bug,
// which stops the node.
func TestBadBroadcast(t *testing.T) {
	for _, b := range []*bracha.Broadcast{
		bracha.NewBroadcast(mc.Self, "0", 1, "not my instance"),
		bracha.NewBroadcast(mc.Self, "1", 0, "v"),
		bracha.NewBroadcast(mc.Self, "1", 1025, "v"),
		bracha.NewBroadcast(mc.Self, "1", 1, strings.Repeat("v", 1025)),
	} {
		m := newNode(t, "1", nil)
		if _, err := m.ApplyEvents(stdtypes.ListOf(b)); err == nil {
			t.Errorf("broadcast %+v accepted", *b)
		}
	}
	m := newNode(t, "1", nil)
	apply(t, m, bracha.NewBroadcast(mc.Self, "1", 1, "v"))
	if _, err := m.ApplyEvents(stdtypes.ListOf(bracha.NewBroadcast(mc.Self, "1", 1, "w"))); err == nil {
		t.Error("a sequence number broadcast twice, with two values")
	}
	// The same request again (a client that asks again after a restart)
	// changes nothing.
	check(t, "same broadcast", apply(t, m, bracha.NewBroadcast(mc.Self, "1", 1, "v")), "")
}

func TestNewErrors(t *testing.T) {
	good := bracha.DefaultModuleParams(members)
	for name, c := range map[string]struct {
		self   stdtypes.NodeID
		mc     bracha.ModuleConfig
		params func(*bracha.ModuleParams)
	}{
		"not a member":   {self: "9"},
		"too few nodes":  {params: func(p *bracha.ModuleParams) { p.F = 2 }},
		"negative f":     {params: func(p *bracha.ModuleParams) { p.F = -1 }},
		"twice a member": {params: func(p *bracha.ModuleParams) { p.Nodes = []stdtypes.NodeID{"0", "1", "2", "0"} }},
		"empty ID":       {params: func(p *bracha.ModuleParams) { p.Nodes = []stdtypes.NodeID{"0", "", "2", "3"} }},
		"MaxSeq 0":       {params: func(p *bracha.ModuleParams) { p.MaxSeq = 0 }},
		"MaxSeq":         {params: func(p *bracha.ModuleParams) { p.MaxSeq = 1 << 20 }},
		"MaxValueBytes":  {params: func(p *bracha.ModuleParams) { p.MaxValueBytes = -1 }},
		"module ID":      {mc: bracha.ModuleConfig{Self: "bracha", App: "app"}},
	} {
		params := good
		params.Nodes = append([]stdtypes.NodeID(nil), good.Nodes...)
		if c.params != nil {
			c.params(&params)
		}
		if c.self == "" {
			c.self = "0"
		}
		if c.mc == (bracha.ModuleConfig{}) {
			c.mc = mc
		}
		if _, err := bracha.New(c.self, c.mc, params); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
