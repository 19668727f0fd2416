package pbft_test

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/orderers/pbft"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// 1. Propose: the view-0 leader asks the proposer for its first slot at
// Init, persists the value it gets, then sends the PREPREPARE to all, and
// asks for the next slot.
func TestLeaderProposes(t *testing.T) {
	h, out := newHarness(t, "0", 4)
	reqs := of[*iss.RequestProposal](out)
	if len(reqs) != 1 || reqs[0].SeqNr != 0 || reqs[0].ReplyTo != ord || !slices.Equal(reqs[0].Buckets, []int{1, 3}) || reqs[0].Dest() != mc.Proposer {
		t.Fatalf("Init: requests %+v; want one for slot 0 with the buckets", reqs)
	}
	if len(of[*stdevents.TimerDelay](out)) != 2 {
		t.Fatalf("Init: want the view-change and the propose timers, got %v", out)
	}

	top := h.applyTop(iss.NewProposal(ord, 0, []byte("v0")))
	if msgs, _ := sent[*pbft.PrePrepareMsg](top); len(msgs) != 0 {
		t.Fatal("PREPREPARE sent before it is persisted")
	}
	out = flatten(top)
	recs := records[*pbft.PrePrepareRecord](t, out)
	if len(recs) != 1 || recs[0].SeqNr != 0 || string(recs[0].Value) != "v0" || recs[0].Dest() != ord {
		t.Fatalf("records %+v; want the proposal of slot 0", recs)
	}
	pps, to := sent[*pbft.PrePrepareMsg](out)
	if len(pps) != 1 || string(pps[0].Value) != "v0" || len(to[0]) != 4 {
		t.Fatalf("PREPREPAREs %+v to %v; want v0 to all 4", pps, to)
	}
	if p := of[*iss.Proposed](out); len(p) != 1 || p[0].SeqNr != 0 || p[0].Dest() != mc.ISS {
		t.Fatalf("Proposed %+v; want slot 0 to ISS", p)
	}
	if reqs := of[*iss.RequestProposal](out); len(reqs) != 1 || reqs[0].SeqNr != 4 {
		t.Fatalf("after slot 0, requests %+v; want slot 4 (pipelined)", reqs)
	}
}

// A leader that gets no value within MaxProposeDelay proposes an empty
// one (and tells ISS nothing); a value that comes later is not proposed.
func TestLeaderProposesEmptyAfterDelay(t *testing.T) {
	h, _ := newHarness(t, "0", 4)
	out := h.apply(&pbft.ProposeTimeout{Header: stdtypes.NewHeader(ord), SeqNr: 0})
	pps, _ := sent[*pbft.PrePrepareMsg](out)
	if len(pps) != 1 || len(pps[0].Value) != 0 || pps[0].SeqNr != 0 {
		t.Fatalf("PREPREPAREs %+v; want an empty one for slot 0", pps)
	}
	if len(of[*iss.Proposed](out)) != 0 {
		t.Fatal("Proposed for an empty value")
	}
	out = h.apply(iss.NewProposal(ord, 0, []byte("late")))
	if pps, _ := sent[*pbft.PrePrepareMsg](out); len(pps) != 0 {
		t.Fatalf("a late value proposed: %+v", pps)
	}
	if h.o.Stats().LateProposals != 1 {
		t.Fatalf("stats %+v; want a late proposal", h.o.Stats())
	}
	// A timeout for a slot proposed already does nothing.
	if out := h.apply(&pbft.ProposeTimeout{Header: stdtypes.NewHeader(ord), SeqNr: 0}); len(out) != 0 {
		t.Fatalf("stale timeout: %v", out)
	}
}

// Hurry proposes every slot below its SeqNr at once, empty.
func TestHurry(t *testing.T) {
	h, _ := newHarness(t, "0", 4)
	out := h.apply(&iss.Hurry{Header: stdtypes.NewHeader(ord), SeqNr: 5})
	pps, _ := sent[*pbft.PrePrepareMsg](out)
	if len(pps) != 2 || pps[0].SeqNr != 0 || pps[1].SeqNr != 4 {
		t.Fatalf("PREPREPAREs %+v; want slots 0 and 4", pps)
	}
	if reqs := of[*iss.RequestProposal](out); len(reqs) != 1 || reqs[0].SeqNr != 8 {
		t.Fatalf("requests %+v; want slot 8", reqs)
	}
}

