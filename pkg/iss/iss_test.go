package iss

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/checkpoint"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

func TestStartCreatesTheOrderersOfEpoch0(t *testing.T) {
	_, out := started(t, testParams())
	appends := ofType[*wal.Append](out)
	if len(appends) != 1 {
		t.Fatalf("%d WAL appends, want the epoch record", len(appends))
	}
	rec, ok := appends[0].Event.(*EpochRecord)
	if !ok || rec.Epoch != 0 || rec.First != 0 || !slices.Equal(rec.Leaders, fourVoters.IDs()) || appends[0].RetentionIndex != 0 || rec.Dest() != "iss" {
		t.Errorf("epoch record %+v (retention %d)", appends[0].Event, appends[0].RetentionIndex)
	}
	ids, segs := created(out)
	if want := []stdtypes.ModuleID{"ordering/0.0", "ordering/0.1", "ordering/0.2", "ordering/0.3"}; !slices.Equal(ids, want) {
		t.Fatalf("orderers %v, want %v", ids, want)
	}
	for _, ns := range ofType[*stdevents.NewSubmodule](out) {
		if ns.RetentionIndex != 0 || ns.Dest() != "ordering" {
			t.Errorf("NewSubmodule %s: retention %d, to %s", ns.SubmoduleID, ns.RetentionIndex, ns.Dest())
		}
	}
	s := segs[2]
	if s.Epoch != 0 || s.Index != 2 || s.Leader != "n2" || !slices.Equal(s.SeqNrs, []stdtypes.SeqNr{2, 6}) ||
		!slices.Equal(s.Buckets, []int{2, 6}) || !slices.Equal(s.Voters, fourVoters) {
		t.Errorf("segment 2 = %+v", s)
	}
}

// TestDeliveryInOrder hands ISS its segments' outcomes out of order,
// with ⊥, and checks that the application gets the log in order.
func TestDeliveryInOrder(t *testing.T) {
	h, _ := started(t, testParams())
	steps := []struct {
		in   *SBDeliver
		want []string
	}{
		{sbDeliver(0, 1, 5, false), nil},
		{sbDeliver(0, 1, 1, false), nil},
		{sbDeliver(0, 2, 2, true), nil},
		{sbDeliver(0, 0, 0, false), []string{"0:v0", "1:v1", "2:⊥"}},
		{sbDeliver(0, 0, 4, false), nil},
		{sbDeliver(0, 3, 3, false), []string{"3:v3", "4:v4", "5:v5"}},
		{sbDeliver(0, 3, 7, true), nil},
	}
	for i, s := range steps {
		if got := delivered(h.apply(s.in)); !slices.Equal(got, s.want) {
			t.Fatalf("step %d: delivered %v, want %v", i, got, s.want)
		}
	}
	out := h.apply(sbDeliver(0, 2, 6, false))
	if got, want := delivered(out), []string{"6:v6", "7:⊥"}; !slices.Equal(got, want) {
		t.Fatalf("last slot: delivered %v, want %v", got, want)
	}
	for _, d := range ofType[*Deliver](out) {
		if d.Dest() != "app" || d.Epoch != 0 {
			t.Errorf("Deliver %+v", d)
		}
	}
	// The epoch ended: snapshot request, and epoch 1 at once.
	reqs := ofType[*SnapshotRequest](out)
	if len(reqs) != 1 || reqs[0].Epoch != 0 || reqs[0].SeqNr != 8 || reqs[0].ReplyTo != "iss" || reqs[0].Dest() != "app" {
		t.Fatalf("snapshot requests %+v", reqs)
	}
	ids, segs := created(out)
	if len(ids) != 4 || ids[0] != "ordering/1.0" || !slices.Equal(segs[0].SeqNrs, []stdtypes.SeqNr{8, 12}) {
		t.Fatalf("epoch 1 orderers %v %+v", ids, segs)
	}
	// Buckets rotate: in epoch 1, bucket b goes to leader (b+1) mod 4.
	if !slices.Equal(segs[0].Buckets, []int{3, 7}) {
		t.Errorf("epoch 1 segment 0 buckets %v, want [3 7]", segs[0].Buckets)
	}
	if st := h.m.Stats(); st.Delivered != 8 || st.Aborted != 2 || st.Epoch != 1 || st.NextSeqNr != 8 || st.EpochsStarted != 2 {
		t.Errorf("Stats = %+v", st)
	}
}

