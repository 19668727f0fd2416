package iss

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/mirframework/mir/pkg/checkpoint"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// TestRandomRunsAgree runs four ISS modules, each fed its orderers'
// outcomes in its own random order, with random ⊥, snapshots answered
// late, memberships that change, stable checkpoints in random places, and
// one node that sleeps and catches up by state transfer, and crashes that
// restart a node from its WAL. All must deliver
// the same log in order, choose the same leaders and checkpoint the same
// states. A failure names the seed; rerun it with -run 'TestRandomRunsAgree/seed=N'.
func TestRandomRunsAgree(t *testing.T) {
	var transfers, restarts uint64
	for seed := range uint64(1000) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			tr, re := runRandom(t, seed)
			transfers, restarts = transfers+tr, restarts+re
		})
	}
	if transfers == 0 || restarts == 0 {
		t.Errorf("%d state transfers, %d restarts: the test does not test them", transfers, restarts)
	}
	t.Logf("%d state transfers, %d restarts", transfers, restarts)
}

// randomNode is one node of runRandom.
type randomNode struct {
	h *harness
	// pending are the events waiting for the node, in no order.
	pending []stdtypes.Event
	// snapshots are the epochs whose snapshot the application owes, in
	// order.
	snapshots []stdtypes.EpochNr
	// next is the next slot the application expects.
	next stdtypes.SeqNr
	// wal holds the node's durable records: ISS's and, standing in for
	// its orderers', one OrdererRecord per orderer.
	wal []walEntry
	// crashes counts the node's restarts.
	crashes int
}

type walEntry struct {
	ev  stdtypes.Event
	idx stdtypes.RetentionIndex
}

// persist takes a wal.Append or wal.Truncate, durable at once.
func (n *randomNode) persist(ev stdtypes.Event) {
	switch ev := ev.(type) {
	case *wal.Append:
		n.wal = append(n.wal, walEntry{ev.Event, ev.RetentionIndex})
		for _, f := range ev.FollowUps() {
			n.persist(f)
		}
	case *wal.Truncate:
		n.wal = slices.DeleteFunc(n.wal, func(w walEntry) bool { return w.idx < ev.RetentionIndex })
	}
}