// A value the proposer says is pending (iss.ProposalPending) is waited
// for: neither MaxProposeDelay from the request nor a Hurry proposes its
// slot empty (the slots after it below the Hurry are), but MaxProposeDelay
// from the ProposalPending does. It is said once per slot: a second one,
// or one for a slot not asked for, gives no more time.
func TestProposalPending(t *testing.T) {
	pending := func(sn stdtypes.SeqNr) *iss.ProposalPending {
		return &iss.ProposalPending{Header: stdtypes.NewHeader(ord), SeqNr: sn}
	}
	timeout := func(sn stdtypes.SeqNr, extended bool) *pbft.ProposeTimeout {
		return &pbft.ProposeTimeout{Header: stdtypes.NewHeader(ord), SeqNr: sn, Extended: extended}
	}

	h, _ := newHarness(t, "0", 4)
	out := h.apply(pending(0))
	if ts := of[*stdevents.TimerDelay](out); len(ts) != 1 || ts[0].Delay != pbft.DefaultModuleParams().MaxProposeDelay {
		t.Fatalf("ProposalPending: timers %v; want one of MaxProposeDelay", out)
	} else if pt, ok := ts[0].Events[0].(*pbft.ProposeTimeout); !ok || pt.SeqNr != 0 || !pt.Extended {
		t.Fatalf("ProposalPending: timer of %v; want an extended ProposeTimeout of slot 0", ts[0].Events)
	}
	if out := h.apply(pending(0)); len(out) != 0 {
		t.Fatalf("a second ProposalPending: %v", out)
	}
	if out := h.apply(pending(4)); len(out) != 0 {
		t.Fatalf("ProposalPending of a slot not asked for: %v", out)
	}
	if out := h.apply(timeout(0, false)); len(out) != 0 {
		t.Fatalf("the request's timeout proposed a pending slot: %v", out)
	}
	out = h.apply(&iss.Hurry{Header: stdtypes.NewHeader(ord), SeqNr: 5})
	if pps, _ := sent[*pbft.PrePrepareMsg](out); len(pps) != 1 || pps[0].SeqNr != 4 {
		t.Fatalf("Hurry(5): PREPREPAREs %+v; want slot 4 only (slot 0 is pending)", pps)
	}
	if c := of[*iss.CancelProposal](out); len(c) != 0 {
		t.Fatalf("Hurry(5) cancelled the pending slot: %+v", c)
	}
	if reqs := of[*iss.RequestProposal](out); len(reqs) != 0 {
		t.Fatalf("Hurry(5) asked for another slot while slot 0 is asked for: %+v", reqs)
	}
	out = flatten(h.applyTop(iss.NewProposal(ord, 0, []byte("v0"))))
	if pps, _ := sent[*pbft.PrePrepareMsg](out); len(pps) != 1 || pps[0].SeqNr != 0 || string(pps[0].Value) != "v0" {
		t.Fatalf("the pending value: PREPREPAREs %+v; want v0 for slot 0", pps)
	}
	if reqs := of[*iss.RequestProposal](out); len(reqs) != 1 || reqs[0].SeqNr != 8 {
		t.Fatalf("after slot 0: requests %+v; want slot 8", reqs)
	}
	if out := h.apply(timeout(0, true)); len(out) != 0 {
		t.Fatalf("the extended timeout of a slot proposed: %v", out)
	}

	// A pending value that does not come in time: the slot goes empty.
	h, _ = newHarness(t, "0", 4)
	h.apply(pending(0))
	h.apply(timeout(0, false))
	out = h.apply(timeout(0, true))
	if pps, _ := sent[*pbft.PrePrepareMsg](out); len(pps) != 1 || pps[0].SeqNr != 0 || len(pps[0].Value) != 0 {
		t.Fatalf("extended timeout: PREPREPAREs %+v; want an empty one for slot 0", pps)
	}
	if c := of[*iss.CancelProposal](out); len(c) != 1 || c[0].SeqNr != 0 {
		t.Fatalf("extended timeout: CancelProposals %+v; want slot 0", c)
	}
}

