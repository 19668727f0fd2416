package issnode_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/checkpoint"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/orderers/pbft"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdtypes"
)

// load is the workload of the fault scenarios: 4 clients, 600 requests at
// 300 per second of simulated time, submitted to every node (so that a
// request survives the crash of any of them).
var load = isstest.Load{Clients: 4, Requests: 600, Rate: 300, PayloadBytes: 32, Start: time.Millisecond}

// limit bounds the simulated time of a fault scenario.
const limit = 60 * time.Second

func TestLossyLinks(t *testing.T) {
	for _, n := range []int{4, 7} {
		t.Run(nodesName(n), func(t *testing.T) {
			testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
				c := newCluster(t, seed, clusterOptions{n: n, network: sim.Options{Link: isstest.LossyLinks()}})
				c.run(t, load, limit)
			})
		})
	}
}

func TestPartitionHeals(t *testing.T) {
	testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
		c := newCluster(t, seed, clusterOptions{n: 4})
		r := rand.New(rand.NewPCG(seed, 1))
		groups := isstest.RandomSplit(r, c.d.Nodes())
		if err := c.d.Network().PartitionDuring(300*time.Millisecond, 1500*time.Millisecond, groups...); err != nil {
			t.Fatal(err)
		}
		c.run(t, load, limit)
	})
}

// TestLeaderCrash: a leader crashes for good; the others go on ordering
// (its segments end in ⊥ after a view change, and the blacklist leaves it
// out of the next epochs); delivery resumes within a second. It then
// restarts from its WAL and catches up.
func TestLeaderCrash(t *testing.T) {
	testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
		c := newCluster(t, seed, clusterOptions{n: 4})
		const crashAt, restartAt = 500 * time.Millisecond, 4 * time.Second
		victim := c.d.Nodes()[1+int(seed%3)]
		c.d.Node(victim).CrashAt(crashAt)
		others := without(c.d.Nodes(), victim)
		// The leaders of each epoch node 0 starts, from the records it
		// persists.
		leaders := map[stdtypes.EpochNr][]stdtypes.NodeID{}
		c.d.Observe(func(o *testsim.Observation) {
			if a, ok := o.Event.(*wal.Append); ok && o.Node == "0" {
				if r, ok := a.Event.(*iss.EpochRecord); ok {
					leaders[r.Epoch] = r.Leaders
				}
			}
		})
		c.run(t, isstest.Load{Clients: 4, Requests: 900, Rate: 300, PayloadBytes: 32, Start: time.Millisecond}, limit, others...)
		gap := c.longestGapAfter(t, crashAt)
		if gap > time.Second {
			t.Errorf("after the crash, no request was executed for %v", gap)
		}
		if s := c.iss[others[0]].Stats(); s.Aborted == 0 {
			t.Errorf("no slot delivered ⊥ although leader %s crashed: %+v", victim, s)
		}
		excluded := 0
		for _, l := range leaders {
			if !slices.Contains(l, victim) {
				excluded++
			}
		}
		if excluded == 0 {
			t.Errorf("the crashed leader %s led every epoch: %v", victim, leaders)
		}
		t.Logf("longest stall after the crash: %v; %+v", gap, c.iss[others[0]].Stats())
		c.d.Node(victim).RestartAt(max(restartAt, c.d.Now()+time.Millisecond))
		c.run(t, isstest.Load{Clients: 5, Requests: 100, Rate: 300, PayloadBytes: 32, Start: c.d.Now() + 100*time.Millisecond}, limit)
	})
}

// TestCrashRestart: f nodes crash and restart, twice each, at random
// points of their runs (half of them in the middle of a batch of events:
// a view change, an epoch change, a state transfer).
func TestCrashRestart(t *testing.T) {
	for _, n := range []int{4, 7} {
		t.Run(nodesName(n), func(t *testing.T) {
			testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
				c := newCluster(t, seed, clusterOptions{n: n})
				crashes, err := isstest.ScheduleCrashes(c.d, isstest.CrashPlan{
					F: (n - 1) / 3, From: 100 * time.Millisecond, Until: 2 * time.Second,
					MinDown: 50 * time.Millisecond, MaxDown: time.Second, Times: 2, AtEvent: 0.5,
				})
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("crashes: %v", crashes)
				c.run(t, load, limit)
			})
		})
	}
}

