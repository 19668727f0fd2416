package local_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/net"
	"github.com/mirframework/mir/pkg/net/local"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

func TestDelivery(t *testing.T) {
	_, ts := startedNetwork(t, 3, local.Options{})
	msg := newText("hello")
	send(t, ts[0], msg, "1", "2")

	for _, i := range []int{1, 2} {
		got := received(ts[i])
		if len(got) != 1 {
			t.Fatalf("node %d received %d messages, want 1", i, len(got))
		}
		rcv := got[0]
		if rcv.Dest() != "app" || rcv.From != "0" {
			t.Errorf("node %d: got MessageReceived to %q from %q, want to \"app\" from \"0\"", i, rcv.Dest(), rcv.From)
		}
		m, ok := rcv.Msg.(*text)
		if !ok || m.S != "hello" {
			t.Fatalf("node %d: got message %#v, want text \"hello\"", i, rcv.Msg)
		}
		if m == msg {
			t.Errorf("node %d shares the sender's message; the codec round trip should copy it", i)
		}
	}
	if got := received(ts[0]); len(got) != 0 {
		t.Errorf("the sender received %d messages, want 0", len(got))
	}

	s0 := ts[0].Stats()
	for _, peer := range []stdtypes.NodeID{"1", "2"} {
		if want := (net.PeerStats{Out: 1}); s0.Peers[peer] != want {
			t.Errorf("sender's stats for %s: %+v, want %+v", peer, s0.Peers[peer], want)
		}
		rs := ts[peerIndex(peer)].Stats()
		if want := (net.PeerStats{In: 1}); rs.Peers["0"] != want {
			t.Errorf("stats of %s for the sender: %+v, want %+v", peer, rs.Peers["0"], want)
		}
	}
}

func peerIndex(id stdtypes.NodeID) int { return int(id[0] - '0') }

func TestOneListPerBatchAndDestination(t *testing.T) {
	_, ts := startedNetwork(t, 2, local.Options{})
	batch := stdtypes.ListOf(
		stdevents.NewSendMessage("net", newText("a"), stdevents.To("app", "1")),
		stdevents.NewSendMessage("net", newText("b"), stdevents.To("app", "1", "0")),
		stdevents.NewSendMessage("net", newText("c"), stdevents.To("app", "1")),
	)
	if err := ts[0].ApplyEvents(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	list := <-ts[1].EventsOut()
	var texts []string
	for _, ev := range list.Slice() {
		texts = append(texts, ev.(*stdevents.MessageReceived).Msg.(*text).S)
	}
	if got := strings.Join(texts, ","); got != "a,b,c" {
		t.Errorf("node 1 got one list of %q, want \"a,b,c\" in order", got)
	}
	if n := len(received(ts[1])); n != 0 {
		t.Errorf("node 1 got %d more messages, want all in one list", n)
	}
	if n := len(received(ts[0])); n != 1 {
		t.Errorf("node 0 got %d messages from itself, want 1", n)
	}
}

func TestToSelf(t *testing.T) {
	_, ts := startedNetwork(t, 2, local.Options{})
	msg := newText("me")
	send(t, ts[0], msg, "0")
	got := received(ts[0])
	if len(got) != 1 || got[0].From != "0" {
		t.Fatalf("node 0 received %v, want its own message", got)
	}
	if got[0].Msg != stdtypes.Message(msg) {
		t.Errorf("a message to self was copied; it should be handed back as it is")
	}
	if n := len(received(ts[1])); n != 0 {
		t.Errorf("node 1 received %d messages, want 0", n)
	}
	if s := ts[0].Stats().Peers["0"]; s != (net.PeerStats{Out: 1, In: 1}) {
		t.Errorf("stats for self: %+v, want Out 1, In 1", s)
	}
}

func TestToSelfIsNeverEncoded(t *testing.T) {
	_, ts := startedNetwork(t, 1, local.Options{})
	send(t, ts[0], &unregistered{S: "x"}, "0") // Would fail to encode.
	if n := len(received(ts[0])); n != 1 {
		t.Errorf("received %d messages, want 1", n)
	}
}

func TestUnknownNode(t *testing.T) {
	_, ts := startedNetwork(t, 2, local.Options{})
	send(t, ts[0], newText("x"), "7", "1", "8")
	if n := len(received(ts[1])); n != 1 {
		t.Errorf("node 1 received %d messages, want 1: unknown destinations must not stop the others", n)
	}
	s := ts[0].Stats()
	if s.DroppedUnknown != 2 {
		t.Errorf("DroppedUnknown = %d, want 2", s.DroppedUnknown)
	}
	if _, ok := s.Peers["7"]; ok {
		t.Errorf("stats have an entry for unknown node 7; they must be bounded by the membership")
	}
}

func TestQueueFullDrops(t *testing.T) {
	_, ts := startedNetwork(t, 2, local.Options{QueueCapacity: 2})
	// Each ApplyEvents is one list; the third does not fit. The sender
	// must not block on it.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 3 {
			send(t, ts[0], newText("x"), "1")
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the sender blocked on a full queue")
	}
	if n := len(received(ts[1])); n != 2 {
		t.Errorf("node 1 received %d messages, want 2", n)
	}
	if s := ts[1].Stats().Peers["0"]; s != (net.PeerStats{In: 2, DroppedIn: 1}) {
		t.Errorf("receiver's stats: %+v, want In 2, DroppedIn 1", s)
	}
	if s := ts[0].Stats().Peers["1"]; s != (net.PeerStats{Out: 3}) {
		t.Errorf("sender's stats: %+v, want Out 3", s)
	}
	// Once the node reads its queue, messages get through again.
	send(t, ts[0], newText("y"), "1")
	if n := len(received(ts[1])); n != 1 {
		t.Errorf("after draining, node 1 received %d messages, want 1", n)
	}
}

