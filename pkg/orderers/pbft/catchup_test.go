package pbft_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/orderers/pbft"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdtypes"
)

// A node that missed a segment's messages catches up: DONEs with the same
// digests from a weak quorum tell it the outcome, it asks those nodes for
// the slots, checks each answer against the digests and delivers.
func TestCatchUp(t *testing.T) {
	h, _ := newHarness(t, "3", 4)
	v := []byte("v")
	done := &pbft.DoneMsg{Digests: [][]byte{digest(0, v), digest(4, nil), abortDigest(8)}}
	out := h.apply(received("1", done))
	if reqs, _ := sent[*pbft.CatchUpRequestMsg](out); len(reqs) != 0 {
		t.Fatal("catch-up on one DONE")
	}
	// A Byzantine DONE that differs does not make a weak quorum with it.
	out = h.apply(received("2", &pbft.DoneMsg{Digests: [][]byte{digest(0, []byte("w")), digest(4, nil), abortDigest(8)}}))
	if reqs, _ := sent[*pbft.CatchUpRequestMsg](out); len(reqs) != 0 {
		t.Fatal("catch-up on DONEs that disagree")
	}
	out = h.apply(received("0", done))
	reqs, to := sent[*pbft.CatchUpRequestMsg](out)
	if len(reqs) != 6 {
		t.Fatalf("requests %+v; want 3 slots from 2 nodes", reqs)
	}
	for _, dst := range to {
		if len(dst) != 1 || (dst[0] != "0" && dst[0] != "1") {
			t.Fatalf("request to %v; want to the nodes whose DONEs agree", dst)
		}
	}
	out = h.apply(received("0", &pbft.CatchUpResponseMsg{SeqNr: 0, Value: []byte("w")}))
	if len(of[*iss.SBDeliver](out)) != 0 || h.o.Stats().BadDigest != 1 {
		t.Fatalf("a wrong value delivered; stats %+v", h.o.Stats())
	}
	out = h.apply(
		received("1", &pbft.CatchUpResponseMsg{SeqNr: 0, Value: v}),
		received("0", &pbft.CatchUpResponseMsg{SeqNr: 0, Value: v}),
		received("0", &pbft.CatchUpResponseMsg{SeqNr: 4}),
		received("1", &pbft.CatchUpResponseMsg{SeqNr: 8, Aborted: true}),
	)
	d := of[*iss.SBDeliver](out)
	if len(d) != 3 || !bytes.Equal(d[0].Value, v) || d[1].Aborted || !d[2].Aborted {
		t.Fatalf("deliveries %+v", d)
	}
	if ds, to := sent[*pbft.DoneMsg](out); len(ds) != 1 || len(to[0]) != 3 {
		t.Fatalf("DONEs %+v to %v; want its own to the others", ds, to)
	}
	if st := h.o.Stats(); st.CaughtUp != 3 || st.Stale != 1 {
		t.Fatalf("stats %+v; want 3 caught up and a stale copy", st)
	}
	// Now done, it answers others' requests.
	out = h.apply(received("2", &pbft.DoneRequestMsg{}), received("2", &pbft.CatchUpRequestMsg{SeqNr: 0}))
	if ds, to := sent[*pbft.DoneMsg](out); len(ds) != 1 || !slices.Equal(to[0], []stdtypes.NodeID{"2"}) {
		t.Fatalf("DONEs %+v to %v; want one to 2", ds, to)
	}
	if rs, _ := sent[*pbft.CatchUpResponseMsg](out); len(rs) != 1 || !bytes.Equal(rs[0].Value, v) {
		t.Fatalf("responses %+v", rs)
	}
}

// A node that has the agreed value pre-prepared delivers it without
// asking.
func TestCatchUpFromOwnValue(t *testing.T) {
	h, _ := newHarness(t, "3", 4)
	v := []byte("v")
	out := h.apply(received("0", &pbft.PrePrepareMsg{SeqNr: 0, Value: v}))
	vp := of[*iss.VerifyProposal](out)[0]
	h.apply(&iss.ProposalVerified{Header: stdtypes.NewHeader(ord), Ref: vp.Ref})
	done := &pbft.DoneMsg{Digests: [][]byte{digest(0, v), digest(4, nil), abortDigest(8)}}
	out = h.apply(received("0", done), received("1", done))
	if d := of[*iss.SBDeliver](out); len(d) != 1 || d[0].SeqNr != 0 {
		t.Fatalf("deliveries %+v; want slot 0 at once", d)
	}
	if reqs, _ := sent[*pbft.CatchUpRequestMsg](out); len(reqs) != 4 {
		t.Fatalf("requests %+v; want slots 4 and 8 from 2 nodes", reqs)
	}
}

