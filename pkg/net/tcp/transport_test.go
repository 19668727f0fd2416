package tcp_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/internal/testnet"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/net"
	"github.com/mirframework/mir/pkg/net/tcp"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

func TestDelivery(t *testing.T) {
	_, ts := started(t, 3, tcp.Options{})
	msg := newText("hello")
	send(t, ts[0], msg, "1", "2")

	for _, i := range []int{1, 2} {
		got := receive(t, ts[i], 1)
		rcv := got[0]
		if rcv.Dest() != "app" || rcv.From != "0" {
			t.Errorf("node %d: got MessageReceived to %q from %q, want to \"app\" from \"0\"", i, rcv.Dest(), rcv.From)
		}
		m, ok := rcv.Msg.(*text)
		if !ok || m.S != "hello" {
			t.Fatalf("node %d: got message %#v, want text \"hello\"", i, rcv.Msg)
		}
	}
	if got := receivedNow(ts[0]); len(got) != 0 {
		t.Errorf("the sender received %d messages, want 0", len(got))
	}

	// Out is counted once the message is flushed, which may come a little
	// after it arrived.
	eventually(t, "the sender counts its messages", func() bool {
		s := ts[0].Stats()
		return s.Peers["1"].Out == 1 && s.Peers["2"].Out == 1
	})
	s0 := ts[0].Stats()
	for _, peer := range []stdtypes.NodeID{"1", "2"} {
		if want := (net.PeerStats{Out: 1}); s0.Peers[peer] != want {
			t.Errorf("sender's stats for %s: %+v, want %+v", peer, s0.Peers[peer], want)
		}
		rs := ts[peer[0]-'0'].Stats()
		if want := (net.PeerStats{In: 1}); rs.Peers["0"] != want {
			t.Errorf("stats of %s for the sender: %+v, want %+v", peer, rs.Peers["0"], want)
		}
	}
	m0, m1 := ts[0].Metrics().Peers["1"], ts[1].Metrics().Peers["0"]
	if m0.BytesOut == 0 || m0.BytesOut != m1.BytesIn {
		t.Errorf("bytes out %d, bytes in %d: want equal and positive", m0.BytesOut, m1.BytesIn)
	}
}

func TestOrderPerLink(t *testing.T) {
	_, ts := started(t, 2, tcp.Options{})
	const batches, perBatch = 50, 40
	for b := range batches {
		list := stdtypes.EmptyList()
		for i := range perBatch {
			list.PushBack(stdevents.NewSendMessage("net", newText(fmt.Sprint(b*perBatch+i)), stdevents.To("app", "1")))
		}
		if err := ts[0].ApplyEvents(context.Background(), list); err != nil {
			t.Fatal(err)
		}
	}
	got := receive(t, ts[1], batches*perBatch)
	for i, rcv := range got {
		if s := rcv.Msg.(*text).S; s != fmt.Sprint(i) {
			t.Fatalf("message %d is %q: messages on a link must keep their order", i, s)
		}
	}
}

func TestToSelf(t *testing.T) {
	_, ts := started(t, 2, tcp.Options{})
	msg := newText("me")
	send(t, ts[0], msg, "0")
	got := receive(t, ts[0], 1)
	if got[0].From != "0" || got[0].Msg != stdtypes.Message(msg) {
		t.Errorf("node 0 received %+v, want its own message as it is", got[0])
	}
	if s := ts[0].Stats().Peers["0"]; s != (net.PeerStats{Out: 1, In: 1}) {
		t.Errorf("stats for self: %+v, want Out 1, In 1", s)
	}
	// A message to self is never encoded: an unregistered type is fine.
	send(t, ts[0], &unregistered{S: "x"}, "0")
	receive(t, ts[0], 1)
	if m := ts[0].Metrics().Peers["0"]; m.BytesOut != 0 {
		t.Errorf("messages to self counted %d bytes; they never touch a socket", m.BytesOut)
	}
}

func TestUnknownNode(t *testing.T) {
	_, ts := started(t, 2, tcp.Options{})
	send(t, ts[0], newText("x"), "7", "1", "8")
	receive(t, ts[1], 1)
	s := ts[0].Stats()
	if s.DroppedUnknown != 2 {
		t.Errorf("DroppedUnknown = %d, want 2", s.DroppedUnknown)
	}
	if _, ok := s.Peers["7"]; ok {
		t.Errorf("stats have an entry for unknown node 7; they must be bounded by the membership")
	}
}