func TestCodecRoundTrip(t *testing.T) {
	t.Run("unregistered message is an error", func(t *testing.T) {
		_, ts := startedNetwork(t, 2, local.Options{})
		ev := stdevents.NewSendMessage("net", &unregistered{S: "x"}, stdevents.To("app", "1"))
		err := ts[0].ApplyEvents(context.Background(), stdtypes.ListOf(ev))
		if err == nil || !strings.Contains(err.Error(), "local_test.unregistered") {
			t.Fatalf("ApplyEvents = %v, want an error naming the message type", err)
		}
		if n := len(received(ts[1])); n != 0 {
			t.Errorf("node 1 received %d messages, want 0", n)
		}
	})
	t.Run("ShareMessages delivers the sender's value", func(t *testing.T) {
		_, ts := startedNetwork(t, 2, local.Options{ShareMessages: true})
		msg := &unregistered{S: "x"}
		send(t, ts[0], msg, "1")
		got := received(ts[1])
		if len(got) != 1 || got[0].Msg != stdtypes.Message(msg) {
			t.Fatalf("node 1 received %v, want the sender's very message", got)
		}
	})
	t.Run("each receiver gets its own copy", func(t *testing.T) {
		_, ts := startedNetwork(t, 3, local.Options{})
		send(t, ts[0], newText("x"), "1", "2")
		a, b := received(ts[1]), received(ts[2])
		if len(a) != 1 || len(b) != 1 {
			t.Fatalf("received %d and %d messages, want 1 each", len(a), len(b))
		}
		if a[0].Msg == b[0].Msg {
			t.Errorf("two receivers share one message value")
		}
	})
}

func TestInvalidSendMessage(t *testing.T) {
	cases := []struct {
		name string
		ev   *stdevents.SendMessage
	}{
		{"nil message", stdevents.NewSendMessage("net", nil, stdevents.To("app", "1"))},
		{"no destinations", stdevents.NewSendMessage("net", newText("x"), stdevents.To("app"))},
		{"empty module", stdevents.NewSendMessage("net", newText("x"), stdevents.To("", "1"))},
		{"bad module path", stdevents.NewSendMessage("net", newText("x"), stdevents.To("app//sub", "1"))},
		{"typed nil SendMessage", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, ts := startedNetwork(t, 2, local.Options{})
			good := stdevents.NewSendMessage("net", newText("ok"), stdevents.To("app", "1"))
			// The typed nil stays a *SendMessage inside the list.
			if err := ts[0].ApplyEvents(context.Background(), stdtypes.ListOf(c.ev, good)); err != nil {
				t.Fatalf("ApplyEvents = %v, want the invalid event dropped", err)
			}
			if got := ts[0].Stats().DroppedInvalid; got != 1 {
				t.Errorf("DroppedInvalid = %d, want 1", got)
			}
			if n := len(received(ts[1])); n != 1 {
				t.Errorf("node 1 received %d messages, want only the valid one", n)
			}
		})
	}
}

func TestUnexpectedEventsAreErrors(t *testing.T) {
	_, ts := startedNetwork(t, 1, local.Options{})
	cases := map[string]stdtypes.Event{
		"other event": &otherEvent{Header: stdtypes.NewHeader("net")},
		"timer event": stdevents.NewTimerDelay("net", time.Second),
		"nil":         nil,
	}
	for name, ev := range cases {
		if err := ts[0].ApplyEvents(context.Background(), stdtypes.ListOf(ev)); err == nil {
			t.Errorf("%s: ApplyEvents returned no error", name)
		}
	}
	if err := ts[0].ApplyEvents(context.Background(), stdtypes.ListOf(stdevents.NewInit("net"))); err != nil {
		t.Errorf("Init: %v", err)
	}
}