// ISS hears of an empty value only for the segment's last slot, after
// which the leader has no slot left in the epoch: at the leader, and at a
// follower that accepts the PREPREPARE.
func TestProposedForTheLastSlot(t *testing.T) {
	h, _ := newHarness(t, "0", 4)
	var told []stdtypes.SeqNr
	for _, sn := range sns {
		for _, p := range of[*iss.Proposed](h.apply(&pbft.ProposeTimeout{Header: stdtypes.NewHeader(ord), SeqNr: sn})) {
			told = append(told, p.SeqNr)
		}
	}
	if !slices.Equal(told, []stdtypes.SeqNr{8}) {
		t.Errorf("leader: Proposed for slots %v of empty values; want the last slot, 8", told)
	}
	f, _ := newHarness(t, "1", 4)
	told = nil
	for _, sn := range sns {
		for _, p := range of[*iss.Proposed](f.apply(received("0", &pbft.PrePrepareMsg{View: 0, SeqNr: sn}))) {
			told = append(told, p.SeqNr)
		}
	}
	if !slices.Equal(told, []stdtypes.SeqNr{8}) {
		t.Errorf("follower: Proposed for slots %v of empty values; want the last slot, 8", told)
	}
}

// A slot the leader asked a value for and proposes without one (after
// MaxProposeDelay, or on a Hurry) is cancelled at the proposer, once;
// slots never asked for are not.
func TestCancelProposal(t *testing.T) {
	h, _ := newHarness(t, "0", 4)
	out := h.apply(&pbft.ProposeTimeout{Header: stdtypes.NewHeader(ord), SeqNr: 0})
	if c := of[*iss.CancelProposal](out); len(c) != 1 || c[0].SeqNr != 0 || c[0].Dest() != mc.Proposer {
		t.Fatalf("after the timeout of slot 0: CancelProposals %+v; want slot 0 to the proposer", c)
	}
	// Slot 4 is asked for now; a Hurry below 5 proposes it.
	out = h.apply(&iss.Hurry{Header: stdtypes.NewHeader(ord), SeqNr: 5})
	if c := of[*iss.CancelProposal](out); len(c) != 1 || c[0].SeqNr != 4 {
		t.Fatalf("after Hurry(5): CancelProposals %+v; want slot 4", c)
	}
	if reqs := of[*iss.RequestProposal](out); len(reqs) != 1 || reqs[0].SeqNr != 8 {
		t.Fatalf("requests %+v; want slot 8", reqs)
	}
	// The answer for slot 4 crossed the CancelProposal: dropped.
	out = h.apply(iss.NewProposal(ord, 4, []byte("late")))
	if pps, _ := sent[*pbft.PrePrepareMsg](out); len(pps) != 0 || len(of[*iss.CancelProposal](out)) != 0 {
		t.Fatalf("late answer: output %v", out)
	}
	// Slot 8 gets its value: nothing is cancelled, not even by its timeout.
	out = h.apply(iss.NewProposal(ord, 8, []byte("v")), &pbft.ProposeTimeout{Header: stdtypes.NewHeader(ord), SeqNr: 8},
		&iss.Hurry{Header: stdtypes.NewHeader(ord), SeqNr: 9})
	if c := of[*iss.CancelProposal](out); len(c) != 0 {
		t.Fatalf("CancelProposals %+v for a slot proposed with the proposer's value", c)
	}
}

// Local misuse is an error naming the event.
func TestLocalMisuse(t *testing.T) {
	h, _ := newHarness(t, "0", 4)
	for _, tc := range []struct {
		ev   stdtypes.Event
		want string
	}{
		{iss.NewProposal(ord, 3, nil), "iss.Proposal"},
		{iss.NewProposal(ord, 4, nil), "not requested"},
		{iss.NewProposal(ord, 0, make([]byte, 2<<10)), "MaxValueBytes"},
		{&iss.ProposalVerified{Header: stdtypes.NewHeader(ord), Ref: 99}, "Ref"},
		{&pbft.PreparedRecord{Header: stdtypes.NewHeader(ord), SeqNr: 1}, "PreparedRecord"},
	} {
		if err := h.applyErr(tc.ev); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%T: error %v; want one with %q", tc.ev, err, tc.want)
		}
	}
	f, _ := newHarness(t, "1", 4)
	if err := f.applyErr(&iss.Hurry{Header: stdtypes.NewHeader(ord), SeqNr: 5}); err == nil {
		t.Error("Hurry to a node that does not lead the segment: no error")
	}
}