func TestUnregisteredMessageIsAnError(t *testing.T) {
	_, ts := started(t, 2, tcp.Options{})
	ev := stdevents.NewSendMessage("net", &unregistered{S: "x"}, stdevents.To("app", "1"))
	err := ts[0].ApplyEvents(context.Background(), stdtypes.ListOf(ev))
	if err == nil || !strings.Contains(err.Error(), "tcp_test.unregistered") {
		t.Fatalf("ApplyEvents = %v, want an error naming the message type", err)
	}
}

func TestInvalidSendMessage(t *testing.T) {
	_, ts := started(t, 2, tcp.Options{})
	cases := []*stdevents.SendMessage{
		stdevents.NewSendMessage("net", nil, stdevents.To("app", "1")),
		stdevents.NewSendMessage("net", newText("x"), stdevents.To("app")),
		stdevents.NewSendMessage("net", newText("x"), stdevents.To("", "1")),
		stdevents.NewSendMessage("net", newText("x"), stdevents.To("app//sub", "1")),
		nil,
	}
	for i, ev := range cases {
		good := stdevents.NewSendMessage("net", newText("ok"), stdevents.To("app", "1"))
		if err := ts[0].ApplyEvents(context.Background(), stdtypes.ListOf(ev, good)); err != nil {
			t.Fatalf("case %d: ApplyEvents = %v, want the invalid event dropped", i, err)
		}
	}
	if got := ts[0].Stats().DroppedInvalid; got != uint64(len(cases)) {
		t.Errorf("DroppedInvalid = %d, want %d", got, len(cases))
	}
	if got := receive(t, ts[1], len(cases)); got[0].Msg.(*text).S != "ok" {
		t.Errorf("node 1 received %v", got[0].Msg)
	}
}

func TestUnexpectedEventsAreErrors(t *testing.T) {
	_, ts := started(t, 1, tcp.Options{})
	for name, ev := range map[string]stdtypes.Event{
		"other event": &otherEvent{Header: stdtypes.NewHeader("net")},
		"timer event": stdevents.NewTimerDelay("net", time.Second),
		"nil":         nil,
	} {
		if err := ts[0].ApplyEvents(context.Background(), stdtypes.ListOf(ev)); err == nil {
			t.Errorf("%s: ApplyEvents returned no error", name)
		}
	}
	if err := ts[0].ApplyEvents(context.Background(), stdtypes.ListOf(stdevents.NewInit("net"))); err != nil {
		t.Errorf("Init: %v", err)
	}
}

func TestTooLarge(t *testing.T) {
	_, ts := started(t, 2, tcp.Options{MaxFrameBytes: 1 << 10})
	send(t, ts[0], newText(strings.Repeat("x", 2<<10)), "1", "0")
	send(t, ts[0], newText("small"), "1")
	got := receive(t, ts[1], 1)
	if got[0].Msg.(*text).S != "small" {
		t.Errorf("node 1 received %v, want only the small message", got[0].Msg)
	}
	receive(t, ts[0], 1) // To self: never encoded, so never too large.
	m := ts[0].Metrics()
	if m.DroppedTooLarge != 1 || m.Peers["1"].DroppedOut != 1 {
		t.Errorf("DroppedTooLarge %d, DroppedOut %d; want 1 and 1", m.DroppedTooLarge, m.Peers["1"].DroppedOut)
	}
}

func TestNotStarted(t *testing.T) {
	c := newCluster(t, 2)
	t0 := c.transport(t, 0, tcp.Options{})
	err := t0.ApplyEvents(context.Background(), stdtypes.ListOf(stdevents.NewInit("net")))
	if !errors.Is(err, net.ErrNotStarted) || !strings.Contains(err.Error(), "call Start") {
		t.Errorf("ApplyEvents before Start = %v, want net.ErrNotStarted, telling to call Start", err)
	}
	if err := t0.Start(); err != nil {
		t.Fatal(err)
	}
	if err := t0.Start(); err != nil {
		t.Errorf("second Start = %v, want nil", err)
	}
	if t0.Addr() == nil {
		t.Error("Addr() is nil after Start")
	}
}

