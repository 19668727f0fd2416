package bcb_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/bcb"
	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

func TestQuorum(t *testing.T) {
	for _, tc := range []struct{ n, f, want int }{
		{1, 0, 1}, {3, 0, 2}, {4, 1, 3}, {5, 1, 4}, {6, 1, 4}, {7, 2, 5}, {10, 3, 7}, {100, 33, 67},
	} {
		p := bcb.DefaultModuleParams(stdtypes.NumberedNodeIDs(tc.n))
		p.F = tc.f
		if got := p.Quorum(); got != tc.want {
			t.Errorf("n=%d f=%d: Quorum() = %d, want %d", tc.n, tc.f, got, tc.want)
		}
		// More than (n+f)/2, and the smallest such.
		if q := p.Quorum(); 2*q <= tc.n+tc.f || 2*(q-1) > tc.n+tc.f {
			t.Errorf("n=%d f=%d: quorum %d is not the smallest above (n+f)/2", tc.n, tc.f, q)
		}
	}
}

func TestParamsValidate(t *testing.T) {
	good := bcb.DefaultModuleParams(stdtypes.NumberedNodeIDs(4))
	if err := good.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if good.F != 1 {
		t.Errorf("default F of 4 nodes = %d, want 1", good.F)
	}
	for name, tweak := range map[string]func(p *bcb.ModuleParams){
		"too many faults":    func(p *bcb.ModuleParams) { p.F = 2 },
		"negative faults":    func(p *bcb.ModuleParams) { p.F = -1 },
		"repeated member":    func(p *bcb.ModuleParams) { p.Nodes[1] = "0" },
		"empty member":       func(p *bcb.ModuleParams) { p.Nodes[1] = "" },
		"negative payload":   func(p *bcb.ModuleParams) { p.MaxPayloadBytes = -1 },
		"no window":          func(p *bcb.ModuleParams) { p.Window = 0 },
		"huge window":        func(p *bcb.ModuleParams) { p.Window = 1 << 40 },
		"negative queue":     func(p *bcb.ModuleParams) { p.MaxQueuedBroadcasts = -1 },
		"no period":          func(p *bcb.ModuleParams) { p.TickPeriod = 0 },
		"huge payload":       func(p *bcb.ModuleParams) { p.MaxPayloadBytes = 1 << 40 },
		"negative retention": func(p *bcb.ModuleParams) { p.RetainTicks = -1 },
	} {
		p := bcb.DefaultModuleParams(stdtypes.NumberedNodeIDs(4))
		tweak(&p)
		if err := p.Validate(); err == nil {
			t.Errorf("%s: Validate accepted %+v", name, p)
		}
		if _, err := bcb.NewModule("0", mc, p, nil); err == nil {
			t.Errorf("%s: NewModule accepted it", name)
		}
	}
	if _, err := bcb.NewModule("9", mc, good, nil); err == nil {
		t.Error("NewModule accepted a node outside the membership")
	}
	bad := mc
	bad.Crypto = ""
	if _, err := bcb.NewModule("0", bad, good, nil); err == nil {
		t.Error("NewModule accepted an empty module ID")
	}
}

func TestEventsCodec(t *testing.T) {
	id := bcb.InstanceID{Leader: "0", Incarnation: 2, Seq: 7}
	for _, msg := range []stdtypes.Message{
		&bcb.SendMsg{Incarnation: 2, Seq: 7, Low: 3, Payload: []byte("x")},
		&bcb.EchoMsg{Incarnation: 2, Seq: 7, Sig: []byte{1, 2}},
		certificate(t, 4, id, []byte("x"), 0, 1, 2),
		&bcb.AckMsg{Incarnation: 2, Seq: 7, Digest: bcb.Digest(id, []byte("x"))},
	} {
		data, err := codec.EncodeMessage(msg)
		if err != nil {
			t.Fatalf("%T: %v", msg, err)
		}
		back, err := codec.DecodeMessage(data)
		if err != nil {
			t.Fatalf("%T: %v", msg, err)
		}
		if fmt.Sprint(back) != fmt.Sprint(msg) {
			t.Errorf("%T: got %v back, want %v", msg, back, msg)
		}
	}
	for _, ev := range []stdtypes.Event{
		bcb.NewBroadcast("bcb", 1, []byte("x")), bcb.NewDeliver("app", id, []byte("x")), bcb.NewTick("bcb"),
	} {
		if _, err := codec.EncodeEvent(ev); err != nil {
			t.Errorf("%T: %v", ev, err)
		}
	}
	if id.String() != "0/2/7" {
		t.Errorf("InstanceID.String() = %q", id.String())
	}
}