func TestEpochChangeCheckpointsAndMemberships(t *testing.T) {
	h, _ := started(t, testParams()) // ConfigOffset 1
	h.deliverEpoch(0)
	// The snapshot of epoch 0 decides epoch 2's membership.
	five := membership.EqualVoters("n0", "n1", "n2", "n3", "n4")
	out := h.apply(snapshot(0, five))
	starts := ofType[*checkpoint.Start](out)
	if len(starts) != 1 {
		t.Fatalf("output %v, want one checkpoint.Start", out)
	}
	st := starts[0]
	if st.Dest() != "checkpoint" || st.ReplyTo != "iss" || !slices.Equal(st.Voters, fourVoters) ||
		st.State.Epoch != 0 || st.State.SeqNr != 8 || string(st.State.AppData) != "app after 0" ||
		len(st.State.Voters) != 2 || !slices.Equal(st.State.Voters[0], fourVoters) || !slices.Equal(st.State.Voters[1], five) {
		t.Errorf("checkpoint.Start %+v", st)
	}
	// Epoch 1 still has four voters; epoch 2 has five.
	out = h.deliverEpoch(1)
	ids, segs := created(out)
	if len(ids) != 5 || !slices.Equal(segs[0].Voters, five) || segs[4].Leader != "n4" || !slices.Equal(segs[0].SeqNrs, []stdtypes.SeqNr{16, 21}) {
		t.Fatalf("epoch 2 orderers %v, segment 0 %+v", ids, segs[0])
	}
	// An empty NextVoters keeps the membership.
	out = h.apply(snapshot(1, nil))
	if st := ofType[*checkpoint.Start](out)[0]; !slices.Equal(st.State.Voters[1], five) || !slices.Equal(st.Voters, fourVoters) {
		t.Errorf("checkpoint of epoch 1: %+v", st)
	}
}

// TestConfigOffsetZeroWaitsForTheSnapshot: with ConfigOffset 0 the
// membership of epoch e+1 comes with the snapshot of epoch e, so the next
// epoch starts only then.
func TestConfigOffsetZeroWaitsForTheSnapshot(t *testing.T) {
	p := testParams()
	p.ConfigOffset = 0
	h, _ := started(t, p)
	if ids, _ := created(h.deliverEpoch(0)); len(ids) != 0 {
		t.Fatalf("epoch 1 started before its membership was known: %v", ids)
	}
	three := membership.EqualVoters("n0", "n1", "n2")
	out := h.apply(snapshot(0, three))
	ids, segs := created(out)
	if len(ids) != 3 || !slices.Equal(segs[0].Voters, three) || segs[0].SeqNrs[0] != 8 {
		t.Fatalf("epoch 1 orderers %v %+v", ids, segs)
	}
	if st := ofType[*checkpoint.Start](out); len(st) != 1 || len(st[0].State.Voters) != 1 {
		t.Errorf("checkpoint.Start %+v", st)
	}
}

func TestBlacklistInTheModule(t *testing.T) {
	p := testParams()
	p.LeaderPolicy = PolicyBlacklist
	p.BlacklistEpochs = 1
	h, _ := started(t, p)
	// n2's segment (slots 2 and 6) delivers ⊥ once.
	out := h.deliverEpoch(0, 6)
	_, segs := created(out)
	var leaders []stdtypes.NodeID
	for _, s := range segs {
		leaders = append(leaders, s.Leader)
	}
	if !slices.Equal(leaders, ids("n0", "n1", "n3")) {
		t.Fatalf("epoch 1 leaders %v, want n2 left out", leaders)
	}
	st0 := h.m.Stats()
	if !slices.Equal(st0.Leaders, leaders) {
		t.Errorf("Stats().Leaders = %v, want %v", st0.Leaders, leaders)
	}
	st0.Leaders[0] = "changed by a caller"
	if got := h.m.Stats().Leaders; !slices.Equal(got, leaders) {
		t.Errorf("a caller's change to Stats().Leaders shows in the next Stats: %v", got)
	}
	if !slices.Equal(segs[1].SeqNrs, []stdtypes.SeqNr{9, 12}) {
		t.Errorf("epoch 1 segment 1 slots %v", segs[1].SeqNrs)
	}
	// The checkpoint carries the policy's state.
	st := ofType[*checkpoint.Start](h.apply(snapshot(0, nil)))[0]
	b := NewBlacklist(1)
	if err := b.SetState(st.State.Protocol); err != nil || !slices.Equal(b.Offences(), []Offence{{"n2", 0}}) {
		t.Errorf("checkpointed policy state: %v, %v", b.Offences(), err)
	}
	// Back in epoch 2.
	if _, segs := created(h.deliverEpoch(1)); len(segs) != 4 {
		t.Errorf("epoch 2 has %d segments, want 4", len(segs))
	}
	if got := h.m.Stats().Leaders; !slices.Equal(got, ids("n0", "n1", "n2", "n3")) {
		t.Errorf("epoch 2: Stats().Leaders = %v, want all four", got)
	}
}

