package sim_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/net"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

const ms = time.Millisecond

func TestFixedLatency(t *testing.T) {
	sys := newSystem(t, 1, 3, sim.Options{Link: fixed(3 * ms)})
	sys.sendSeq(ms, "0", 1, "1", "2")
	sys.sendSeq(2*ms, "1", 2, "2")
	sys.run(t, time.Second)
	for _, c := range []struct {
		from, to stdtypes.NodeID
		at       time.Duration
	}{{"0", "1", 4 * ms}, {"0", "2", 4 * ms}, {"1", "2", 5 * ms}} {
		got := sys.between(c.from, c.to)
		if len(got) != 1 || got[0].at != c.at {
			t.Errorf("%s to %s: %+v, want one arrival at %v", c.from, c.to, got, c.at)
		}
	}
}

// TestLinksAreFIFO: with a latency that varies, messages on one link still
// arrive in the order they were sent, each no earlier than its latency
// allows.
func TestLinksAreFIFO(t *testing.T) {
	sys := newSystem(t, 2, 2, sim.Options{Link: sim.LinkConfig{Latency: testsim.Uniform(ms, 20*ms)}})
	const n = 500
	for i := range n {
		sys.sendSeq(time.Duration(i)*100*time.Microsecond, "0", uint64(i), "1")
	}
	sys.run(t, time.Second)
	got := sys.between("0", "1")
	if len(got) != n {
		t.Fatalf("%d arrivals, want %d", len(got), n)
	}
	for i, a := range got {
		if a.seq() != uint64(i) {
			t.Fatalf("arrival %d is message %d: reordered", i, a.seq())
		}
		if sent := time.Duration(i) * 100 * time.Microsecond; a.at < sent+ms {
			t.Errorf("message %d sent at %v arrived at %v, before the minimum latency", i, sent, a.at)
		}
	}
}

func TestReorder(t *testing.T) {
	sys := newSystem(t, 3, 2, sim.Options{Link: sim.LinkConfig{Latency: testsim.Uniform(ms, 2*ms), Reorder: 0.3}})
	const n = 500
	for i := range n {
		sys.sendSeq(time.Duration(i)*100*time.Microsecond, "0", uint64(i), "1")
	}
	sys.run(t, time.Second)
	got := sys.between("0", "1")
	inversions := 0
	for i := 1; i < len(got); i++ {
		if got[i].seq() < got[i-1].seq() {
			inversions++
		}
	}
	if len(got) != n || inversions == 0 {
		t.Errorf("%d arrivals with %d inversions; want all %d, some overtaken", len(got), inversions, n)
	}
	if st := sys.net.Stats(); st.Reordered < n/5 || st.Reordered > n/2 {
		t.Errorf("%d of %d messages reordered at probability 0.3", st.Reordered, n)
	}
}