// TestByzantineLeaders: a leader that proposes different batches for the
// same slot to different nodes, one that signs nothing validly, and one
// that stays silent. No two correct nodes deliver differently, and the
// correct nodes order every request.
func TestByzantineLeaders(t *testing.T) {
	for _, b := range []struct {
		name string
		adv  sim.Adversary
	}{
		{"equivocating", sim.Equivocate(2, equivocatePrePrepare)},
		{"invalid signatures", sim.Rewrite(func(m sim.Outgoing, _ *rand.Rand) stdtypes.Message { return breakSignatures(m.Msg) })},
		{"silent", sim.Drop(1)},
	} {
		t.Run(b.name, func(t *testing.T) {
			testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
				byz := stdtypes.NodeID("1")
				c := newCluster(t, seed, clusterOptions{
					n: 4, faulty: []stdtypes.NodeID{byz}, adversaries: map[stdtypes.NodeID]sim.Adversary{byz: b.adv},
				})
				c.run(t, load, limit, without(c.d.Nodes(), byz)...)
			})
		})
	}
	t.Run("two equivocating of 7", func(t *testing.T) {
		testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
			byz := []stdtypes.NodeID{"2", "5"}
			advs := map[stdtypes.NodeID]sim.Adversary{}
			for _, id := range byz {
				advs[id] = sim.Equivocate(2, equivocatePrePrepare)
			}
			c := newCluster(t, seed, clusterOptions{n: 7, faulty: byz, adversaries: advs})
			c.run(t, load, limit, without(c.d.Nodes(), byz...)...)
		})
	})
}

// TestStateTransfer: a node cut off for many epochs, long enough that the
// others garbage-collect them, rejoins by state transfer.
func TestStateTransfer(t *testing.T) {
	testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
		c := newCluster(t, seed, clusterOptions{n: 4, params: func(p *iss.Params) { p.SegmentLength = 4 }})
		late := c.d.Nodes()[int(seed%4)]
		if err := c.d.Network().Isolate(late, 200*time.Millisecond, 4*time.Second); err != nil {
			t.Fatal(err)
		}
		c.run(t, isstest.Load{Clients: 4, Requests: 1500, Rate: 400, PayloadBytes: 32, Start: time.Millisecond}, limit)
		s := c.iss[late].Stats()
		if s.StateTransfers == 0 {
			t.Errorf("node %s caught up without a state transfer: %+v; the others %+v", late, s, c.iss[without(c.d.Nodes(), late)[0]].Stats())
		}
		t.Logf("node %s: %+v", late, s)
	})
}