func TestProposedHurriesTheSegmentsThisNodeLeads(t *testing.T) {
	p := testParams()
	p.SegmentLength = 3 // Slots 0 to 11; 6 and 7 are not in the last round.
	p.Voters = membership.EqualVoters("n0", "n1", "n0x", "n2")
	h, _ := started(t, p)
	proposed := func(seg int, sn stdtypes.SeqNr) *Proposed {
		return &Proposed{Header: stdtypes.NewHeader("iss"), Epoch: 0, Segment: seg, SeqNr: sn}
	}
	out := h.apply(proposed(2, 6))
	hurries := ofType[*Hurry](out)
	if len(out) != 1 || len(hurries) != 1 || hurries[0].Dest() != "ordering/0.0" || hurries[0].SeqNr != 6 {
		t.Fatalf("output %v, want one Hurry(6) to ordering/0.0, the segment n0 leads", out)
	}
	// Lower slots, and the node's own segment, send nothing more.
	for _, ev := range []*Proposed{proposed(1, 5), proposed(2, 2), proposed(0, 4)} {
		if out := h.apply(ev); len(out) != 0 {
			t.Errorf("Proposed %d: output %v", ev.SeqNr, out)
		}
	}
	if out := h.apply(proposed(3, 7)); len(ofType[*Hurry](out)) != 1 {
		t.Errorf("higher slot: output %v", out)
	}
	for _, bad := range []*Proposed{proposed(1, 2), proposed(5, 2), {Header: stdtypes.NewHeader("iss"), Epoch: 3}} {
		if err := h.applyErr(bad); !errors.Is(err, ErrLocalBug) {
			t.Errorf("Proposed %+v: %v, want ErrLocalBug", bad, err)
		}
	}
}

// TestProposedInTheLastRoundHurriesTheWholeEpoch: once a value is accepted
// for a slot of the epoch's last round, some segment has no slot left, and
// the requests of its buckets wait for the next epoch: every slot of the
// epoch is hurried, those above the value's included.
func TestProposedInTheLastRoundHurriesTheWholeEpoch(t *testing.T) {
	p := testParams()
	p.SegmentLength = 3 // Slots 0 to 11, the last round 8 to 11.
	p.Voters = membership.EqualVoters("n1", "n2", "n0", "n3")
	h, _ := started(t, p)
	proposed := func(seg int, sn stdtypes.SeqNr) *Proposed {
		return &Proposed{Header: stdtypes.NewHeader("iss"), Epoch: 0, Segment: seg, SeqNr: sn}
	}
	if hurries := ofType[*Hurry](h.apply(proposed(1, 5))); len(hurries) != 1 || hurries[0].SeqNr != 5 {
		t.Fatalf("slot 5, before the last round: %v, want Hurry(5)", hurries)
	}
	// Slot 8 is the first of the last round: segment 0 has no slot left,
	// and n0's segment 2 has one, 10, above it.
	out := h.apply(proposed(0, 8))
	hurries := ofType[*Hurry](out)
	if len(out) != 1 || len(hurries) != 1 || hurries[0].Dest() != "ordering/0.2" || hurries[0].SeqNr != 12 {
		t.Fatalf("slot 8: output %v, want Hurry(12), the end of the epoch, to ordering/0.2, the segment n0 leads", out)
	}
	// The epoch is hurried to its end: later values send nothing more.
	for _, ev := range []*Proposed{proposed(3, 11), proposed(1, 9)} {
		if out := h.apply(ev); len(out) != 0 {
			t.Errorf("Proposed %d after the whole epoch was hurried: output %v", ev.SeqNr, out)
		}
	}
}