// prepared drives follower self to the prepared state of slot 0 with
// value v: the leader's PREPREPARE, the validator's yes, PREPAREs of self
// and node 2. It returns the output of the last step.
func prepared(t *testing.T, h *harness, v []byte) []stdtypes.Event {
	t.Helper()
	out := h.apply(received("0", &pbft.PrePrepareMsg{View: 0, SeqNr: 0, Value: v}))
	vps := of[*iss.VerifyProposal](out)
	if len(vps) != 1 || vps[0].Leader != "0" || !bytes.Equal(vps[0].Value, v) || vps[0].Dest() != mc.Validator {
		t.Fatalf("VerifyProposals %+v; want one of the value", vps)
	}
	if !slices.Equal(vps[0].Voters, h.seg.Voters) || !slices.Equal(vps[0].Buckets, h.seg.Buckets) {
		t.Fatalf("VerifyProposal with voters %v and buckets %v; want the segment's", vps[0].Voters, vps[0].Buckets)
	}
	top := h.applyTop(&iss.ProposalVerified{Header: stdtypes.NewHeader(ord), Ref: vps[0].Ref})
	if msgs, _ := sent[*pbft.PrepareMsg](top); len(msgs) != 0 {
		t.Fatal("PREPARE sent before the PREPREPARE is persisted")
	}
	out = flatten(top)
	if recs := records[*pbft.PrePrepareRecord](t, out); len(recs) != 1 || !bytes.Equal(recs[0].Value, v) {
		t.Fatalf("records %+v", recs)
	}
	if ps, _ := sent[*pbft.PrepareMsg](out); len(ps) != 1 || !bytes.Equal(ps[0].Digest, digest(0, v)) {
		t.Fatalf("PREPAREs %+v; want one with the value's digest", ps)
	}
	if p := of[*iss.Proposed](out); len(p) != 1 {
		t.Fatalf("Proposed %v; want one", p)
	}
	// The leader's PREPREPARE and this node's own PREPARE are not enough.
	out = h.apply(received(h.self, &pbft.PrepareMsg{View: 0, SeqNr: 0, Digest: digest(0, v)}))
	if cs, _ := sent[*pbft.CommitMsg](out); len(cs) != 0 {
		t.Fatal("COMMIT without a strong quorum")
	}
	other := stdtypes.NodeID("2")
	if h.self == "2" {
		other = "3"
	}
	return h.apply(received(other, &pbft.PrepareMsg{View: 0, SeqNr: 0, Digest: digest(0, v)}))
}