// TestPeerDown checks that messages to a peer that is not up wait in the
// queue, up to its bound, and the rest are dropped; and that the queued
// ones arrive, in order, once the peer is up.
func TestPeerDown(t *testing.T) {
	c := newCluster(t, 2)
	const capacity = 20
	t0 := c.transport(t, 0, tcp.Options{SendQueueMessages: capacity, ReconnectMax: 100 * time.Millisecond})
	if err := t0.Start(); err != nil {
		t.Fatal(err)
	}
	// Node 1 accepts no connection: close its listener so dials fail fast.
	c.listeners[1].Close()
	for i := range capacity + 5 {
		send(t, t0, newText(fmt.Sprint(i)), "1")
	}
	m := t0.Metrics().Peers["1"]
	if m.QueueMessages != capacity || m.DroppedOut != 5 || m.Connected {
		t.Errorf("metrics for the peer that is down: %+v; want %d queued, 5 dropped", m, capacity)
	}
	eventually(t, "dials to node 1 fail", func() bool { return t0.Metrics().Peers["1"].DialFailures > 0 })

	c.relisten(t, 1)
	t1 := c.transport(t, 1, tcp.Options{})
	if err := t1.Start(); err != nil {
		t.Fatal(err)
	}
	got := receive(t, t1, capacity)
	for i, rcv := range got {
		if s := rcv.Msg.(*text).S; s != fmt.Sprint(i) {
			t.Fatalf("message %d is %q, want the queued messages in order", i, s)
		}
	}
}

// TestReconnect restarts a node on the same address with a new transport:
// its peers reconnect, and messages flow both ways again.
func TestReconnect(t *testing.T) {
	c, ts := started(t, 2, tcp.Options{ReconnectMax: 200 * time.Millisecond})
	connected(t, ts...)
	send(t, ts[0], newText("before"), "1")
	receive(t, ts[1], 1)

	ts[1].Stop()
	eventually(t, "node 0 sees node 1 down", func() bool {
		p := ts[0].Metrics().Peers["1"]
		return !p.Connected && !p.Inbound
	})
	c.relisten(t, 1)
	ts[1] = c.transport(t, 1, tcp.Options{ReconnectMax: 200 * time.Millisecond})
	if err := ts[1].Start(); err != nil {
		t.Fatal(err)
	}
	connected(t, ts...)
	send(t, ts[0], newText("after"), "1")
	send(t, ts[1], newText("back"), "0")
	if got := receive(t, ts[1], 1); got[0].Msg.(*text).S != "after" {
		t.Errorf("node 1 received %v", got[0].Msg)
	}
	if got := receive(t, ts[0], 1); got[0].Msg.(*text).S != "back" {
		t.Errorf("node 0 received %v", got[0].Msg)
	}
	if r := ts[0].Metrics().Peers["1"].Reconnects(); r < 1 {
		t.Errorf("node 0 counts %d reconnections to node 1, want at least 1", r)
	}
}

func TestStop(t *testing.T) {
	_, ts := started(t, 2, tcp.Options{})
	connected(t, ts...)
	ts[1].Stop()
	ts[1].Stop() // Idempotent.
	if err := ts[1].Start(); !errors.Is(err, net.ErrStopped) {
		t.Errorf("Start after Stop = %v, want ErrStopped", err)
	}
	// A stopped transport drops what it is asked to send, without error.
	send(t, ts[1], newText("from stopped"), "0", "1", "9")
	s := ts[1].Stats()
	if s.Peers["0"].DroppedOut != 1 || s.Peers["1"].DroppedOut != 1 || s.DroppedUnknown != 1 {
		t.Errorf("stats of the stopped sender: %+v", s)
	}
	// Stop before Start works too, and closes the listener it was given.
	c := newCluster(t, 1)
	tr := c.transport(t, 0, tcp.Options{})
	tr.Stop()
	if _, err := c.listeners[0].Accept(); err == nil {
		t.Error("the listener still accepts after Stop")
	}
}