// Every node delivers every instance of every leader, with the messages
// of the textbook and nothing else.
func TestBroadcast(t *testing.T) {
	c := newCluster(t, 4, nil)
	c.broadcast("0", 0, "a")
	c.broadcast("0", 1, "b")
	c.broadcast("2", 0, "c")
	c.run()
	want := []string{"0/0/0=a", "0/0/1=b", "2/0/0=c"}
	for _, id := range c.ids {
		got := c.deliveredBy(id)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("node %s delivered %q, want %q", id, got, want)
		}
		if st := c.nodes[id].bcb.Stats(); st.Dropped() != 0 || st.Delivered != 3 {
			t.Errorf("node %s: %+v", id, st)
		}
	}
	// Per instance: one SEND and one FINAL event from the leader, an
	// ECHO and an ACK from each of the 3 others.
	wantSent := map[string]int{"*bcb.SendMsg": 3, "*bcb.EchoMsg": 9, "*bcb.FinalMsg": 3, "*bcb.AckMsg": 9}
	if fmt.Sprint(c.sent) != fmt.Sprint(wantSent) {
		t.Errorf("messages sent: %v, want %v", c.sent, wantSent)
	}
	// Every node acknowledged every instance: nothing is left, and the
	// reliablenet modules have nothing in flight.
	for _, id := range c.ids {
		if own, slots, queued, reqs := c.nodes[id].bcb.Sizes(); own+slots+queued+reqs != 0 {
			t.Errorf("node %s holds %d own instances, %d slots, %d queued, %d requests", id, own, slots, queued, reqs)
		}
		if st := c.nodes[id].rnet.Stats(); st.Pending != 0 || st.Retransmitted != 0 {
			t.Errorf("node %s: reliablenet %+v", id, st)
		}
		// Every message the bcb module sent went through reliablenet.
		if sent, rsent := c.nodes[id].bcb.Stats().Sent, c.nodes[id].rnet.Stats().Sent; sent == 0 || sent != rsent {
			t.Errorf("node %s: bcb sent %d messages, reliablenet took %d", id, sent, rsent)
		}
	}
}

// A single node (n = 1, f = 0) delivers its own broadcast alone.
func TestSingleNode(t *testing.T) {
	c := newCluster(t, 1, nil)
	c.broadcast("0", 0, "alone")
	c.run()
	if got := c.deliveredBy("0"); !slices.Equal(got, []string{"0/0/0=alone"}) {
		t.Errorf("delivered %q", got)
	}
}

// Messages get lost; the reliablenet module's retransmissions make up for
// it.
func TestRetransmission(t *testing.T) {
	c := newCluster(t, 4, func(p *bcb.ModuleParams) { p.RetainTicks = 1000 })
	lost := map[string]int{}
	// Lose the first two messages of each type to each node.
	c.filter = func(from, to stdtypes.NodeID, msg stdtypes.Message) stdtypes.Message {
		key := fmt.Sprintf("%T to %s", msg, to)
		if lost[key] < 2 {
			lost[key]++
			return nil
		}
		return msg
	}
	for seq := range 5 {
		c.broadcast("1", uint64(seq), fmt.Sprint("v", seq))
	}
	c.run()
	for range 30 {
		c.tick()
	}
	for _, id := range c.ids {
		if got := c.deliveredBy(id); len(got) != 5 {
			t.Errorf("node %s delivered %q", id, got)
		}
		if own, slots, _, _ := c.nodes[id].bcb.Sizes(); own+slots != 0 {
			t.Errorf("node %s holds %d own instances and %d slots", id, own, slots)
		}
		if st := c.nodes[id].rnet.Stats(); st.Pending != 0 {
			t.Errorf("node %s: reliablenet %+v", id, st)
		}
	}
	if lost["*bcb.SendMsg to 2"] != 2 || lost["*reliablenet.AckMsg to 1"] != 2 {
		t.Errorf("lost %v", lost)
	}
}

// A crashed node never acknowledges: the leader gives up on it after
// RetainTicks, and its window moves on.
func TestGiveUpOnCrashedNode(t *testing.T) {
	const retain = 3
	c := newCluster(t, 4, func(p *bcb.ModuleParams) { p.RetainTicks = retain; p.Window = 4 })
	c.filter = func(from, to stdtypes.NodeID, msg stdtypes.Message) stdtypes.Message {
		if to == "3" || from == "3" {
			return nil
		}
		return msg
	}
	for seq := range 10 {
		c.broadcast("0", uint64(seq), fmt.Sprint("v", seq))
	}
	c.run()
	for range 10 * (retain + 2) {
		c.tick()
	}
	for _, id := range c.ids[:3] {
		if got := c.deliveredBy(id); len(got) != 10 {
			t.Errorf("node %s delivered %q", id, got)
		}
	}
	st := c.nodes["0"].bcb.Stats()
	if st.GaveUp != 10 || st.Broadcasts != 10 {
		t.Errorf("leader: %+v", st)
	}
	if own, slots, queued, reqs := c.nodes["0"].bcb.Sizes(); own+slots+queued+reqs != 0 {
		t.Errorf("leader holds %d own, %d slots, %d queued, %d requests", own, slots, queued, reqs)
	}
	// Node 0 has the reliablenet module stop sending node 3 the SENDs, at
	// certification, and the FINALs, when it gives up.
	if st := c.nodes["0"].rnet.Stats(); st.Pending != 0 || st.Cancelled != 20 {
		t.Errorf("leader's reliablenet: %+v", st)
	}
}