// TestWeightedCrashes: with weighted voters, crashing nodes that hold less
// than a third of the weight leaves the system live; crashing more than a
// third stops it, and nothing wrong is delivered meanwhile.
func TestWeightedCrashes(t *testing.T) {
	voters, err := isstest.Weighted(stdtypes.NumberedNodeIDs(5), 4, 1, 1, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("less than a third", func(t *testing.T) {
		testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
			c := newCluster(t, seed, clusterOptions{voters: voters})
			down := isstest.Tolerated(voters)
			for _, id := range down {
				c.d.Node(id).CrashAt(300 * time.Millisecond)
			}
			c.run(t, load, limit, without(c.d.Nodes(), down...)...)
		})
	})
	t.Run("more than a third", func(t *testing.T) {
		testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
			c := newCluster(t, seed, clusterOptions{voters: voters})
			down := isstest.WeakQuorumOf(voters)
			const crashAt = 300 * time.Millisecond
			for _, id := range down {
				c.d.Node(id).CrashAt(crashAt)
			}
			dr, err := isstest.NewDriver(load)
			if err != nil {
				t.Fatal(err)
			}
			if err := dr.Schedule(c.d); err != nil {
				t.Fatal(err)
			}
			if err := c.d.WaitFor(func() bool { return false }, 10*time.Second); err == nil {
				t.Fatal("the wait ended")
			}
			if err := c.checker.Err(); err != nil {
				t.Fatal(err)
			}
			up := without(c.d.Nodes(), down...)
			before := c.checker.Covered(up[0])
			if err := c.d.WaitFor(func() bool { return false }, 5*time.Second); err == nil {
				t.Fatal("the wait ended")
			}
			for _, id := range up {
				if got := c.checker.Covered(id); got != before {
					t.Errorf("node %s executed %d requests, then %d, with more than a third of the weight down", id, before, got)
				}
			}
			if before == dr.Submitted() {
				t.Errorf("all %d requests executed with more than a third of the weight down", before)
			}
		})
	})
}

// TestForgedCertificates: a Byzantine node sends stable checkpoint
// certificates for far epochs signed by nobody, and NEWVIEWs with
// VIEWCHANGEs whose signatures are garbage: the correct nodes take
// neither, and go on.
func TestForgedCertificates(t *testing.T) {
	testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
		byz := stdtypes.NodeID("2")
		c := newCluster(t, seed, clusterOptions{
			n: 4, faulty: []stdtypes.NodeID{byz},
			adversaries: map[stdtypes.NodeID]sim.Adversary{byz: sim.Rewrite(func(m sim.Outgoing, r *rand.Rand) stdtypes.Message { return forge(m.Msg, r) })},
		})
		c.run(t, load, limit, without(c.d.Nodes(), byz)...)
		for _, id := range without(c.d.Nodes(), byz) {
			if s := c.iss[id].Stats(); s.StateTransfers != 0 {
				t.Errorf("node %s made %d state transfers in a run without faults but the forger's", id, s.StateTransfers)
			}
		}
	})
}

// equivocatePrePrepare gives version 1 of the recipients a different
// batch than version 0 for every slot the sender proposes: the same batch
// without its last request (still valid: its requests are the sender's to
// propose), or the empty value.
func equivocatePrePrepare(msg stdtypes.Message, version int) stdtypes.Message {
	dm, ok := msg.(*reliablenet.DataMsg)
	if !ok || version == 0 {
		return msg
	}
	pp, ok := dm.Msg.(*pbft.PrePrepareMsg)
	if !ok || pp.Aborted || len(pp.Value) == 0 {
		return msg
	}
	reqs, err := isstest.DecodeBatch(pp.Value, batchLimits)
	if err != nil {
		return msg
	}
	forged := *pp
	forged.Value = nil
	if len(reqs) > 1 {
		forged.Value = isstest.EncodeBatch(reqs[:len(reqs)-1])
	}
	c := *dm
	c.Msg = &forged
	return &c
}

// breakSignatures returns msg with every signature it carries flipped.
func breakSignatures(msg stdtypes.Message) stdtypes.Message {
	dm, ok := msg.(*reliablenet.DataMsg)
	if !ok {
		return msg
	}
	c := *dm
	switch m := dm.Msg.(type) {
	case *pbft.ViewChangeMsg:
		f := *m
		f.Signature = flipped(m.Signature)
		c.Msg = &f
	case *checkpoint.CheckpointMsg:
		f := *m
		f.Sig = flipped(m.Sig)
		c.Msg = &f
	default:
		return msg
	}
	return &c
}