// A restarted follower resumes from its records: it sends again its
// PREPARE and COMMIT without persisting them again, asks for DONEs, and
// its VIEWCHANGE reports what it prepared before the crash.
func TestRestartFollower(t *testing.T) {
	cs := nodeCryptos(t, 4)
	v := []byte("v")
	h, _ := newHarness(t, "2", 4)
	out := h.apply(
		&pbft.PrePrepareRecord{Header: stdtypes.NewHeader(ord), View: 0, SeqNr: 0, Value: v},
		&pbft.PreparedRecord{Header: stdtypes.NewHeader(ord), View: 0, SeqNr: 0, Digest: digest(0, v)},
	)
	if len(of[*wal.Append](out)) != 0 {
		t.Fatal("restored records persisted again")
	}
	if ps, _ := sent[*pbft.PrepareMsg](out); len(ps) != 1 || !bytes.Equal(ps[0].Digest, digest(0, v)) {
		t.Fatalf("PREPAREs %+v", ps)
	}
	if cms, _ := sent[*pbft.CommitMsg](out); len(cms) != 1 {
		t.Fatalf("COMMITs %+v", cms)
	}
	if drs, _ := sent[*pbft.DoneRequestMsg](out); len(drs) != 1 {
		t.Fatalf("DONE requests %v; want one", drs)
	}
	// A contradicting record stops the node.
	if err := h.applyErr(&pbft.PrePrepareRecord{Header: stdtypes.NewHeader(ord), View: 0, SeqNr: 0, Value: []byte("w")}); err == nil {
		t.Fatal("contradicting record accepted")
	}
	h, _ = newHarness(t, "2", 4)
	h.apply(
		&pbft.PrePrepareRecord{Header: stdtypes.NewHeader(ord), View: 0, SeqNr: 0, Value: v},
		&pbft.PreparedRecord{Header: stdtypes.NewHeader(ord), View: 0, SeqNr: 0, Digest: digest(0, v)},
	)
	out = h.apply(&pbft.ViewRecord{Header: stdtypes.NewHeader(ord), View: 1})
	if len(of[*wal.Append](out)) != 0 {
		t.Fatal("restored view persisted again")
	}
	out = h.apply(answerCrypto(t, cs[2], out)...)
	vcs, _ := sent[*pbft.ViewChangeMsg](out)
	if len(vcs) != 1 || vcs[0].View != 1 || len(vcs[0].Prepared) != 1 || !bytes.Equal(vcs[0].Values[0], v) {
		t.Fatalf("VIEWCHANGEs %+v; want view 1 with slot 0 prepared", vcs)
	}
	// In view 1, view 0's messages are stale.
	h.apply(received("0", &pbft.CommitMsg{View: 0, SeqNr: 0, Digest: digest(0, v)}))
	if h.o.Stats().Stale != 1 {
		t.Fatalf("stats %+v", h.o.Stats())
	}
}

// A restarted leader sends its proposals again, cancels the request for
// slot 0 it made at Init, and asks for the next slot; it never proposes
// another value for a slot it proposed.
func TestRestartLeader(t *testing.T) {
	v := []byte("v")
	h, _ := newHarness(t, "0", 4)
	out := h.apply(&pbft.PrePrepareRecord{Header: stdtypes.NewHeader(ord), View: 0, SeqNr: 0, Value: v})
	pps, _ := sent[*pbft.PrePrepareMsg](out)
	if len(pps) != 1 || !bytes.Equal(pps[0].Value, v) {
		t.Fatalf("PREPREPAREs %+v; want v again", pps)
	}
	if c := of[*iss.CancelProposal](out); len(c) != 1 || c[0].SeqNr != 0 {
		t.Fatalf("CancelProposals %+v; want slot 0's", c)
	}
	if reqs := of[*iss.RequestProposal](out); len(reqs) != 1 || reqs[0].SeqNr != 4 {
		t.Fatalf("requests %+v; want slot 4", reqs)
	}
	out = h.apply(iss.NewProposal(ord, 0, []byte("other")))
	if pps, _ := sent[*pbft.PrePrepareMsg](out); len(pps) != 0 {
		t.Fatal("proposed a second value for slot 0")
	}
}

// A restarted leader of a view sends its NEWVIEW again; a follower its
// PREPAREs for it.
func TestRestartNewView(t *testing.T) {
	nv := pbft.NewViewMsg{View: 1, Slots: []pbft.NewViewSlot{{Aborted: true}, {Aborted: true}, {Aborted: true}}}
	for _, self := range []stdtypes.NodeID{"1", "2"} {
		h, _ := newHarness(t, self, 4)
		out := h.apply(
			&pbft.ViewRecord{Header: stdtypes.NewHeader(ord), View: 1},
			&pbft.NewViewRecord{Header: stdtypes.NewHeader(ord), NewView: nv},
		)
		nvs, _ := sent[*pbft.NewViewMsg](out)
		ps, _ := sent[*pbft.PrepareMsg](out)
		switch {
		case self == "1" && (len(nvs) != 1 || len(ps) != 0):
			t.Fatalf("leader: NEWVIEWs %v, PREPAREs %v", nvs, ps)
		case self == "2" && (len(nvs) != 0 || len(ps) != 3):
			t.Fatalf("follower: NEWVIEWs %v, PREPAREs %v", nvs, ps)
		}
		if v, changing := h.o.View(); v != 1 || changing {
			t.Fatalf("view %d, changing %v", v, changing)
		}
	}
}