// newNode returns node id's bcb module after Init, and its crypto module.
func newNode(t *testing.T, id stdtypes.NodeID, tweak func(*bcb.ModuleParams)) *testNode {
	t.Helper()
	params := bcb.DefaultModuleParams(stdtypes.NumberedNodeIDs(4))
	if tweak != nil {
		tweak(&params)
	}
	m, err := bcb.NewModule(id, mc, params, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.ApplyEvents(stdtypes.ListOf(stdevents.NewInit(mc.Self)))
	if err != nil {
		t.Fatal(err)
	}
	if out.Len() != 1 {
		t.Fatalf("Init gave %d events", out.Len())
	}
	if tr, ok := out.Get(0).(*stdevents.TimerRepeat); !ok || tr.Period != params.TickPeriod || tr.Dest() != mc.Timer {
		t.Fatalf("Init gave %v", out.Get(0))
	}
	i := slices.Index(stdtypes.NumberedNodeIDs(4), id)
	cm, err := crypto.NewModule(nodeCrypto(t, 4, i))
	if err != nil {
		t.Fatal(err)
	}
	return &testNode{id: id, bcb: m, crypto: cm}
}

// apply hands the node evs, answers its crypto requests, and returns what
// else it emitted.
func (n *testNode) apply(t *testing.T, evs ...stdtypes.Event) []stdtypes.Event {
	t.Helper()
	var rest []stdtypes.Event
	for list := stdtypes.ListOf(evs...); list.Len() > 0; {
		out, err := n.bcb.ApplyEvents(list)
		if err != nil {
			t.Fatalf("node %s: %v", n.id, err)
		}
		list = stdtypes.EmptyList()
		for _, ev := range out.Slice() {
			switch ev.(type) {
			case *crypto.SignRequest, *crypto.VerifyRequest:
				res, err := n.crypto.ApplyEvents(stdtypes.ListOf(ev))
				if err != nil {
					t.Fatal(err)
				}
				list.PushBackList(res)
			default:
				rest = append(rest, ev)
			}
		}
	}
	return rest
}

func received(from stdtypes.NodeID, msg stdtypes.Message) stdtypes.Event {
	return stdevents.NewMessageReceived(mc.Self, from, msg)
}

// describe lists events as "Type to dest", messages as "Msg(seq) to
// nodes", and what the reliablenet module is asked to stop sending as
// "Cancel ID".
func describe(evs []stdtypes.Event) string {
	var parts []string
	for _, ev := range evs {
		switch ev := ev.(type) {
		case *reliablenet.SendMessage:
			parts = append(parts, fmt.Sprintf("%s(%d) to %v", strings.TrimPrefix(fmt.Sprintf("%T", ev.Msg), "*bcb."), seqOf(ev.Msg), ev.Destinations))
		case *reliablenet.Cancel:
			parts = append(parts, fmt.Sprintf("Cancel %s", ev.MsgID))
		case *reliablenet.CancelPrefix:
			parts = append(parts, fmt.Sprintf("CancelPrefix %s", ev.Prefix))
		case *bcb.Deliver:
			parts = append(parts, fmt.Sprintf("Deliver %v=%s", ev.ID, ev.Payload))
		default:
			parts = append(parts, fmt.Sprintf("%T", ev))
		}
	}
	return strings.Join(parts, "; ")
}

func seqOf(msg stdtypes.Message) uint64 {
	switch m := msg.(type) {
	case *bcb.SendMsg:
		return m.Seq
	case *bcb.EchoMsg:
		return m.Seq
	case *bcb.FinalMsg:
		return m.Seq
	case *bcb.AckMsg:
		return m.Seq
	}
	return 0
}

// A follower, event in, events out: it echoes the leader's first SEND,
// once, delivers a FINAL with a valid certificate, and acknowledges it.
func TestFollower(t *testing.T) {
	n := newNode(t, "1", nil)
	id := bcb.InstanceID{Leader: "0", Seq: 0}
	steps := []struct {
		in   stdtypes.Event
		want string
	}{
		{received("0", &bcb.SendMsg{Seq: 0, Payload: []byte("a")}), "EchoMsg(0) to [0]"},
		// A copy of the SEND: the reliablenet module retransmits the echo
		// if it was lost.
		{received("0", &bcb.SendMsg{Seq: 0, Payload: []byte("a")}), ""},
		// The leader equivocates: no second echo.
		{received("0", &bcb.SendMsg{Seq: 0, Payload: []byte("b")}), ""},
		// The echo is needed no more; the ACK is.
		{received("0", certificate(t, 4, id, []byte("a"), 0, 2, 3)), "Deliver 0/0/0=a; Cancel 0/0/0/e; AckMsg(0) to [0]"},
		// After delivery, nothing.
		{received("0", certificate(t, 4, id, []byte("a"), 0, 2, 3)), ""},
		{received("0", &bcb.SendMsg{Seq: 0, Payload: []byte("a")}), ""},
	}
	for i, step := range steps {
		if got := describe(n.apply(t, step.in)); got != step.want {
			t.Errorf("step %d: got %q, want %q", i, got, step.want)
		}
	}
	st := n.bcb.Stats()
	if st.Equivocation != 1 || st.Delivered != 1 || st.Stale != 2 || st.Duplicate != 1 || st.Invalid() != 1 {
		t.Errorf("%+v", st)
	}
}

// A node that echoed one payload delivers another with a valid
// certificate: the certificate proves that a quorum echoed it.
func TestDeliverCertifiedOverEchoed(t *testing.T) {
	n := newNode(t, "1", nil)
	id := bcb.InstanceID{Leader: "0", Seq: 0}
	n.apply(t, received("0", &bcb.SendMsg{Seq: 0, Payload: []byte("a")}))
	got := describe(n.apply(t, received("0", certificate(t, 4, id, []byte("b"), 0, 2, 3))))
	if got != "Deliver 0/0/0=b; Cancel 0/0/0/e; AckMsg(0) to [0]" {
		t.Errorf("got %q", got)
	}
}

// A leader, event in, events out.
func TestLeader(t *testing.T) {
	n := newNode(t, "0", nil)
	id := bcb.InstanceID{Leader: "0", Seq: 0}
	payload := []byte("hello")
	if got := describe(n.apply(t, bcb.NewBroadcast(mc.Self, 0, payload))); got != "SendMsg(0) to [1 2 3]" {
		t.Fatalf("Broadcast: %q", got)
	}
	if got := describe(n.apply(t, received("1", &bcb.EchoMsg{Seq: 0, Sig: sign(t, 4, 1, id, payload)}))); got != "" {
		t.Fatalf("first echo: %q", got)
	}
	// A bad signature does not count.
	if got := describe(n.apply(t, received("2", &bcb.EchoMsg{Seq: 0, Sig: sign(t, 4, 2, id, []byte("other"))}))); got != "" {
		t.Fatalf("bad echo: %q", got)
	}
	// With its own, the leader has a quorum: FINAL, and delivery.
	out := n.apply(t, received("3", &bcb.EchoMsg{Seq: 0, Sig: sign(t, 4, 3, id, payload)}))
	// The FINAL replaces the SEND.
	if got := describe(out); got != "Cancel 0/0/0/s; FinalMsg(0) to [1 2 3]; Deliver 0/0/0=hello" {
		t.Fatalf("quorum: %q", got)
	}
	final := out[1].(*reliablenet.SendMessage).Msg.(*bcb.FinalMsg)
	if !slices.Equal(final.Signers, []stdtypes.NodeID{"0", "1", "3"}) {
		t.Errorf("certificate signed by %v", final.Signers)
	}
	// An echo after the certificate, and acknowledgments: the leader
	// forgets the instance when every node has acknowledged it, and has
	// the reliablenet module stop sending the FINAL. Ticks change nothing.
	n.apply(t, received("2", &bcb.EchoMsg{Seq: 0, Sig: sign(t, 4, 2, id, payload)}))
	if got := describe(n.apply(t, bcb.NewTick(mc.Self))); got != "" {
		t.Errorf("tick: %q", got)
	}
	digest := bcb.Digest(id, payload)
	ack := func(from stdtypes.NodeID) stdtypes.Event {
		return received(from, &bcb.AckMsg{Seq: 0, Digest: digest})
	}
	n.apply(t, ack("1"), ack("2"), ack("2"))
	if got := describe(n.apply(t, ack("3"))); got != "Cancel 0/0/0/f" {
		t.Errorf("last ack: %q", got)
	}
	if own, slots, _, _ := n.bcb.Sizes(); own+slots != 0 {
		t.Errorf("%d own instances and %d slots left", own, slots)
	}
	st := n.bcb.Stats()
	if st.BadSignature != 1 || st.Stale != 1 || st.Duplicate != 1 || st.Delivered != 1 {
		t.Errorf("%+v", st)
	}
}

// Invalid messages are dropped, counted by reason, and change nothing.
func TestInvalidMessages(t *testing.T) {
	id := bcb.InstanceID{Leader: "0", Seq: 0}
	good := func() *bcb.FinalMsg { return certificate(t, 4, id, []byte("a"), 0, 2, 3) }
	tweakFinal := func(f func(*bcb.FinalMsg)) *bcb.FinalMsg { m := good(); f(m); return m }
	for _, tc := range []struct {
		name   string
		node   stdtypes.NodeID
		pre    []stdtypes.Event
		in     stdtypes.Event
		reason func(bcb.Stats) uint64
	}{
		{name: "SEND from a stranger", in: received("9", &bcb.SendMsg{Seq: 0}), reason: func(s bcb.Stats) uint64 { return s.UnknownSender }},
		{name: "ECHO from a stranger", node: "0", in: received("9", &bcb.EchoMsg{Seq: 0, Sig: []byte{1}}), reason: func(s bcb.Stats) uint64 { return s.UnknownSender }},
		{name: "FINAL from a stranger", in: received("9", good()), reason: func(s bcb.Stats) uint64 { return s.UnknownSender }},
		{name: "ACK from a stranger", node: "0", in: received("9", &bcb.AckMsg{}), reason: func(s bcb.Stats) uint64 { return s.UnknownSender }},
		{name: "oversize SEND", in: received("0", &bcb.SendMsg{Payload: make([]byte, 11)}), reason: func(s bcb.Stats) uint64 { return s.Oversize }},
		{name: "oversize FINAL", in: received("0", tweakFinal(func(m *bcb.FinalMsg) { m.Payload = make([]byte, 11) })), reason: func(s bcb.Stats) uint64 { return s.Oversize }},
		{name: "Low above Seq", in: received("0", &bcb.SendMsg{Seq: 1, Low: 2}), reason: func(s bcb.Stats) uint64 { return s.Malformed }},
		{name: "SEND beyond the window", in: received("0", &bcb.SendMsg{Seq: 8}), reason: func(s bcb.Stats) uint64 { return s.Malformed }},
		{name: "SEND at the end of uint64", in: received("0", &bcb.SendMsg{Seq: ^uint64(0)}), reason: func(s bcb.Stats) uint64 { return s.Malformed }},
		{name: "FINAL beyond the window", in: received("0", tweakFinal(func(m *bcb.FinalMsg) { m.Seq = 8 })), reason: func(s bcb.Stats) uint64 { return s.Malformed }},
		{name: "SEND of an earlier incarnation", pre: []stdtypes.Event{received("0", &bcb.SendMsg{Incarnation: 2})}, in: received("0", &bcb.SendMsg{Incarnation: 1}), reason: func(s bcb.Stats) uint64 { return s.Stale }},
		{name: "FINAL of an earlier incarnation", pre: []stdtypes.Event{received("0", &bcb.SendMsg{Incarnation: 2})}, in: received("0", good()), reason: func(s bcb.Stats) uint64 { return s.Stale }},
		{name: "ECHO of another incarnation", node: "0", pre: []stdtypes.Event{bcb.NewBroadcast(mc.Self, 0, []byte("a"))}, in: received("1", &bcb.EchoMsg{Incarnation: 1, Seq: 0, Sig: []byte{1}}), reason: func(s bcb.Stats) uint64 { return s.Stale }},
		{name: "ECHO never asked for", node: "0", in: received("1", &bcb.EchoMsg{Seq: 0, Sig: []byte{1}}), reason: func(s bcb.Stats) uint64 { return s.UnknownInstance }},
		{name: "ECHO without signature", node: "0", pre: []stdtypes.Event{bcb.NewBroadcast(mc.Self, 0, []byte("a"))}, in: received("1", &bcb.EchoMsg{Seq: 0}), reason: func(s bcb.Stats) uint64 { return s.Malformed }},
		{name: "ECHO with a huge signature", node: "0", pre: []stdtypes.Event{bcb.NewBroadcast(mc.Self, 0, []byte("a"))}, in: received("1", &bcb.EchoMsg{Seq: 0, Sig: make([]byte, 1000)}), reason: func(s bcb.Stats) uint64 { return s.Malformed }},
		{name: "ECHO with a bad signature", node: "0", pre: []stdtypes.Event{bcb.NewBroadcast(mc.Self, 0, []byte("a"))}, in: received("1", &bcb.EchoMsg{Seq: 0, Sig: make([]byte, 64)}), reason: func(s bcb.Stats) uint64 { return s.BadSignature }},
		{name: "ECHO signed by another", node: "0", pre: []stdtypes.Event{bcb.NewBroadcast(mc.Self, 0, []byte("a"))}, in: received("1", &bcb.EchoMsg{Seq: 0, Sig: sign(t, 4, 2, id, []byte("a"))}), reason: func(s bcb.Stats) uint64 { return s.BadSignature }},
		{name: "ACK before the certificate", node: "0", pre: []stdtypes.Event{bcb.NewBroadcast(mc.Self, 0, []byte("a"))}, in: received("1", &bcb.AckMsg{Seq: 0}), reason: func(s bcb.Stats) uint64 { return s.UnknownInstance }},
		{name: "ACK never asked for", node: "0", in: received("1", &bcb.AckMsg{Seq: 5}), reason: func(s bcb.Stats) uint64 { return s.UnknownInstance }},
		{name: "ACK of another incarnation", node: "0", pre: certified(t), in: received("1", &bcb.AckMsg{Incarnation: 1, Seq: 0, Digest: bcb.Digest(id, []byte("a"))}), reason: func(s bcb.Stats) uint64 { return s.Stale }},
		{name: "ACK of another payload", node: "0", pre: certified(t), in: received("1", &bcb.AckMsg{Seq: 0, Digest: bcb.Digest(id, []byte("b"))}), reason: func(s bcb.Stats) uint64 { return s.BadAck }},
		{name: "ACK without digest", node: "0", pre: certified(t), in: received("1", &bcb.AckMsg{Seq: 0}), reason: func(s bcb.Stats) uint64 { return s.BadAck }},
		{name: "too few signers", in: received("0", tweakFinal(func(m *bcb.FinalMsg) { m.Signers, m.Sigs = m.Signers[:2], m.Sigs[:2] })), reason: func(s bcb.Stats) uint64 { return s.BadCertificate }},
		{name: "repeated signer", in: received("0", tweakFinal(func(m *bcb.FinalMsg) { m.Signers[2], m.Sigs[2] = m.Signers[1], m.Sigs[1] })), reason: func(s bcb.Stats) uint64 { return s.BadCertificate }},
		{name: "unknown signer", in: received("0", tweakFinal(func(m *bcb.FinalMsg) { m.Signers[2] = "9" })), reason: func(s bcb.Stats) uint64 { return s.BadCertificate }},
		{name: "more signers than nodes", in: received("0", tweakFinal(func(m *bcb.FinalMsg) {
			m.Signers = append(m.Signers, "1", "1")
			m.Sigs = append(m.Sigs, m.Sigs[0], m.Sigs[0])
		})), reason: func(s bcb.Stats) uint64 { return s.BadCertificate }},
		{name: "signers without signatures", in: received("0", tweakFinal(func(m *bcb.FinalMsg) { m.Sigs = m.Sigs[:2] })), reason: func(s bcb.Stats) uint64 { return s.BadCertificate }},
		{name: "empty signature", in: received("0", tweakFinal(func(m *bcb.FinalMsg) { m.Sigs[1] = nil })), reason: func(s bcb.Stats) uint64 { return s.BadCertificate }},
		{name: "invalid signature", in: received("0", tweakFinal(func(m *bcb.FinalMsg) { m.Sigs[1] = m.Sigs[0] })), reason: func(s bcb.Stats) uint64 { return s.BadCertificate }},
		{name: "certificate of another payload", in: received("0", tweakFinal(func(m *bcb.FinalMsg) { m.Payload = []byte("b") })), reason: func(s bcb.Stats) uint64 { return s.BadCertificate }},
		{name: "certificate of another instance", in: received("0", tweakFinal(func(m *bcb.FinalMsg) { m.Seq = 1 })), reason: func(s bcb.Stats) uint64 { return s.BadCertificate }},
		{name: "certificate of another leader", in: received("2", good()), reason: func(s bcb.Stats) uint64 { return s.BadCertificate }},
		{name: "message of another module", in: received("0", &otherMsg{}), reason: func(s bcb.Stats) uint64 { return s.UnknownMessages }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			node := tc.node
			if node == "" {
				node = "1"
			}
			n := newNode(t, node, func(p *bcb.ModuleParams) { p.MaxPayloadBytes = 10; p.Window = 8 })
			if len(tc.pre) > 0 {
				n.apply(t, tc.pre...)
			}
			before := n.bcb.Stats()
			out := n.apply(t, tc.in)
			st := n.bcb.Stats()
			if got := tc.reason(st) - tc.reason(before); got != 1 {
				t.Errorf("counted %d, want 1: %+v", got, st)
			}
			if st.Dropped()-before.Dropped() != 1 {
				t.Errorf("dropped %d in all, want 1: %+v", st.Dropped()-before.Dropped(), st)
			}
			if len(out) > 0 {
				t.Errorf("emitted %s", describe(out))
			}
		})
	}
}