// TestLocalBugsAreErrors: events a correct local module never sends stop
// the node, with an error naming the event.
func TestLocalBugsAreErrors(t *testing.T) {
	reused := sbDeliver(0, 3, 3, false)
	tests := []struct {
		name string
		prep func(h *harness)
		ev   stdtypes.Event
		want string
	}{
		{"SBDeliver twice", func(h *harness) { h.apply(sbDeliver(0, 1, 1, false)) }, sbDeliver(0, 1, 1, false), "twice"},
		{"the same SBDeliver event again", func(h *harness) { h.apply(reused) }, reused, "twice"},
		{"SBDeliver from another segment", nil, sbDeliver(0, 0, 1, false), "not in segment 0.0"},
		{"SBDeliver beyond the epoch", nil, sbDeliver(0, 0, 8, false), "not in segment"},
		{"SBDeliver of no segment", nil, sbDeliver(0, 4, 0, false), "segment 4 of epoch 0, which has 4"},
		{"SBDeliver of a future epoch", nil, sbDeliver(1, 0, 8, false), "not started"},
		{"⊥ with a value", nil, &SBDeliver{Header: stdtypes.NewHeader("iss"), SeqNr: 0, Aborted: true, Value: []byte("x")}, "⊥ with a value"},
		{"SBDeliver after the epoch ended", func(h *harness) { h.deliverEpoch(0) }, sbDeliver(0, 2, 2, false), "has ended"},
		{"Snapshot not asked for", nil, snapshot(0, nil), "not the oldest one asked for"},
		{"Snapshot out of order", func(h *harness) { h.deliverEpoch(0); h.deliverEpoch(1) }, snapshot(1, nil), "not the oldest"},
		{"Snapshot with bad voters", func(h *harness) { h.deliverEpoch(0) }, snapshot(0, membership.EqualVoters("a", "a")), "NextVoters"},
		{"record after the start", nil, &EpochRecord{Header: stdtypes.NewHeader("iss")}, "after the start"},
		{"orderer record after the start", nil, &OrdererRecord{Header: stdtypes.NewHeader("iss"), Event: &Hurry{Header: stdtypes.NewHeader("ordering/0.0")}}, "after the start"},
		{"RecoveryDone twice", nil, &RecoveryDone{Header: stdtypes.NewHeader("iss")}, "twice"},
		{"unexpected event", nil, &Hurry{Header: stdtypes.NewHeader("iss")}, "unexpected event iss.Hurry"},
		{"Stable whose state is another epoch's", nil, &checkpoint.Stable{Cert: checkpoint.Certificate{Epoch: 1}, State: checkpoint.State{Epoch: 2}}, "with a state of epoch 2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := started(t, testParams())
			if tc.prep != nil {
				tc.prep(h)
			}
			err := h.applyErr(tc.ev)
			if !errors.Is(err, ErrLocalBug) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want ErrLocalBug saying %q", err, tc.want)
			}
		})
	}
}

func TestEventsBeforeTheStartAreErrors(t *testing.T) {
	h := newHarness(t, testParams())
	h.apply(stdevents.NewInit("iss"))
	if err := h.applyErr(sbDeliver(0, 0, 0, false)); !errors.Is(err, ErrLocalBug) {
		t.Errorf("SBDeliver before RecoveryDone: %v", err)
	}
	h = newHarness(t, testParams())
	h.apply(stdevents.NewInit("iss"))
	rec := &OrdererRecord{Header: stdtypes.NewHeader("iss"), Epoch: 0, Segment: 1, Event: &Hurry{Header: stdtypes.NewHeader("ordering/0.2")}}
	if err := h.applyErr(rec); !errors.Is(err, ErrLocalBug) {
		t.Errorf("OrdererRecord for another orderer: %v", err)
	}
}

// runToStable runs ISS through epochs 0 and 1 (snapshots answered) and
// returns the states of their checkpoints.
func runTwoEpochs(h *harness) []checkpoint.State {
	var states []checkpoint.State
	for e := range stdtypes.EpochNr(2) {
		h.deliverEpoch(e)
		states = append(states, ofType[*checkpoint.Start](h.apply(snapshot(e, nil)))[0].State)
	}
	return states
}