func TestNotStarted(t *testing.T) {
	network, err := local.NewNetwork(stdtypes.NumberedNodeIDs(2), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer network.Stop()
	t0, _ := network.Transport("0")
	t1, _ := network.Transport("1")
	err = t0.ApplyEvents(context.Background(), stdtypes.ListOf(stdevents.NewInit("net")))
	if !errors.Is(err, net.ErrNotStarted) || !strings.Contains(err.Error(), "call Start") {
		t.Errorf("ApplyEvents before Start = %v, want net.ErrNotStarted, telling to call Start", err)
	}
	if err := t0.Start(); err != nil {
		t.Fatal(err)
	}
	if err := t0.Start(); err != nil {
		t.Errorf("second Start = %v, want nil", err)
	}
	send(t, t0, newText("x"), "1") // t1 not started: unreachable.
	if s := t1.Stats().Peers["0"]; s != (net.PeerStats{DroppedIn: 1}) {
		t.Errorf("stats of the unstarted receiver: %+v, want DroppedIn 1", s)
	}
}

func TestStop(t *testing.T) {
	_, ts := startedNetwork(t, 2, local.Options{})
	send(t, ts[0], newText("queued"), "1")
	ts[1].Stop()
	ts[1].Stop() // Idempotent.

	if n := len(received(ts[1])); n != 0 {
		t.Errorf("a stopped transport still holds %d messages; Stop should drop them", n)
	}
	send(t, ts[0], newText("late"), "1")
	if s := ts[1].Stats().Peers["0"]; s != (net.PeerStats{DroppedIn: 2}) {
		t.Errorf("stats of the stopped receiver: %+v, want DroppedIn 2 (one queued, one late)", s)
	}
	if s := ts[0].Stats().Peers["1"]; s.Out != 2 {
		t.Errorf("sender's Out = %d, want 2", s.Out)
	}

	// A stopped transport drops what it is asked to send, without error:
	// its node is shutting down.
	send(t, ts[1], newText("from stopped"), "0", "1")
	if s := ts[1].Stats().Peers; s["0"].DroppedOut != 1 || s["1"].DroppedOut != 1 {
		t.Errorf("stats of the stopped sender: %+v, want DroppedOut 1 for each destination", s)
	}
	if n := len(received(ts[0])); n != 0 {
		t.Errorf("node 0 received %d messages from a stopped node", n)
	}
	if err := ts[1].Start(); !errors.Is(err, net.ErrStopped) {
		t.Errorf("Start after Stop = %v, want ErrStopped", err)
	}
}

func TestStopsWhenContextEnds(t *testing.T) {
	_, ts := startedNetwork(t, 2, local.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	if err := ts[1].ApplyEvents(ctx, stdtypes.ListOf(stdevents.NewInit("net"))); err != nil {
		t.Fatal(err)
	}
	cancel()
	// The stop runs on a goroutine of the context package: wait for it.
	deadline := time.Now().Add(10 * time.Second)
	for ts[1].Start() == nil {
		if time.Now().After(deadline) {
			t.Fatal("the transport did not stop when its context ended")
		}
		time.Sleep(time.Millisecond)
	}
	send(t, ts[0], newText("x"), "1")
	if s := ts[1].Stats().Peers["0"]; s.DroppedIn != 1 {
		t.Errorf("stats of the stopped receiver: %+v, want DroppedIn 1", s)
	}
}

func TestNewNetwork(t *testing.T) {
	cases := []struct {
		name  string
		nodes []stdtypes.NodeID
		opts  local.Options
	}{
		{"no nodes", nil, local.Options{}},
		{"duplicate", []stdtypes.NodeID{"a", "b", "a"}, local.Options{}},
		{"empty ID", []stdtypes.NodeID{"a", ""}, local.Options{}},
		{"negative capacity", []stdtypes.NodeID{"a"}, local.Options{QueueCapacity: -1}},
	}
	for _, c := range cases {
		if _, err := local.NewNetwork(c.nodes, c.opts); err == nil {
			t.Errorf("%s: NewNetwork returned no error", c.name)
		}
	}

	network, err := local.NewNetwork([]stdtypes.NodeID{"b", "a"}, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := network.Nodes(); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("Nodes() = %v, want [a b]", got)
	}
	if _, err := network.Transport("c"); !errors.Is(err, net.ErrUnknownNode) {
		t.Errorf("Transport(unknown) = %v, want ErrUnknownNode", err)
	}
	a1, _ := network.Transport("a")
	a2, _ := network.Transport("a")
	if a1 != a2 || a1.ID() != "a" {
		t.Errorf("Transport(\"a\") returned different transports or the wrong ID")
	}
}