// certified returns the events that make node 0 certify its instance 0 of
// payload "a".
func certified(t *testing.T) []stdtypes.Event {
	id := bcb.InstanceID{Leader: "0", Seq: 0}
	return []stdtypes.Event{
		bcb.NewBroadcast(mc.Self, 0, []byte("a")),
		received("1", &bcb.EchoMsg{Seq: 0, Sig: sign(t, 4, 1, id, []byte("a"))}),
		received("2", &bcb.EchoMsg{Seq: 0, Sig: sign(t, 4, 2, id, []byte("a"))}),
	}
}

// otherMsg is a message of a type the module does not handle.
type otherMsg struct{ stdtypes.MessageBase }

// A message wrapped in an event of another type is not a message.
func TestMessageAsEvent(t *testing.T) {
	n := newNode(t, "1", nil)
	if _, err := n.bcb.ApplyEvents(stdtypes.ListOf(stdevents.NewTimerDelay("bcb", time.Second))); err == nil {
		t.Error("a TimerDelay event was accepted")
	}
}

// A leader forgets below Low what it gave up: a follower too.
func TestLowForgets(t *testing.T) {
	n := newNode(t, "1", nil)
	n.apply(t, received("0", &bcb.SendMsg{Seq: 2, Payload: []byte("x")}))
	n.apply(t, received("0", &bcb.SendMsg{Seq: 5, Low: 4, Payload: []byte("y")}))
	if low := n.bcb.Low("0"); low != 4 {
		t.Errorf("low = %d, want 4", low)
	}
	if got := describe(n.apply(t, received("0", &bcb.SendMsg{Seq: 2, Low: 2, Payload: []byte("x")}))); got != "" {
		t.Errorf("SEND below Low: %q", got)
	}
	// A Byzantine leader jumps to the end of uint64: only its own window
	// moves, and nothing overflows.
	n.apply(t, received("0", &bcb.SendMsg{Seq: ^uint64(0), Low: ^uint64(0), Payload: []byte("z")}))
	if low := n.bcb.Low("0"); low != ^uint64(0) {
		t.Errorf("low = %d", low)
	}
	if _, slots, _, _ := n.bcb.Sizes(); slots != 1 {
		t.Errorf("%d slots", slots)
	}
	if low := n.bcb.Low("2"); low != 0 {
		t.Errorf("another leader's low = %d", low)
	}
}

