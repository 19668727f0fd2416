package sim_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/stdtypes"
)

// byzantine runs 4 nodes where node 0, with adversary adv, sends
// messages 0 to 9 to every node, one per millisecond, over links of 1ms.
func byzantine(t *testing.T, seed uint64, adv sim.Adversary) *system {
	t.Helper()
	sys := newSystem(t, seed, 4, sim.Options{Link: fixed(ms)})
	if err := sys.net.SetAdversary("0", adv); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		sys.sendSeq(time.Duration(i)*ms, "0", uint64(i), "0", "1", "2", "3")
	}
	sys.run(t, time.Second)
	return sys
}

func TestDrop(t *testing.T) {
	sys := byzantine(t, 1, sim.Drop(1))
	for _, a := range sys.arrivals {
		if a.node != "0" {
			t.Errorf("a silent node's message %d arrived at %s", a.seq(), a.node)
		}
	}
	if n := len(sys.between("0", "0")); n != 10 {
		t.Errorf("%d messages to itself, want 10: adversaries leave them alone", n)
	}
	if sys = byzantine(t, 1, sim.Drop(0)); len(sys.arrivals) != 40 {
		t.Errorf("Drop(0): %d arrivals, want 40", len(sys.arrivals))
	}
	sys = byzantine(t, 1, sim.Drop(0.5))
	if n := len(sys.arrivals); n <= 10 || n >= 40 {
		t.Errorf("Drop(0.5): %d arrivals", n)
	}
}

func TestDelay(t *testing.T) {
	sys := byzantine(t, 1, sim.Delay(testsim.Fixed(10*ms)))
	for _, a := range sys.between("0", "1") {
		if want := time.Duration(a.seq())*ms + 11*ms; a.at != want {
			t.Errorf("message %d arrived at %v, want %v", a.seq(), a.at, want)
		}
	}
}

func TestDuplicateAdversary(t *testing.T) {
	sys := byzantine(t, 1, sim.Duplicate(2))
	if n := len(sys.between("0", "2")); n != 30 {
		t.Errorf("%d arrivals at node 2, want each of 10 messages 3 times", n)
	}
}

func TestRewrite(t *testing.T) {
	sys := byzantine(t, 1, sim.Rewrite(func(m sim.Outgoing, _ *rand.Rand) stdtypes.Message {
		if m.Msg.(*msg).Seq == 3 {
			return nil
		}
		return &msg{Seq: m.Msg.(*msg).Seq + 100}
	}))
	for _, a := range sys.between("0", "1") {
		if a.seq() < 100 || a.seq() == 103 {
			t.Errorf("message %d arrived; want every one rewritten and 3 dropped", a.seq())
		}
	}
	if n := len(sys.between("0", "1")); n != 9 {
		t.Errorf("%d arrivals", n)
	}
}

// TestEquivocate: each peer consistently gets one version; across seeds,
// peers get different ones.
func TestEquivocate(t *testing.T) {
	split := false
	for seed := range uint64(10) {
		sys := byzantine(t, seed, sim.Equivocate(2, func(m stdtypes.Message, version int) stdtypes.Message {
			return &msg{Seq: m.(*msg).Seq + 1000*uint64(version)}
		}))
		versions := make(map[uint64]bool)
		for _, peer := range []stdtypes.NodeID{"1", "2", "3"} {
			got := sys.between("0", peer)
			if len(got) != 10 {
				t.Fatalf("seed %d: %d arrivals at %s", seed, len(got), peer)
			}
			v := got[0].seq() / 1000
			for _, a := range got {
				if a.seq()/1000 != v {
					t.Errorf("seed %d: node %s got versions %d and %d", seed, peer, v, a.seq()/1000)
				}
			}
			versions[v] = true
		}
		split = split || len(versions) == 2
	}
	if !split {
		t.Error("in 10 seeds, the peers never got different versions")
	}
}

func TestOnlyAndChain(t *testing.T) {
	sys := byzantine(t, 1, sim.Only(sim.To("2"), sim.Chain(sim.Duplicate(1), sim.Delay(testsim.Fixed(5*ms)))))
	if n := len(sys.between("0", "1")); n != 10 {
		t.Errorf("%d arrivals at node 1, untouched", n)
	}
	got := sys.between("0", "2")
	if len(got) != 20 {
		t.Fatalf("%d arrivals at node 2, want 20", len(got))
	}
	for _, a := range got {
		// The second copy of each arrives 1ns after the first: links
		// are FIFO.
		if d := a.at - (time.Duration(a.seq())*ms + 6*ms); d < 0 || d > 1 {
			t.Errorf("message %d arrived at node 2 at %v", a.seq(), a.at)
		}
	}
}