// 2.–4. A follower pre-prepares what the validator accepts, prepares with
// a strong quorum (the leader's PREPREPARE counting as its PREPARE),
// commits with a strong quorum of COMMITs and delivers once.
func TestFollowerNormalCase(t *testing.T) {
	h, out := newHarness(t, "1", 4)
	if len(of[*iss.RequestProposal](out)) != 0 {
		t.Fatal("a follower asked for a proposal")
	}
	v := []byte("value")
	out = prepared(t, h, v)
	if recs := records[*pbft.PreparedRecord](t, out); len(recs) != 1 || !bytes.Equal(recs[0].Digest, digest(0, v)) {
		t.Fatalf("prepared records %+v", recs)
	}
	cs, _ := sent[*pbft.CommitMsg](out)
	if len(cs) != 1 {
		t.Fatalf("COMMITs %+v; want one", cs)
	}
	commit := &pbft.CommitMsg{View: 0, SeqNr: 0, Digest: digest(0, v)}
	out = h.apply(received("0", commit), received("1", commit))
	if len(of[*iss.SBDeliver](out)) != 0 {
		t.Fatal("delivered without a strong quorum of COMMITs")
	}
	out = h.apply(received("3", commit))
	d := of[*iss.SBDeliver](out)
	if len(d) != 1 || d[0].SeqNr != 0 || !bytes.Equal(d[0].Value, v) || d[0].Aborted || d[0].Dest() != mc.ISS {
		t.Fatalf("deliveries %+v; want v in slot 0", d)
	}
	out = h.apply(received("2", commit))
	if len(of[*iss.SBDeliver](out)) != 0 {
		t.Fatal("delivered twice")
	}
	if st := h.o.Stats(); st.Delivered != 1 || st.Dropped() != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// A whole segment: every slot delivered, then DONE to the others.
func TestDoneAfterLastSlot(t *testing.T) {
	h, _ := newHarness(t, "1", 4)
	var out []stdtypes.Event
	for _, sn := range sns {
		d := digest(sn, nil)
		evs := []stdtypes.Event{received("0", &pbft.PrePrepareMsg{SeqNr: sn})}
		for _, from := range []stdtypes.NodeID{"1", "2"} {
			evs = append(evs, received(from, &pbft.PrepareMsg{SeqNr: sn, Digest: d}))
		}
		for _, from := range []stdtypes.NodeID{"0", "1", "2"} {
			evs = append(evs, received(from, &pbft.CommitMsg{SeqNr: sn, Digest: d}))
		}
		out = append(out, h.apply(evs...)...)
	}
	if d := of[*iss.SBDeliver](out); len(d) != 3 {
		t.Fatalf("%d deliveries; want 3", len(d))
	}
	dones, to := sent[*pbft.DoneMsg](out)
	if len(dones) != 1 || len(dones[0].Digests) != 3 || slices.Contains(to[0], "1") {
		t.Fatalf("DONEs %+v to %v; want one to the others", dones, to)
	}
}

// A value the validator refuses is not pre-prepared.
func TestInvalidValue(t *testing.T) {
	h, _ := newHarness(t, "1", 4)
	out := h.apply(received("0", &pbft.PrePrepareMsg{SeqNr: 0, Value: []byte("bad")}))
	vp := of[*iss.VerifyProposal](out)[0]
	out = h.apply(&iss.ProposalVerified{Header: stdtypes.NewHeader(ord), Ref: vp.Ref, Err: "no"})
	if ps, _ := sent[*pbft.PrepareMsg](out); len(ps) != 0 || h.o.Stats().InvalidValue != 1 {
		t.Fatalf("PREPAREs %v, stats %+v", ps, h.o.Stats())
	}
	// The leader's second try for the slot is an equivocation, dropped.
	// The leader's second try for the slot is an equivocation, dropped:
	// a leader gets one value checked per slot and view.
	out = h.apply(received("0", &pbft.PrePrepareMsg{SeqNr: 0, Value: []byte("other")}))
	if len(out) != 0 || h.o.Stats().Equivocation != 1 {
		t.Fatalf("output %v, stats %+v", out, h.o.Stats())
	}
}

// stray is a message the orderer does not handle.
type stray struct{ stdtypes.MessageBase }

// Every message from the network is validated; an invalid one is
// dropped and counted by reason, and changes nothing.
func TestValidation(t *testing.T) {
	d0 := digest(0, []byte("v"))
	for _, tc := range []struct {
		name string
		from stdtypes.NodeID
		msg  stdtypes.Message
		want func(pbft.Stats) uint64
	}{
		{"stranger", "9", &pbft.PrepareMsg{SeqNr: 0, Digest: d0}, func(s pbft.Stats) uint64 { return s.UnknownSender }},
		{"slot outside the segment", "2", &pbft.PrepareMsg{SeqNr: 1, Digest: d0}, func(s pbft.Stats) uint64 { return s.BadSlot }},
		{"short digest", "2", &pbft.CommitMsg{SeqNr: 0, Digest: d0[:5]}, func(s pbft.Stats) uint64 { return s.Malformed }},
		{"oversize value", "0", &pbft.PrePrepareMsg{SeqNr: 0, Value: make([]byte, 2<<10)}, func(s pbft.Stats) uint64 { return s.Oversize }},
		{"PREPREPARE from another than the leader", "2", &pbft.PrePrepareMsg{SeqNr: 0}, func(s pbft.Stats) uint64 { return s.NotLeader }},
		{"PREPARE from the leader", "0", &pbft.PrepareMsg{SeqNr: 0, Digest: d0}, func(s pbft.Stats) uint64 { return s.Malformed }},
		{"⊥ in view 0", "0", &pbft.PrePrepareMsg{SeqNr: 0, Aborted: true}, func(s pbft.Stats) uint64 { return s.Malformed }},
		{"DONE of the wrong length", "2", &pbft.DoneMsg{Digests: [][]byte{d0}}, func(s pbft.Stats) uint64 { return s.Malformed }},
		{"catch-up before DONEs", "2", &pbft.CatchUpResponseMsg{SeqNr: 0}, func(s pbft.Stats) uint64 { return s.NotReady }},
		{"catch-up request for an undelivered slot", "2", &pbft.CatchUpRequestMsg{SeqNr: 0}, func(s pbft.Stats) uint64 { return s.NotReady }},
		{"DONE request before done", "2", &pbft.DoneRequestMsg{}, func(s pbft.Stats) uint64 { return s.NotReady }},
		{"NEWVIEW from another than the leader", "2", &pbft.NewViewMsg{View: 1}, func(s pbft.Stats) uint64 { return s.NotLeader }},
		{"NEWVIEW without proof", "1", &pbft.NewViewMsg{View: 1, Slots: make([]pbft.NewViewSlot, 3)}, func(s pbft.Stats) uint64 { return s.BadNewView }},
		{"VIEWCHANGE with a slot twice", "2", &pbft.ViewChangeMsg{View: 1, Prepared: []pbft.Cert{{SeqNr: 0, Digest: d0}, {SeqNr: 0, Digest: d0}}, Values: [][]byte{[]byte("v"), []byte("v")}}, func(s pbft.Stats) uint64 { return s.Malformed }},
		{"VIEWCHANGE with a value that does not match", "2", &pbft.ViewChangeMsg{View: 1, Prepared: []pbft.Cert{{SeqNr: 0, Digest: d0}}, Values: [][]byte{[]byte("w")}}, func(s pbft.Stats) uint64 { return s.Malformed }},
		{"VIEWCHANGE with a prepared entry of its own view", "2", &pbft.ViewChangeMsg{View: 1, Prepared: []pbft.Cert{{SeqNr: 0, View: 1, Digest: d0}}, Values: [][]byte{[]byte("v")}}, func(s pbft.Stats) uint64 { return s.Malformed }},
		{"unknown message", "2", &stray{}, func(s pbft.Stats) uint64 { return s.UnknownMessages }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, _ := newHarness(t, "3", 4)
			out := h.apply(received(tc.from, tc.msg))
			if len(out) != 0 {
				t.Errorf("output %v for an invalid message", out)
			}
			if st := h.o.Stats(); tc.want(st) != 1 || st.Dropped() != 1 {
				t.Errorf("stats %+v; want one drop of the reason", st)
			}
		})
	}
}