// Broadcasts beyond the window wait, in a bounded queue, until instances
// finish.
func TestWindowAndQueue(t *testing.T) {
	c := newCluster(t, 4, func(p *bcb.ModuleParams) { p.Window = 3; p.MaxQueuedBroadcasts = 100 })
	for seq := range 50 {
		c.broadcast("0", uint64(seq), fmt.Sprint(seq))
	}
	c.run()
	if got := c.nodes["0"].maxOwn; got != 3 {
		t.Errorf("the leader had up to %d instances at once; the window holds 3", got)
	}
	for _, id := range c.ids {
		got := c.deliveredBy(id)
		if len(got) != 50 {
			t.Fatalf("node %s delivered %d", id, len(got))
		}
		for seq, d := range got {
			if want := fmt.Sprintf("0/0/%d=%d", seq, seq); d != want {
				t.Errorf("node %s: delivery %d is %q, want %q", id, seq, d, want)
			}
		}
	}
}

// Mistakes of the local caller stop the node.
func TestBroadcastErrors(t *testing.T) {
	for name, evs := range map[string][]stdtypes.Event{
		"gap":      {bcb.NewBroadcast(mc.Self, 1, nil)},
		"repeat":   {bcb.NewBroadcast(mc.Self, 0, nil), bcb.NewBroadcast(mc.Self, 0, nil)},
		"oversize": {bcb.NewBroadcast(mc.Self, 0, make([]byte, 11))},
		"queue full": {
			bcb.NewBroadcast(mc.Self, 0, nil), bcb.NewBroadcast(mc.Self, 1, nil),
			bcb.NewBroadcast(mc.Self, 2, nil), bcb.NewBroadcast(mc.Self, 3, nil),
		},
		"unknown sign result":   {crypto.NewSignResult(crypto.Origin{Module: mc.Self, ID: 7}, nil)},
		"unknown verify result": {crypto.NewVerifyResult(crypto.Origin{Module: mc.Self, ID: 7}, nil)},
	} {
		m, err := bcb.NewModule("0", mc, func() bcb.ModuleParams {
			p := bcb.DefaultModuleParams(stdtypes.NumberedNodeIDs(4))
			p.MaxPayloadBytes, p.Window, p.MaxQueuedBroadcasts = 10, 1, 2
			return p
		}(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.ApplyEvents(stdtypes.ListOf(evs...)); err == nil {
			t.Errorf("%s: no error", name)
		} else if !strings.Contains(err.Error(), `module "bcb"`) {
			t.Errorf("%s: error does not name the module: %v", name, err)
		}
	}
}

// Answers from the crypto module that do not fit their request are a bug
// of a local module: an error.
func TestCryptoMismatch(t *testing.T) {
	m, err := bcb.NewModule("0", mc, bcb.DefaultModuleParams(stdtypes.NumberedNodeIDs(4)), nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.ApplyEvents(stdtypes.ListOf(bcb.NewBroadcast(mc.Self, 0, []byte("a"))))
	if err != nil {
		t.Fatal(err)
	}
	var req *crypto.SignRequest
	for _, ev := range out.Slice() {
		if r, ok := ev.(*crypto.SignRequest); ok {
			req = r
		}
	}
	if req == nil || len(req.Msgs) != 1 {
		t.Fatalf("no SignRequest in %v", out.Slice())
	}
	if _, err := m.ApplyEvents(stdtypes.ListOf(crypto.NewSignResult(req.Origin, nil))); err == nil {
		t.Error("a SignResult with no signature was accepted")
	}
}

// The leader verifies only as many echoes as the certificate needs; one
// more waits, and is verified if one of them turns out invalid.
func TestLeaderSpareEcho(t *testing.T) {
	n := newNode(t, "0", nil)
	id := bcb.InstanceID{Leader: "0", Seq: 0}
	payload := []byte("hello")
	n.apply(t, bcb.NewBroadcast(mc.Self, 0, payload))
	out, err := n.bcb.ApplyEvents(stdtypes.ListOf(
		received("1", &bcb.EchoMsg{Seq: 0, Sig: sign(t, 4, 2, id, payload)}), // Signed by the wrong node.
		received("2", &bcb.EchoMsg{Seq: 0, Sig: sign(t, 4, 2, id, payload)}),
		received("3", &bcb.EchoMsg{Seq: 0, Sig: sign(t, 4, 3, id, payload)}),
	))
	if err != nil {
		t.Fatal(err)
	}
	req, ok := out.Get(0).(*crypto.VerifyRequest)
	if out.Len() != 1 || !ok || len(req.Items) != 2 {
		t.Fatalf("got %v, want one VerifyRequest of 2 echoes", out.Slice())
	}
	// The spare echo is verified once the bad one fails.
	res, err := n.crypto.ApplyEvents(out)
	if err != nil {
		t.Fatal(err)
	}
	rest := n.apply(t, res.Slice()...)
	if got := describe(rest); got != "Cancel 0/0/0/s; FinalMsg(0) to [1 2 3]; Deliver 0/0/0=hello" {
		t.Fatalf("got %q", got)
	}
	final := rest[1].(*reliablenet.SendMessage).Msg.(*bcb.FinalMsg)
	if !slices.Equal(final.Signers, []stdtypes.NodeID{"0", "2", "3"}) {
		t.Errorf("certificate signed by %v", final.Signers)
	}
	if st := n.bcb.Stats(); st.BadSignature != 1 {
		t.Errorf("%+v", st)
	}
}

// A follower does not verify its own signature in a certificate.
func TestFollowerSkipsOwnSignature(t *testing.T) {
	n := newNode(t, "1", nil)
	id := bcb.InstanceID{Leader: "0", Seq: 0}
	n.apply(t, received("0", &bcb.SendMsg{Seq: 0, Payload: []byte("a")}))
	out, err := n.bcb.ApplyEvents(stdtypes.ListOf(received("0", certificate(t, 4, id, []byte("a"), 0, 1, 3))))
	if err != nil {
		t.Fatal(err)
	}
	req, ok := out.Get(0).(*crypto.VerifyRequest)
	if out.Len() != 1 || !ok || len(req.Items) != 2 || slices.ContainsFunc(req.Items, func(it crypto.SigItem) bool { return it.Signer == "1" }) {
		t.Fatalf("got %v, want one VerifyRequest without node 1's signature", out.Slice())
	}
	// Another's signature under this node's name is verified.
	cert := certificate(t, 4, id, []byte("a"), 0, 1, 3)
	cert.Seq = 1
	n2 := newNode(t, "1", nil)
	n2.apply(t, received("0", &bcb.SendMsg{Seq: 1, Payload: []byte("a")}))
	n2.apply(t, received("0", cert))
	if st := n2.bcb.Stats(); st.BadCertificate != 1 || st.Delivered != 0 {
		t.Errorf("%+v", st)
	}
}

// A leader that keeps sending invalid certificates for an instance gets
// them verified maxBadFinals (3) times; later ones are dropped unverified.
// A valid certificate after that is ignored too: only a Byzantine leader
// sends invalid ones.
func TestInvalidCertificatesVerifiedAFewTimes(t *testing.T) {
	id := bcb.InstanceID{Leader: "0", Seq: 0}
	n := newNode(t, "1", nil)
	verifications := 0
	for i := range 6 {
		bad := certificate(t, 4, id, []byte("a"), 0, 2, 3)
		bad.Sigs[1] = bad.Sigs[0]
		out, err := n.bcb.ApplyEvents(stdtypes.ListOf(received("0", bad)))
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range out.Slice() {
			req, ok := ev.(*crypto.VerifyRequest)
			if !ok {
				continue
			}
			verifications++
			res, err := n.crypto.ApplyEvents(stdtypes.ListOf(req))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := n.bcb.ApplyEvents(res); err != nil {
				t.Fatal(err)
			}
		}
		if got := n.bcb.Stats().BadCertificate; got != uint64(i+1) {
			t.Fatalf("after %d invalid FINALs, %d counted", i+1, got)
		}
	}
	if verifications != 3 {
		t.Errorf("%d verification requests for 6 invalid certificates, want 3", verifications)
	}
	if out := n.apply(t, received("0", certificate(t, 4, id, []byte("a"), 0, 2, 3))); len(out) != 0 {
		t.Errorf("a valid certificate from the same leader after that: %s", describe(out))
	}
}