// runRandom runs the seed and returns the number of state transfers and
// of restarts.
func runRandom(t *testing.T, seed uint64) (transfers, restarts uint64) {
	rng := rand.New(rand.NewPCG(seed, 42))
	p := testParams()
	p.LeaderPolicy = PolicyBlacklist
	p.BlacklistEpochs = 1 + rng.IntN(2)
	p.ConfigOffset = rng.IntN(3)
	p.RetainedEpochs = rng.IntN(2)
	const lastEpoch = 8

	// outcome is what every orderer of the slot delivers: agreement.
	outcome := func(e stdtypes.EpochNr, sn stdtypes.SeqNr) (string, bool) {
		h := fnv.New64a()
		fmt.Fprint(h, seed, e, sn)
		return fmt.Sprintf("e%d.%d", e, sn), h.Sum64()%7 == 0
	}
	// nextVoters is the application's membership decision after epoch e:
	// a function of the log, so the same on every node.
	nextVoters := func(e stdtypes.EpochNr) membership.Voters {
		if e%3 != 1 {
			return nil
		}
		v := membership.EqualVoters("n0", "n1", "n2", "n3")
		v[int(e)%4].Weight = 2
		return v
	}

	nodes := make([]*randomNode, 4)
	log := make(map[stdtypes.SeqNr]string)                // the log, as the first node delivered it
	states := make(map[stdtypes.EpochNr]checkpoint.State) // checkpointed, as the first node did
	starts := make(map[stdtypes.EpochNr]int)              // how many nodes checkpointed the epoch
	// leaders are the leaders each node chose, by epoch.
	leaders := make([]map[stdtypes.EpochNr][]stdtypes.NodeID, 4)
	for i := range leaders {
		leaders[i] = make(map[stdtypes.EpochNr][]stdtypes.NodeID)
	}

	handle := func(i int, out []stdtypes.Event) {
		n := nodes[i]
		for _, ev := range out {
			switch ev := ev.(type) {
			case *wal.Append, *wal.Truncate:
				n.persist(ev)
			case *stdevents.NewSubmodule:
				seg := ev.Params.(Segment)
				if seg.Index == 0 { // created again after a restart
					leaders[i][seg.Epoch] = nil
				}
				leaders[i][seg.Epoch] = append(leaders[i][seg.Epoch], seg.Leader)
				if !slices.ContainsFunc(n.wal, func(w walEntry) bool { r, ok := w.ev.(*OrdererRecord); return ok && r.Event.Dest() == ev.SubmoduleID }) {
					n.persist(wal.NewAppend("wal", &OrdererRecord{Header: stdtypes.NewHeader("iss"), Epoch: seg.Epoch, Segment: seg.Index,
						Event: &Hurry{Header: stdtypes.NewHeader(ev.SubmoduleID)}}, stdtypes.RetentionIndex(seg.Epoch)))
				}
				for _, sn := range seg.SeqNrs {
					v, aborted := outcome(seg.Epoch, sn)
					d := &SBDeliver{Header: stdtypes.NewHeader("iss"), Epoch: seg.Epoch, Segment: seg.Index, SeqNr: sn, Aborted: aborted}
					if !aborted {
						d.Value = []byte(v)
					}
					n.pending = append(n.pending, d)
				}
			case *Deliver:
				if ev.SeqNr != n.next {
					t.Fatalf("seed %d: node %d delivered slot %d, expected %d", seed, i, ev.SeqNr, n.next)
				}
				n.next++
				got := fmt.Sprintf("%s %v", ev.Value, ev.Aborted)
				if want, ok := log[ev.SeqNr]; ok && want != got {
					t.Fatalf("seed %d: node %d delivered %q in slot %d, another node %q", seed, i, got, ev.SeqNr, want)
				}
				log[ev.SeqNr] = got
			case *RestoreState:
				n.next = ev.SeqNr
			case *SnapshotRequest:
				n.snapshots = append(n.snapshots, ev.Epoch)
			case *checkpoint.Start:
				st := ev.State
				if want, ok := states[st.Epoch]; ok && !reflect.DeepEqual(want, st) {
					t.Fatalf("seed %d: node %d checkpoints epoch %d as %+v, another node as %+v", seed, i, st.Epoch, st, want)
				}
				states[st.Epoch] = st
				if starts[st.Epoch]++; starts[st.Epoch] == 3 {
					// A strong quorum: stable at every node, at some point.
					for _, m := range nodes {
						m.pending = append(m.pending, stable(st))
					}
				}
			}
		}
	}

	for i := range nodes {
		h := newHarness(t, p)
		m, err := New(stdtypes.NodeID(fmt.Sprintf("n%d", i)), h.mc, p, nil)
		if err != nil {
			t.Fatal(err)
		}
		h.m = m
		nodes[i] = &randomNode{h: h}
		handle(i, h.apply(&RecoveryDone{Header: stdtypes.NewHeader("iss")}))
	}
	sleeper, wake := rng.IntN(4), 200+rng.IntN(400)
	for step := 0; step < 20000; step++ {
		i := rng.IntN(4)
		if i == sleeper && step < wake {
			continue
		}
		n := nodes[i]
		if n.crashes < 2 && rng.IntN(1000) == 0 {
			n.crashes++
			restart(t, seed, n, p, stdtypes.NodeID(fmt.Sprintf("n%d", i)), func(out []stdtypes.Event) { handle(i, out) })
			continue
		}
		if len(n.snapshots) > 0 && (len(n.pending) == 0 || rng.IntN(4) == 0) {
			e := n.snapshots[0]
			n.snapshots = n.snapshots[1:]
			handle(i, n.h.apply(&Snapshot{Header: stdtypes.NewHeader("iss"), Epoch: e, Data: []byte(fmt.Sprint("app", e)), NextVoters: nextVoters(e)}))
			continue
		}
		if len(n.pending) == 0 {
			continue
		}
		k := rng.IntN(len(n.pending))
		ev := n.pending[k]
		n.pending = append(n.pending[:k], n.pending[k+1:]...)
		out, err := n.h.m.ApplyEvents(stdtypes.ListOf(ev))
		if err != nil {
			t.Fatalf("seed %d: node %d, %s: %v", seed, i, stdtypes.TypeName(ev), err)
		}
		handle(i, out.Slice())
		done := true
		for _, m := range nodes {
			done = done && m.h.m.Stats().Epoch >= lastEpoch
		}
		if done {
			break
		}
	}
	for i, n := range nodes {
		if s := n.h.m.Stats(); s.Epoch < lastEpoch {
			t.Fatalf("seed %d: node %d stopped at epoch %d: %+v", seed, i, s.Epoch, s)
		}
	}
	for e := range stdtypes.EpochNr(lastEpoch + 1) {
		var first []stdtypes.NodeID
		for i := range nodes {
			l, ok := leaders[i][e]
			if !ok {
				continue // skipped by a state transfer
			}
			if first == nil {
				first = l
			} else if !reflect.DeepEqual(first, l) {
				t.Fatalf("seed %d: epoch %d: node %d chose leaders %v, another %v", seed, e, i, l, first)
			}
		}
	}
	for _, n := range nodes {
		transfers += n.h.m.Stats().StateTransfers
		restarts += uint64(n.crashes)
	}
	return transfers, restarts
}

// restart crashes node n and starts it again from its WAL: it loses what
// it had pending, and gets its records back, then RecoveryDone.
func restart(t *testing.T, seed uint64, n *randomNode, p Params, id stdtypes.NodeID, handle func([]stdtypes.Event)) {
	t.Helper()
	m, err := New(id, n.h.mc, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	n.h.m = m
	n.pending, n.snapshots, n.next = nil, nil, 0
	records := []stdtypes.Event{stdevents.NewInit("iss")}
	for _, w := range n.wal {
		records = append(records, w.ev)
	}
	out, err := m.ApplyEvents(stdtypes.ListOf(records...))
	if err != nil {
		t.Fatalf("seed %d: %s restarting: %v", seed, id, err)
	}
	out, err = m.ApplyEvents(out)
	if err != nil {
		t.Fatalf("seed %d: %s after its restart: %v", seed, id, err)
	}
	// Each orderer's record follows its creation.
	for k, ev := range out.Slice() {
		if h, ok := ev.(*Hurry); ok {
			prev := out.Slice()[k-1]
			if ns, ok := prev.(*stdevents.NewSubmodule); !ok || ns.SubmoduleID != h.Dest() {
				t.Fatalf("seed %d: %s: the record of %s follows %s", seed, id, h.Dest(), stdtypes.TypeName(prev))
			}
		}
	}
	handle(out.Slice())
}