func TestStableCheckpointGarbageCollects(t *testing.T) {
	p := testParams()
	p.RetainedEpochs = 1
	h, _ := started(t, p)
	states := runTwoEpochs(h)

	// Epoch 0 stable: persisted; with one epoch retained nothing goes.
	out := h.apply(stable(states[0]))
	if len(out) != 1 {
		t.Fatalf("output %v, want the WAL append", out)
	}
	checkPersisted(t, out[0], 0)

	// Epoch 1 stable: epoch 0 goes.
	out = h.apply(stable(states[1]))
	checkPersisted(t, out[0], 1)
	var cancels []string
	for _, c := range ofType[*reliablenet.CancelPrefix](out) {
		if c.Dest() != "rnet" || c.Prefix != "" {
			t.Errorf("CancelPrefix %+v", c)
		}
		cancels = append(cancels, string(c.MsgDest))
	}
	if want := []string{"ordering/0.0", "ordering/0.1", "ordering/0.2", "ordering/0.3"}; !slices.Equal(cancels, want) {
		t.Errorf("cancelled %v, want %v", cancels, want)
	}
	gcs := ofType[*stdevents.GarbageCollect](out)
	if len(gcs) != 1 || gcs[0].Dest() != "ordering" || gcs[0].RetentionIndex != 1 {
		t.Errorf("garbage collection %+v", gcs)
	}
	if len(ofType[*stdevents.TimerGarbageCollect](out)) != 0 {
		t.Error("timer garbage-collected without a Timer in the ModuleConfig")
	}
	if st := h.m.Stats(); !st.HasStable || st.StableEpoch != 1 || st.GCIndex != 1 || len(h.m.epochs) != 2 {
		t.Errorf("Stats %+v, %d epochs kept", st, len(h.m.epochs))
	}
	// A late event of a collected orderer is stale; an old Stable changes nothing.
	if out := h.apply(sbDeliver(0, 0, 0, false), stable(states[0]), stable(states[1])); len(out) != 0 {
		t.Errorf("stale events: output %v", out)
	}
	if h.m.Stats().Stale != 1 {
		t.Errorf("Stale = %d, want 1", h.m.Stats().Stale)
	}
	// A Stable that contradicts this node's log is an error.
	bad := states[1]
	bad.Epoch, bad.SeqNr = 2, 99
	h.deliverEpoch(2)
	if err := h.applyErr(stable(bad)); err == nil || !strings.Contains(err.Error(), "ended at slot 24") {
		t.Errorf("contradicting Stable: %v", err)
	}
}

// checkPersisted checks that ev persists the stable checkpoint of epoch e
// and then truncates ISS's records below e+1.
func checkPersisted(t *testing.T, ev stdtypes.Event, e stdtypes.EpochNr) {
	t.Helper()
	a, ok := ev.(*wal.Append)
	if !ok {
		t.Fatalf("%T, want a wal.Append", ev)
	}
	rec, ok := a.Event.(*StableRecord)
	if !ok || rec.Cert.Epoch != e || rec.Dest() != "iss" || a.RetentionIndex != stdtypes.RetentionIndex(e+1) {
		t.Fatalf("append of %+v, retention %d", a.Event, a.RetentionIndex)
	}
	next := a.FollowUps()
	if len(next) != 2 {
		t.Fatalf("follow-ups %v, want the truncation and the news to the application", next)
	}
	if tr, ok := next[0].(*wal.Truncate); !ok || tr.Owner != "iss" || tr.RetentionIndex != stdtypes.RetentionIndex(e+1) {
		t.Fatalf("follow-up %+v", next[0])
	}
	if sc, ok := next[1].(*StableCheckpoint); !ok || sc.Dest() != "app" || sc.Epoch != e || sc.SeqNr != rec.State.SeqNr {
		t.Fatalf("follow-up %+v", next[1])
	}
}