// forge replaces the sender's stable checkpoint certificates by ones for
// a far epoch, signed by every voter with garbage, and breaks the
// signatures of its VIEWCHANGEs (and so of any NEWVIEW proof).
func forge(msg stdtypes.Message, r *rand.Rand) stdtypes.Message {
	if m, ok := msg.(*checkpoint.StableCheckpointMsg); ok {
		f := *m
		f.Cert.Epoch += 10 + stdtypes.EpochNr(r.IntN(100))
		f.Cert.SeqNr += 1000
		f.Cert.StateHash = flipped(m.Cert.StateHash)
		f.Cert.Signatures = nil
		for _, id := range stdtypes.NumberedNodeIDs(4) {
			sig := make([]byte, 64)
			for i := range sig {
				sig[i] = byte(r.Uint32())
			}
			f.Cert.Signatures = append(f.Cert.Signatures, checkpoint.Signature{Signer: id, Sig: sig})
		}
		return &f
	}
	return breakSignatures(msg)
}

// flipped returns a copy of b with its first bit flipped, or one byte if b
// is empty.
func flipped(b []byte) []byte {
	c := append([]byte(nil), b...)
	if len(c) == 0 {
		return []byte{1}
	}
	c[0] ^= 1
	return c
}

// without returns nodes without the ones in drop.
func without(nodes []stdtypes.NodeID, drop ...stdtypes.NodeID) []stdtypes.NodeID {
	var out []stdtypes.NodeID
	for _, id := range nodes {
		keep := true
		for _, d := range drop {
			keep = keep && id != d
		}
		if keep {
			out = append(out, id)
		}
	}
	return out
}

// nodesName names a subtest by its number of nodes.
func nodesName(n int) string { return string(rune('0'+n)) + " nodes" }

// longestGapAfter returns the longest time after from in which no request
// reached a strong quorum of the voters.
func (c *cluster) longestGapAfter(t *testing.T, from time.Duration) time.Duration {
	t.Helper()
	var times []time.Duration
	for _, at := range c.checker.QuorumTimes(c.voters) {
		if at >= from {
			times = append(times, at)
		}
	}
	if len(times) == 0 {
		t.Fatalf("no request executed after %v", from)
	}
	slicesSort(times)
	gap, prev := times[0]-from, times[0]
	for _, at := range times[1:] {
		gap, prev = max(gap, at-prev), at
	}
	return gap
}

func slicesSort(ts []time.Duration) { slices.Sort(ts) }

// batchLimits are generous bounds for decoding the batches a node sends.
var batchLimits = isstest.Limits{MaxRequests: 1 << 16, MaxBytes: 1 << 24, MaxClientBytes: 1 << 10, MaxPayloadBytes: 1 << 20}

// TestMembershipChange: the application changes the membership twice while
// the nodes order: node 4, which starts outside it, joins from epoch 4 on
// (it learns the log by state transfer, then takes part), then node 0 is
// removed from epoch 8 on, and node 3's weight grows. Every voter of the
// last membership executes every request.
func TestMembershipChange(t *testing.T) {
	nodes := stdtypes.NumberedNodeIDs(5)
	first := membership.EqualVoters(nodes[:4]...)
	joined := membership.EqualVoters(nodes...)
	last, err := isstest.Weighted(nodes[1:], 1, 1, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
		c := newCluster(t, seed, clusterOptions{
			voters: first, nodes: nodes,
			params:      func(p *iss.Params) { p.SegmentLength = 4 },
			memberships: []isstest.MembershipChange{{FromEpoch: 4, Voters: joined}, {FromEpoch: 8, Voters: last}},
		})
		c.run(t, isstest.Load{Clients: 4, Requests: 800, Rate: 300, PayloadBytes: 32, Start: time.Millisecond}, limit, nodes[1:]...)
		for _, id := range nodes[1:] {
			if s := c.iss[id].Stats(); s.Epoch < 8 {
				t.Errorf("node %s is in epoch %d only: %+v", id, s.Epoch, s)
			}
		}
		if s := c.iss["4"].Stats(); s.StateTransfers == 0 || s.Delivered == 0 {
			t.Errorf("the joining node made %d state transfers and delivered %d slots itself; want both", s.StateTransfers, s.Delivered)
		}
	})
}