func TestStopsWhenContextEnds(t *testing.T) {
	_, ts := started(t, 2, tcp.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	if err := ts[1].ApplyEvents(ctx, stdtypes.ListOf(stdevents.NewInit("net"))); err != nil {
		t.Fatal(err)
	}
	cancel()
	eventually(t, "the transport stops", func() bool { return errors.Is(ts[1].Start(), net.ErrStopped) })
}

func TestNew(t *testing.T) {
	c := newCluster(t, 2)
	other, _, err := membership.Local(1, "127.0.0.1", 9)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func() (*tcp.Transport, error){
		"nil membership": func() (*tcp.Transport, error) { return tcp.New("0", nil, c.keys[0], tcp.Options{}) },
		"not a member":   func() (*tcp.Transport, error) { return tcp.New("5", c.members, c.keys[0], tcp.Options{}) },
		"wrong key":      func() (*tcp.Transport, error) { return tcp.New("0", c.members, c.keys[1], tcp.Options{}) },
		"other members":  func() (*tcp.Transport, error) { return tcp.New("1", other, c.keys[1], tcp.Options{}) },
		"bad frame size": func() (*tcp.Transport, error) {
			return tcp.New("0", c.members, c.keys[0], tcp.Options{MaxFrameBytes: 8})
		},
		"negative queue": func() (*tcp.Transport, error) {
			return tcp.New("0", c.members, c.keys[0], tcp.Options{SendQueueMessages: -1})
		},
		"backoff max below min": func() (*tcp.Transport, error) {
			return tcp.New("0", c.members, c.keys[0], tcp.Options{ReconnectMin: time.Second, ReconnectMax: time.Millisecond})
		},
	}
	for name, f := range cases {
		if tr, err := f(); err == nil {
			tr.Stop()
			t.Errorf("%s: New returned no error", name)
		}
	}
	// A port in use is an error of Start, before the node runs.
	n, _ := c.members.Node("0")
	tr, err := tcp.New("0", c.members, c.keys[0], tcp.Options{ListenAddr: n.Addr})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Stop()
	if err := tr.Start(); err == nil {
		t.Error("Start on a port in use returned no error")
	}
}

// TestLargeBroadcast sends runs of large messages, each to two peers, so
// that frames share pooled buffers: each peer must get every message
// intact.
func TestLargeBroadcast(t *testing.T) {
	_, ts := started(t, 3, tcp.Options{})
	const count = 8
	for i := range count {
		send(t, ts[0], newText(strings.Repeat(string(rune('a'+i)), 200<<10)), "1", "2")
	}
	for _, r := range ts[1:] {
		got := receive(t, r, count)
		for i, rcv := range got {
			if s := rcv.Msg.(*text).S; len(s) != 200<<10 || strings.Count(s, string(rune('a'+i))) != len(s) {
				t.Fatalf("node %s: message %d corrupted", r.ID(), i)
			}
		}
	}
}

// TestReceiverNotReading: a node that does not take its messages (its
// input is paused) makes its connections stop reading; TCP holds the
// sender back, whose bounded queue drops. Nothing grows without bound,
// and once the node reads again, messages flow again.
func TestReceiverNotReading(t *testing.T) {
	const queueCap, lists = 32, 2
	_, ts := started(t, 2, tcp.Options{SendQueueMessages: queueCap, IncomingQueueLists: lists})
	connected(t, ts...)
	payload := strings.Repeat("x", 64<<10)
	eventually(t, "the sender drops", func() bool {
		list := stdtypes.EmptyList()
		for range 16 {
			list.PushBack(stdevents.NewSendMessage("net", newText(payload), stdevents.To("app", "1")))
		}
		if err := ts[0].ApplyEvents(context.Background(), list); err != nil {
			t.Fatal(err)
		}
		m := ts[0].Metrics().Peers["1"]
		if m.QueueMessages > queueCap {
			t.Fatalf("send queue of %d messages, bound %d", m.QueueMessages, queueCap)
		}
		if n := len(ts[1].EventsOut()); n > lists {
			t.Fatalf("incoming queue of %d lists, bound %d", n, lists)
		}
		return m.DroppedOut > 0
	})
	// The receiver reads again: everything not dropped arrives, then new
	// messages too.
	drained := 0
	eventually(t, "the queued messages arrive", func() bool {
		drained += len(receivedNow(ts[1]))
		return ts[0].Metrics().Peers["1"].QueueMessages == 0 && len(ts[1].EventsOut()) == 0
	})
	send(t, ts[0], newText("after"), "1")
	var got []*stdevents.MessageReceived
	eventually(t, "a new message arrives", func() bool {
		got = append(got, receivedNow(ts[1])...)
		return len(got) > 0 && got[len(got)-1].Msg.(*text).S == "after"
	})
	if m := ts[1].Metrics().Peers["0"]; m.DroppedIn != 0 || m.BadFrames != 0 {
		t.Errorf("receiver dropped %d messages, %d bad frames; want none: only the sender drops", m.DroppedIn, m.BadFrames)
	}
	t.Logf("%d messages arrived after the receiver resumed", drained+len(got))
}

// TestStatsLog: with StatsPeriod set, the transport logs its metrics, one
// line per peer.
func TestStatsLog(t *testing.T) {
	var buf testnet.Output
	logger := logging.NewStreamLogger(logging.LevelInfo, &buf)
	_, ts := started(t, 2, tcp.Options{Logger: logger, StatsPeriod: 10 * time.Millisecond})
	connected(t, ts...)
	eventually(t, "stats are logged", func() bool {
		s := buf.String()
		return strings.Contains(s, "tcp peer stats") && strings.Contains(s, "peer=1") && strings.Contains(s, "connected=true")
	})
}