// TestRedirect: an adversary may send to another node than asked, but not
// outside the network.
func TestRedirect(t *testing.T) {
	sys := byzantine(t, 1, sim.AdversaryFunc(func(stdtypes.NodeID, *rand.Rand) sim.Attack {
		return sim.AttackFunc(func(dst []sim.Outgoing, m sim.Outgoing) []sim.Outgoing {
			m.To = "3"
			dst = append(dst, m)
			m.To = "nobody"
			return append(dst, m)
		})
	}))
	if n := len(sys.between("0", "3")); n != 30 {
		t.Errorf("%d arrivals at node 3, want every message sent to 1, 2 and 3", n)
	}
	if tr, _ := sys.net.Transport("0"); tr.Stats().DroppedUnknown != 30 {
		t.Errorf("messages redirected outside the network: %+v", tr.Stats())
	}
	if err := sys.net.SetAdversary("0", nil); err != nil {
		t.Error(err)
	}
}

// trace is a run's arrivals in a form two runs can be compared by: time,
// nodes and content.
func trace(sys *system) []string {
	out := make([]string, len(sys.arrivals))
	for i, a := range sys.arrivals {
		out[i] = fmt.Sprintf("%v %s->%s %d", a.at, a.from, a.node, a.seq())
	}
	return out
}

// TestAdversaryReused: an adversary value handed to run after run gives
// each seed the run a new value gives it. Equivocate used to keep the
// versions it chose in the value, so every seed after the first got the
// first run's split, and a seed's run depended on what ran before it.
func TestAdversaryReused(t *testing.T) {
	versions := func(m stdtypes.Message, version int) stdtypes.Message {
		return &msg{Seq: m.(*msg).Seq + 1000*uint64(version)}
	}
	for name, adv := range map[string]func() sim.Adversary{
		"equivocate": func() sim.Adversary { return sim.Equivocate(3, versions) },
		"chain":      func() sim.Adversary { return sim.Chain(sim.Drop(0.1), sim.Equivocate(3, versions)) },
		"only":       func() sim.Adversary { return sim.Only(sim.To("1", "3"), sim.Equivocate(3, versions)) },
	} {
		t.Run(name, func(t *testing.T) {
			reused := adv()
			for seed := range uint64(8) {
				fresh := trace(byzantine(t, seed, adv()))
				again := trace(byzantine(t, seed, reused))
				if !slices.Equal(fresh, again) {
					t.Fatalf("seed %d: the reused adversary gives another run than a new one:\n%v\n%v", seed, fresh, again)
				}
			}
		})
	}
}

// everyOther drops every other message a node sends: an adversary with
// state, made in the function the network calls per node and run.
var everyOther = sim.AdversaryFunc(func(stdtypes.NodeID, *rand.Rand) sim.Attack {
	n := 0
	return sim.AttackFunc(func(dst []sim.Outgoing, m sim.Outgoing) []sim.Outgoing {
		n++
		if n%2 == 0 {
			return dst
		}
		return append(dst, m)
	})
})

// TestAdversaryStatePerNode: each node an adversary is set on gets an
// attack of its own, in each run.
func TestAdversaryStatePerNode(t *testing.T) {
	for range 2 {
		testEveryOther(t)
	}
}

func testEveryOther(t *testing.T) {
	sys := newSystem(t, 1, 3, sim.Options{Link: fixed(ms)})
	for _, id := range []stdtypes.NodeID{"0", "1"} {
		if err := sys.net.SetAdversary(id, everyOther); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		sys.sendSeq(time.Duration(i)*ms, "0", uint64(i), "2")
		sys.sendSeq(time.Duration(i)*ms, "1", uint64(i), "2")
	}
	sys.run(t, time.Second)
	for _, from := range []stdtypes.NodeID{"0", "1"} {
		got := sys.between(from, "2")
		if len(got) != 5 || got[0].seq() != 0 || got[1].seq() != 2 {
			t.Errorf("from node %s: %v, want messages 0, 2, 4, 6, 8", from, got)
		}
	}
}