// Equivocation: a second PREPARE with another digest, a second
// PREPREPARE with another value, are dropped; the first counts.
func TestEquivocation(t *testing.T) {
	h, _ := newHarness(t, "1", 4)
	h.apply(received("0", &pbft.PrePrepareMsg{SeqNr: 0}))
	h.apply(received("0", &pbft.PrePrepareMsg{SeqNr: 0, Value: []byte("x")}))
	h.apply(received("2", &pbft.PrepareMsg{SeqNr: 0, Digest: digest(0, nil)}))
	h.apply(received("2", &pbft.PrepareMsg{SeqNr: 0, Digest: digest(0, []byte("x"))}))
	h.apply(received("2", &pbft.PrepareMsg{SeqNr: 0, Digest: digest(0, nil)}))
	if st := h.o.Stats(); st.Equivocation != 2 || st.Duplicate != 1 {
		t.Fatalf("stats %+v; want 2 equivocations and a duplicate", st)
	}
}

// Messages of a later view wait in the buffer, bounded per sender, and
// are handled once the node gets there; those of a view it left are
// dropped.
func TestFutureViewBuffered(t *testing.T) {
	h, _ := newHarness(t, "1", 4)
	for i := range 20 {
		h.apply(received("2", &pbft.CommitMsg{View: 2, SeqNr: sns[i%3], Digest: digest(0, nil)}))
	}
	st := h.o.Stats()
	if st.Buffered != 20 {
		t.Fatalf("stats %+v; want 20 buffered", st)
	}
	_ = membership.EqualVoters
	_ = reliablenet.MsgID("")
	_ = wal.Append{}
}