func TestLossOneDeliversNothing(t *testing.T) {
	sys := newSystem(t, 1, 3, sim.Options{Link: sim.LinkConfig{Loss: 1}})
	for i := range 100 {
		sys.sendSeq(time.Duration(i)*ms, stdtypes.NewNodeIDFromInt(i%3), uint64(i), "0", "1", "2")
	}
	sys.run(t, time.Second)
	for _, a := range sys.arrivals {
		if a.from != a.node {
			t.Fatalf("message %d from %s arrived at %s on links that lose everything", a.seq(), a.from, a.node)
		}
	}
	if len(sys.arrivals) != 100 {
		t.Errorf("%d messages to self arrived, want 100: loss does not apply to them", len(sys.arrivals))
	}
	if st := sys.net.Stats(); st.Lost != 200 || st.Delivered != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestLossRate(t *testing.T) {
	sys := newSystem(t, 4, 2, sim.Options{Link: sim.LinkConfig{Loss: 0.3}})
	const n = 2000
	for i := range n {
		sys.sendSeq(time.Duration(i)*10*time.Microsecond, "0", uint64(i), "1")
	}
	sys.run(t, time.Second)
	if got := len(sys.arrivals); got < n*6/10 || got > n*8/10 {
		t.Errorf("%d of %d messages arrived at a loss of 0.3", got, n)
	}
}

func TestDuplicate(t *testing.T) {
	sys := newSystem(t, 5, 2, sim.Options{Link: sim.LinkConfig{Duplicate: 1}})
	for i := range 50 {
		sys.sendSeq(time.Duration(i)*ms, "0", uint64(i), "1")
	}
	sys.run(t, time.Second)
	count := make(map[uint64]int)
	for _, a := range sys.between("0", "1") {
		count[a.seq()]++
	}
	for i := range uint64(50) {
		if count[i] != 2 {
			t.Errorf("message %d arrived %d times, want 2", i, count[i])
		}
	}
}

// TestBandwidth: a link of 1 MB/s carries a 1000-byte message per
// millisecond; a burst queues up behind it.
func TestBandwidth(t *testing.T) {
	sys := newSystem(t, 1, 2, sim.Options{
		Link:        sim.LinkConfig{Latency: testsim.Fixed(5 * ms), BytesPerSecond: 1_000_000},
		MessageSize: func(stdtypes.Message) int { return 1000 },
	})
	for i := range 10 {
		sys.sendSeq(0, "0", uint64(i), "1")
	}
	sys.sendSeq(50*ms, "0", 10, "1") // the link is idle again
	sys.run(t, time.Second)
	got := sys.between("0", "1")
	if len(got) != 11 {
		t.Fatalf("%d arrivals", len(got))
	}
	for i, a := range got[:10] {
		if want := time.Duration(i+1)*ms + 5*ms; a.at != want {
			t.Errorf("message %d arrived at %v, want %v", i, a.at, want)
		}
	}
	if got[10].at != 56*ms {
		t.Errorf("message on the idle link arrived at %v, want 56ms", got[10].at)
	}
}

func TestBandwidthUsesTheEncodedSize(t *testing.T) {
	// msg{Seq: 1} encodes to a few dozen bytes: at 1000 B/s, tens of ms.
	sys := newSystem(t, 1, 2, sim.Options{Link: sim.LinkConfig{Latency: testsim.Fixed(0), BytesPerSecond: 1000}})
	sys.sendSeq(0, "0", 1, "1")
	sys.run(t, time.Second)
	got := sys.between("0", "1")
	if len(got) != 1 || got[0].at < 10*ms || got[0].at > 100*ms {
		t.Errorf("arrivals %+v", got)
	}
}

// TestPartition: no message crosses a partition until it heals, not even
// one already in flight when it starts; inside a group, messages flow.
func TestPartition(t *testing.T) {
	sys := newSystem(t, 6, 4, sim.Options{Link: fixed(2 * ms)})
	if err := sys.net.PartitionDuring(10*ms, 50*ms, []stdtypes.NodeID{"0", "1"}); err != nil {
		t.Fatal(err)
	}
	for i := range 80 {
		sys.sendSeq(time.Duration(i)*ms, "0", uint64(i), "1", "2", "3")
		sys.sendSeq(time.Duration(i)*ms, "3", uint64(i), "2", "0")
	}
	sys.run(t, time.Second)
	for _, a := range sys.arrivals {
		crosses := (a.from < "2") != (a.node < "2")
		if crosses && a.at > 10*ms && a.at < 50*ms {
			t.Errorf("message %d from %s to %s arrived at %v, across the partition", a.seq(), a.from, a.node, a.at)
		}
	}
	// Sent at 8ms, due at 10ms as the partition starts: lost or not,
	// depending on the seed. Sent at 9ms, in flight: lost. Sent at 10ms
	// to 49ms, into the partition: lost, even those that would arrive
	// after it heals.
	for _, a := range sys.between("0", "2") {
		if a.seq() >= 9 && a.seq() < 50 {
			t.Errorf("message %d crossed the partition at %v", a.seq(), a.at)
		}
	}
	for _, pair := range [][2]stdtypes.NodeID{{"0", "1"}, {"3", "2"}} {
		if n := len(sys.between(pair[0], pair[1])); n != 80 {
			t.Errorf("%d of 80 messages from %s to %s, in one group", n, pair[0], pair[1])
		}
	}
	if n := len(sys.between("0", "3")); n < 80-42 || n > 80-41 {
		t.Errorf("%d messages from 0 to 3; 41 or 42 were lost to the partition", n)
	}
	if sys.s.FaultsHealed() != 50*ms {
		t.Errorf("FaultsHealed = %v", sys.s.FaultsHealed())
	}
}

func TestCutOneWay(t *testing.T) {
	sys := newSystem(t, 1, 2, sim.Options{Link: fixed(ms)})
	heal, err := sys.net.Cut([]stdtypes.NodeID{"0"}, []stdtypes.NodeID{"1", "0"})
	if err != nil {
		t.Fatal(err)
	}
	sys.sendSeq(0, "0", 1, "1", "0")
	sys.sendSeq(0, "1", 2, "0")
	sys.s.At(10*ms, heal)
	sys.s.At(11*ms, heal) // twice: no effect
	sys.sendSeq(20*ms, "0", 3, "1")
	sys.run(t, time.Second)
	if got := sys.between("0", "1"); len(got) != 1 || got[0].seq() != 3 {
		t.Errorf("0 to 1: %+v, want only message 3", got)
	}
	if len(sys.between("1", "0")) != 1 || len(sys.between("0", "0")) != 1 {
		t.Error("the other direction, or a node's link to itself, was cut")
	}
	if _, err := sys.net.Cut([]stdtypes.NodeID{"x"}, nil); !errors.Is(err, net.ErrUnknownNode) {
		t.Errorf("Cut of an unknown node: %v", err)
	}
}

func TestLinkChangesDuringTheRun(t *testing.T) {
	sys := newSystem(t, 1, 2, sim.Options{Link: fixed(ms)})
	if err := sys.net.SetLinksAt(10*ms, sim.LinkConfig{Loss: 1}); err != nil {
		t.Fatal(err)
	}
	sys.s.At(20*ms, func() {
		if err := sys.net.SetLink("0", "1", fixed(5*ms)); err != nil {
			t.Error(err)
		}
	})
	for i := range 30 {
		sys.sendSeq(time.Duration(i)*ms, "0", uint64(i), "1")
	}
	sys.run(t, time.Second)
	for _, a := range sys.between("0", "1") {
		switch {
		case a.seq() < 10 && a.at != time.Duration(a.seq()+1)*ms,
			a.seq() >= 10 && a.seq() < 20,
			a.seq() >= 20 && a.at != time.Duration(a.seq()+5)*ms:
			t.Errorf("message %d arrived at %v", a.seq(), a.at)
		}
	}
	if cfg, _ := sys.net.Link("1", "0"); cfg.Loss != 1 {
		t.Errorf("link 1 to 0: %+v", cfg)
	}
	if err := sys.net.SetLinks(sim.LinkConfig{Loss: 2}); err == nil {
		t.Error("a loss of 2 was accepted")
	}
}

func TestMessagesToSelfArriveAtOnce(t *testing.T) {
	sys := newSystem(t, 1, 2, sim.Options{Link: sim.LinkConfig{Latency: testsim.Fixed(time.Second), Loss: 1}})
	if _, err := sys.net.Partition([]stdtypes.NodeID{"0"}); err != nil {
		t.Fatal(err)
	}
	sys.sendSeq(3*ms, "0", 1, "0")
	sys.run(t, time.Second)
	if got := sys.between("0", "0"); len(got) != 1 || got[0].at != 3*ms {
		t.Errorf("message to self: %+v, want it at once", got)
	}
}

// TestMessagesToACrashedNode: lost while it is down, delivered once it is
// up again, whatever its incarnation.
func TestMessagesToACrashedNode(t *testing.T) {
	sys := newSystem(t, 1, 2, sim.Options{Link: fixed(ms)})
	sys.s.Node("1").CrashAt(10 * ms)
	sys.s.Node("1").RestartAt(20 * ms)
	for i := range 30 {
		sys.sendSeq(time.Duration(i)*ms, "0", uint64(i), "1")
	}
	sys.run(t, time.Second)
	for _, a := range sys.between("0", "1") {
		if a.seq() >= 10 && a.seq() < 19 {
			t.Errorf("message %d arrived at %v, while the node was down", a.seq(), a.at)
		}
	}
	// 9 to 18 are lost; 9 and 19 arrive as the node crashes and
	// restarts, and either may come first.
	if n := len(sys.between("0", "1")); n < 19 {
		t.Errorf("%d messages arrived", n)
	}
	tr, _ := sys.net.Transport("1")
	if st := tr.Stats().Peers["0"]; st.DroppedIn < 9 || st.In+st.DroppedIn != 30 {
		t.Errorf("node 1's counters for node 0: %+v", st)
	}
}

// unregistered is a message type the codec does not know.
type unregistered struct {
	stdtypes.MessageBase
	X int
}

func TestCodecModes(t *testing.T) {
	t.Run("first of type", func(t *testing.T) {
		sys := newSystem(t, 1, 2, sim.Options{Link: fixed(ms)})
		first, second := &msg{Seq: 1}, &msg{Seq: 2}
		sys.send(0, "0", first, "1")
		sys.send(ms, "0", second, "1")
		sys.run(t, time.Second)
		got := sys.between("0", "1")
		if len(got) != 2 || got[0].msg == stdtypes.Message(first) || got[0].seq() != 1 || got[1].msg != stdtypes.Message(second) {
			t.Errorf("the first message should be a decoded copy and the second the original: %+v", got)
		}
	})
	t.Run("every", func(t *testing.T) {
		sys := newSystem(t, 1, 2, sim.Options{Link: sim.LinkConfig{Duplicate: 1}, Codec: sim.CodecEvery})
		m := &msg{Seq: 7}
		sys.send(0, "0", m, "1")
		sys.run(t, time.Second)
		got := sys.between("0", "1")
		if len(got) != 2 || got[0].msg == stdtypes.Message(m) || got[1].msg == got[0].msg || got[0].seq() != 7 || got[1].seq() != 7 {
			t.Errorf("every copy should be decoded anew: %+v", got)
		}
	})
	t.Run("never", func(t *testing.T) {
		sys := newSystem(t, 1, 2, sim.Options{Codec: sim.CodecNever})
		m := &unregistered{X: 1}
		sys.send(0, "0", m, "1")
		sys.run(t, time.Second)
		if got := sys.between("0", "1"); len(got) != 1 || got[0].msg != stdtypes.Message(m) {
			t.Errorf("the message should arrive as it is: %+v", got)
		}
	})
	t.Run("unregistered", func(t *testing.T) {
		sys := newSystem(t, 1, 2, sim.Options{})
		sys.send(0, "0", &unregistered{X: 1}, "1")
		err := sys.s.Run(time.Second)
		var f *testsim.Failure
		if !errors.As(err, &f) || f.Node != "0" || !strings.Contains(err.Error(), "cannot be sent") {
			t.Errorf("Run = %v, want node 0 to fail sending", err)
		}
	})
	if _, err := sim.New(testsim.New(testsim.Options{}), []stdtypes.NodeID{"0"}, sim.Options{Codec: 9}); err == nil {
		t.Error("an unknown codec mode was accepted")
	}
}

func TestTransportDropsInvalidRequests(t *testing.T) {
	sys := newSystem(t, 1, 2, sim.Options{})
	n := sys.s.Node("0")
	_ = n.Inject(
		stdevents.NewSendMessage("net", nil, stdevents.To("probe", "1")),         // no message
		stdevents.NewSendMessage("net", &msg{}, stdevents.To("probe")),           // no destination
		stdevents.NewSendMessage("net", &msg{}, stdevents.To("a//b", "1")),       // bad module
		stdevents.NewSendMessage("net", &msg{}, stdevents.To("probe", "9", "1")), // one unknown node
	)
	sys.run(t, time.Second)
	tr, _ := sys.net.Transport("0")
	st := tr.Stats()
	if st.DroppedInvalid != 3 || st.DroppedUnknown != 1 || st.Peers["1"].Out != 1 || len(sys.arrivals) != 1 {
		t.Errorf("stats %+v, %d arrivals", st, len(sys.arrivals))
	}
	if err := n.Inject(stdevents.NewTimerDelay("net", ms)); err != nil {
		t.Fatal(err)
	}
	if err := sys.s.Run(2 * time.Second); err == nil || !strings.Contains(err.Error(), "unexpected event stdevents.TimerDelay") {
		t.Errorf("a timer request to the transport: %v", err)
	}
}

func TestNetworkErrors(t *testing.T) {
	s := testsim.New(testsim.Options{})
	if _, err := sim.New(s, nil, sim.Options{}); err == nil {
		t.Error("a network of no nodes")
	}
	if _, err := sim.New(s, []stdtypes.NodeID{"a", "a"}, sim.Options{}); err == nil {
		t.Error("a node listed twice")
	}
	if _, err := sim.New(s, []stdtypes.NodeID{""}, sim.Options{}); err == nil {
		t.Error("an empty node ID")
	}
	if _, err := sim.New(s, []stdtypes.NodeID{"a"}, sim.Options{Link: sim.LinkConfig{Reorder: -1}}); err == nil {
		t.Error("a negative probability")
	}
	n, err := sim.New(s, []stdtypes.NodeID{"b", "a"}, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Nodes(); len(got) != 2 || got[0] != "a" {
		t.Errorf("Nodes() = %v, want them sorted", got)
	}
	if _, err := n.Transport("c"); !errors.Is(err, net.ErrUnknownNode) {
		t.Errorf("Transport of an unknown node: %v", err)
	}
	if err := n.PartitionDuring(2*ms, ms, []stdtypes.NodeID{"a"}); err == nil {
		t.Error("a partition healing before it starts")
	}
	if err := n.PartitionDuring(ms, 2*ms, []stdtypes.NodeID{"z"}); !errors.Is(err, net.ErrUnknownNode) {
		t.Errorf("a partition of an unknown node: %v", err)
	}
	if err := n.SetAdversary("z", sim.Drop(1)); !errors.Is(err, net.ErrUnknownNode) {
		t.Errorf("an adversary for an unknown node: %v", err)
	}
}

// TestMessageForAnUnknownModule: the destination module of a message is
// the sender's choice, so a message for a module the receiving node does
// not have is dropped, not fatal, as in a real node.
func TestMessageForAnUnknownModule(t *testing.T) {
	sys := newSystem(t, 1, 2, sim.Options{Link: fixed(ms)})
	if err := sys.s.Node("0").Inject(stdevents.NewSendMessage("net", &msg{Seq: 1}, stdevents.To("nowhere", "1"))); err != nil {
		t.Fatal(err)
	}
	sys.sendSeq(ms, "0", 2, "1")
	sys.run(t, time.Second)
	if got := sys.between("0", "1"); len(got) != 1 || got[0].seq() != 2 {
		t.Errorf("arrivals %+v, want message 2 only", got)
	}
	if n := sys.s.Node("1").DroppedUnknown("net"); n != 1 {
		t.Errorf("node 1's transport dropped %d events, want 1", n)
	}
}