func TestGarbageCollectionWithATimer(t *testing.T) {
	p := testParams()
	p.RetainedEpochs = 0
	h := newHarness(t, p)
	h.mc.Timer = "isstimer"
	m, err := New("n0", h.mc, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.m = m
	h.apply(&RecoveryDone{Header: stdtypes.NewHeader("iss")})
	states := runTwoEpochs(h)
	out := h.apply(stable(states[0]))
	if tg := ofType[*stdevents.TimerGarbageCollect](out); len(tg) != 1 || tg[0].Dest() != "isstimer" || tg[0].RetentionIndex != 1 {
		t.Errorf("timer garbage collection %+v", tg)
	}
}

// TestStateTransfer: a Stable beyond the current epoch restores the
// application and jumps to the epoch after it.
func TestStateTransfer(t *testing.T) {
	p := testParams()
	p.LeaderPolicy = PolicyBlacklist
	h, _ := started(t, p)
	h.apply(sbDeliver(0, 0, 0, false), sbDeliver(0, 2, 2, false))
	three := membership.EqualVoters("n0", "n1", "n3")
	policy := NewBlacklist(p.BlacklistEpochs)
	policy.EpochDone(4, ids("n1"))
	protocol, _ := policy.State()
	st := checkpoint.State{Epoch: 5, SeqNr: 40, AppData: []byte("app after 5"), Voters: []membership.Voters{three, fourVoters}, Protocol: protocol}
	out := h.apply(stable(st))

	rs := ofType[*RestoreState](out)
	if len(rs) != 1 || rs[0].Dest() != "app" || rs[0].Epoch != 5 || rs[0].SeqNr != 40 || string(rs[0].Data) != "app after 5" {
		t.Fatalf("RestoreState %+v", rs)
	}
	checkPersisted(t, ofType[*wal.Append](out)[0], 5)
	if gcs := ofType[*stdevents.GarbageCollect](out); len(gcs) != 1 || gcs[0].RetentionIndex != 6 {
		t.Errorf("garbage collection %+v", gcs)
	}
	if n := len(ofType[*reliablenet.CancelPrefix](out)); n != 4 {
		t.Errorf("%d cancellations, want epoch 0's 4", n)
	}
	// Epoch 6: membership and policy from the state (n1 still out).
	ids, segs := created(out)
	if !slices.Equal(ids, []stdtypes.ModuleID{"ordering/6.0", "ordering/6.1"}) || segs[0].SeqNrs[0] != 40 || !slices.Equal(segs[0].Voters, three) {
		t.Fatalf("epoch 6 orderers %v %+v", ids, segs)
	}
	// The old epoch's late events are stale; the new one delivers from 40.
	if out := h.apply(sbDeliver(0, 1, 1, false), snapshot(0, nil)); len(out) != 0 {
		t.Errorf("stale events: %v", out)
	}
	if got := delivered(h.apply(sbDeliver(6, 0, 40, false))); !slices.Equal(got, []string{"40:v40"}) {
		t.Errorf("delivered %v", got)
	}
	if st := h.m.Stats(); st.StateTransfers != 1 || st.Stale != 2 || st.Epoch != 6 || st.StableEpoch != 5 {
		t.Errorf("Stats %+v", st)
	}
}

func TestStateTransferOfABadStateIsDropped(t *testing.T) {
	p := testParams()
	p.LeaderPolicy = PolicyBlacklist
	good := checkpoint.State{Epoch: 5, SeqNr: 40, Voters: []membership.Voters{fourVoters, fourVoters}}
	for name, change := range map[string]func(*checkpoint.State){
		"too few memberships": func(s *checkpoint.State) { s.Voters = s.Voters[:1] },
		"invalid membership":  func(s *checkpoint.State) { s.Voters[1] = membership.EqualVoters("a", "a") },
		"bad policy state":    func(s *checkpoint.State) { s.Protocol = []byte{0xff} },
		"slot behind":         func(s *checkpoint.State) { s.SeqNr = 1 },
		"slot beyond any log": func(s *checkpoint.State) { s.SeqNr = ^stdtypes.SeqNr(0) },
		"last epoch":          func(s *checkpoint.State) { s.Epoch = ^stdtypes.EpochNr(0) },
	} {
		h, _ := started(t, p)
		h.deliverEpoch(0)
		st := good
		st.Voters = slices.Clone(good.Voters)
		change(&st)
		if out := h.apply(stable(st)); len(out) != 0 {
			t.Errorf("%s: output %v", name, out)
		}
		if s := h.m.Stats(); s.BadStates != 1 || s.Epoch != 1 {
			t.Errorf("%s: Stats %+v", name, s)
		}
	}
}

// TestRestartFromRecords: the WAL hands back a stable checkpoint, the
// epochs started since and the orderers' records; ISS restores the
// application and recreates each orderer followed by its records, as the
// log reaches its epoch again.
func TestRestartFromRecords(t *testing.T) {
	p := testParams()
	// A first life: epochs 0 to 2, with the stable checkpoint of epoch 1.
	first, _ := started(t, p)
	states := runTwoEpochs(first)
	first.deliverEpoch(2)
	var records []stdtypes.Event
	out := first.apply(stable(states[1]))
	records = append(records, ofType[*wal.Append](out)[0].Event)
	for _, e := range []stdtypes.EpochNr{2, 3} {
		ep := first.m.epochs[e]
		records = append(records, &EpochRecord{Header: stdtypes.NewHeader("iss"), Epoch: e, First: ep.first, Leaders: fourVoters.IDs()})
	}
	rec := func(e stdtypes.EpochNr, seg int, tag stdtypes.SeqNr) *OrdererRecord {
		return &OrdererRecord{Header: stdtypes.NewHeader("iss"), Epoch: e, Segment: seg,
			Event: &Hurry{Header: stdtypes.NewHeader(OrdererID("ordering", e, seg)), SeqNr: tag}}
	}
	records = append(records, rec(1, 0, 100), rec(2, 1, 201), rec(3, 2, 302), rec(2, 1, 202))

	// The second life.
	h := newHarness(t, p)
	h.apply(stdevents.NewInit("iss"))
	h.apply(records...)
	out = h.apply(&RecoveryDone{Header: stdtypes.NewHeader("iss")})
	if rs := ofType[*RestoreState](out); len(rs) != 1 || rs[0].Epoch != 1 || rs[0].SeqNr != 16 {
		t.Fatalf("RestoreState %+v", rs)
	}
	// The checkpoint module, which starts empty, learns the checkpoint.
	if st := ofType[*checkpoint.Stable](out); len(st) != 1 || st[0].Dest() != "checkpoint" || st[0].Cert.Epoch != 1 || st[0].State.SeqNr != 16 {
		t.Fatalf("Stables to the checkpoint module %+v", st)
	}
	if len(ofType[*wal.Append](out)) != 0 {
		t.Error("ISS appended to the WAL what it recovered")
	}
	got := renderOrderers(out)
	want := []string{"new ordering/2.0", "new ordering/2.1", "ordering/2.1<-201", "ordering/2.1<-202", "new ordering/2.2", "new ordering/2.3"}
	if !slices.Equal(got, want) {
		t.Fatalf("epoch 2 after the restart: %v, want %v", got, want)
	}
	out = h.deliverEpoch(2)
	if got := delivered(out)[0]; got != "16:v16" {
		t.Errorf("first delivery %s", got)
	}
	want = []string{"new ordering/3.0", "new ordering/3.1", "new ordering/3.2", "ordering/3.2<-302", "new ordering/3.3"}
	if got := renderOrderers(out); !slices.Equal(got, want) {
		t.Errorf("epoch 3 after the restart: %v, want %v", got, want)
	}
	if len(ofType[*wal.Append](out)) != 0 {
		t.Error("epoch 3 recorded again")
	}
	// Epoch 4 has no record: it is recorded now (once its membership
	// came with the snapshot of epoch 2).
	h.apply(snapshot(2, nil))
	if a := ofType[*wal.Append](h.deliverEpoch(3)); len(a) != 1 {
		t.Errorf("epoch 4: %d appends, want its record", len(a))
	}
}

// renderOrderers renders the orderers created in evs and the events
// addressed to them: "new <id>" and "<id><-<SeqNr of a Hurry>".
func renderOrderers(evs []stdtypes.Event) []string {
	var out []string
	for _, ev := range evs {
		switch ev := ev.(type) {
		case *stdevents.NewSubmodule:
			out = append(out, "new "+string(ev.SubmoduleID))
		case *Hurry:
			out = append(out, fmt.Sprintf("%s<-%d", ev.Dest(), ev.SeqNr))
		}
	}
	return out
}

func TestRestartWithoutACheckpoint(t *testing.T) {
	h := newHarness(t, testParams())
	h.apply(stdevents.NewInit("iss"))
	h.apply(
		&EpochRecord{Header: stdtypes.NewHeader("iss"), Epoch: 0, First: 0, Leaders: fourVoters.IDs()},
		&OrdererRecord{Header: stdtypes.NewHeader("iss"), Epoch: 0, Segment: 3, Event: &Hurry{Header: stdtypes.NewHeader("ordering/0.3"), SeqNr: 7}},
	)
	out := h.apply(&RecoveryDone{Header: stdtypes.NewHeader("iss")})
	if len(ofType[*RestoreState](out)) != 0 || len(ofType[*wal.Append](out)) != 0 {
		t.Errorf("output %v", out)
	}
	if got := renderOrderers(out); !slices.Equal(got[3:], []string{"new ordering/0.3", "ordering/0.3<-7"}) {
		t.Errorf("orderers %v", got)
	}
}

func TestRestartWithOtherLeadersIsAnError(t *testing.T) {
	h := newHarness(t, testParams())
	h.apply(&EpochRecord{Header: stdtypes.NewHeader("iss"), Epoch: 0, First: 0, Leaders: ids("n0", "n1")})
	err := h.applyErr(&RecoveryDone{Header: stdtypes.NewHeader("iss")})
	if err == nil || !strings.Contains(err.Error(), "before the restart") {
		t.Errorf("error %v", err)
	}
}

func TestStableBeforeTheStartIsTakenAfterIt(t *testing.T) {
	h := newHarness(t, testParams())
	h.apply(stdevents.NewInit("iss"))
	h.apply(stable(checkpoint.State{Epoch: 3, SeqNr: 32, Voters: []membership.Voters{fourVoters, fourVoters}}))
	out := h.apply(&RecoveryDone{Header: stdtypes.NewHeader("iss")})
	ids, _ := created(out)
	if len(ids) != 8 || ids[4] != "ordering/4.0" {
		t.Errorf("orderers %v, want epoch 0's then epoch 4's", ids)
	}
}

// TestStableBeforeItsSnapshot: the checkpoint of an epoch can become
// stable through the other nodes' signatures before the application's
// snapshot of it comes; the snapshot then only decides the membership.
func TestStableBeforeItsSnapshot(t *testing.T) {
	p := testParams()
	p.RetainedEpochs = 0
	h, _ := started(t, p)
	h.deliverEpoch(0)
	st := checkpoint.State{Epoch: 0, SeqNr: 8, Voters: []membership.Voters{fourVoters, fourVoters}}
	out := h.apply(stable(st))
	if gcs := ofType[*stdevents.GarbageCollect](out); len(gcs) != 1 || gcs[0].RetentionIndex != 1 {
		t.Fatalf("garbage collection %+v", gcs)
	}
	five := membership.EqualVoters("n0", "n1", "n2", "n3", "n4")
	out = h.apply(snapshot(0, five))
	if len(ofType[*checkpoint.Start](out)) != 0 {
		t.Errorf("checkpoint of a stable epoch started again: %v", out)
	}
	if _, segs := created(h.deliverEpoch(1)); len(segs) != 5 {
		t.Errorf("epoch 2 has %d segments, want the 5 the snapshot decided", len(segs))
	}
}

func TestOnlyTheHighestStableBeforeTheStartCounts(t *testing.T) {
	h := newHarness(t, testParams())
	h.apply(stdevents.NewInit("iss"))
	two := []membership.Voters{fourVoters, fourVoters}
	h.apply(stable(checkpoint.State{Epoch: 3, SeqNr: 32, Voters: two}), stable(checkpoint.State{Epoch: 2, SeqNr: 24, Voters: two}))
	h.apply(&RecoveryDone{Header: stdtypes.NewHeader("iss")})
	if s := h.m.Stats(); s.StableEpoch != 3 || s.Epoch != 4 {
		t.Errorf("Stats %+v, want epoch 4 after the checkpoint of epoch 3", s)
	}
}

// TestStableOfTheEpochThatWaitsForItsSnapshot: with ConfigOffset 0 and no
// epoch retained, the checkpoint of the epoch that just ended can become
// stable before its snapshot, which the next epoch waits for: the ended
// epoch stays until then.
func TestStableOfTheEpochThatWaitsForItsSnapshot(t *testing.T) {
	p := testParams()
	p.ConfigOffset = 0
	p.RetainedEpochs = 0
	h, _ := started(t, p)
	h.deliverEpoch(0)
	h.apply(stable(checkpoint.State{Epoch: 0, SeqNr: 8, Voters: []membership.Voters{fourVoters}}))
	ids, segs := created(h.apply(snapshot(0, nil)))
	if len(ids) != 4 || segs[0].SeqNrs[0] != 8 {
		t.Fatalf("epoch 1 orderers %v", ids)
	}
	// Epoch 0 goes with the next stable checkpoint.
	h.deliverEpoch(1)
	h.apply(snapshot(1, nil))
	out := h.apply(stable(checkpoint.State{Epoch: 1, SeqNr: 16, Voters: []membership.Voters{fourVoters}}))
	if gcs := ofType[*stdevents.GarbageCollect](out); len(gcs) != 1 || gcs[0].RetentionIndex != 2 {
		t.Errorf("garbage collection %+v", gcs)
	}
}

// TestNonVoterCreatesNoOrderers: a node outside an epoch's membership
// creates no orderer for it (no voter sends it the epoch's messages); it
// waits for a state transfer.
func TestNonVoterCreatesNoOrderers(t *testing.T) {
	p := testParams()
	p.Voters = membership.EqualVoters("n1", "n2", "n3", "n4")
	_, out := started(t, p)
	if got := renderOrderers(out); len(got) != 0 {
		t.Errorf("a non-voter created orderers: %v", got)
	}
	if a := ofType[*wal.Append](out); len(a) != 1 {
		t.Errorf("%d appends; want the epoch's record", len(a))
	}
}

// TestDeliverNamesLeaderAndBuckets: each Deliver names the leader of its
// slot's segment and that leader's buckets, for an application that drops
// requests a leader proposed outside them.
func TestDeliverNamesLeaderAndBuckets(t *testing.T) {
	p := testParams()
	h, _ := started(t, p)
	ds := ofType[*Deliver](h.deliverEpoch(0))
	if len(ds) != 4*p.SegmentLength {
		t.Fatalf("%d deliveries", len(ds))
	}
	for _, d := range ds {
		i := int(d.SeqNr) % 4
		if d.Leader != fourVoters.IDs()[i] || !slices.Equal(d.Buckets, LeaderBuckets(p.NumBuckets, 0, 4, i)) {
			t.Errorf("slot %d: leader %s, buckets %v", d.SeqNr, d.Leader, d.Buckets)
		}
	}
}
