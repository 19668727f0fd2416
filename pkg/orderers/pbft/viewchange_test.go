package pbft_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/orderers/pbft"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// timeout is the view-change timer's reminder with the given progress.
func timeout(progress uint64) stdtypes.Event {
	return &pbft.ViewChangeTimeout{Header: stdtypes.NewHeader(ord), Progress: progress}
}

// changeView fires h's view-change timer (progress as given), signs the
// VIEWCHANGE and returns it, as sent, and the output.
func changeView(t *testing.T, h *harness, cs []*crypto.NodeCrypto, progress uint64) (*pbft.ViewChangeMsg, []stdtypes.Event) {
	t.Helper()
	top := h.applyTop(timeout(progress))
	for _, ev := range top {
		if _, ok := ev.(*crypto.SignRequest); ok {
			t.Fatal("VIEWCHANGE signed before the view is persisted")
		}
	}
	out := flatten(top)
	if recs := records[*pbft.ViewRecord](t, out); len(recs) != 1 {
		t.Fatalf("view records %+v; want one", recs)
	}
	out = append(out, h.apply(answerCrypto(t, cs[idx(h.self)], out)...)...)
	vcs, to := sent[*pbft.ViewChangeMsg](out)
	if len(vcs) != 1 || len(to[0]) != 4 {
		t.Fatalf("VIEWCHANGEs %+v; want one to all", vcs)
	}
	return vcs[0], out
}

func idx(id stdtypes.NodeID) int { return int(id[0] - '0') }

// verified hands h a message and the crypto module's answers to what it
// asks for it.
func verified(t *testing.T, h *harness, cs []*crypto.NodeCrypto, evs ...stdtypes.Event) []stdtypes.Event {
	t.Helper()
	out := h.apply(evs...)
	return append(out, h.apply(answerCrypto(t, cs[idx(h.self)], out)...)...)
}

// The view-change timeout: a node without progress moves to the next
// view, persists it, signs its VIEWCHANGE and sends it, asks for DONEs,
// and waits twice as long for the next view.
func TestViewChangeTimeout(t *testing.T) {
	cs := nodeCryptos(t, 4)
	h, out := newHarness(t, "2", 4)
	if d := of[*stdevents.TimerDelay](out); len(d) != 1 || d[0].Delay != 300*time.Millisecond {
		t.Fatalf("timers %+v; want the view-change timeout", d)
	}
	// A stale reminder does nothing.
	if out := h.apply(timeout(7)); len(out) != 0 {
		t.Fatalf("stale timeout: %v", out)
	}
	vc, out := changeView(t, h, cs, 0)
	if vc.View != 1 || len(vc.Prepared) != 0 {
		t.Fatalf("VIEWCHANGE %+v", vc)
	}
	if err := cs[0].Verify(pbft.ViewChangeDigest(0, 0, 1, vc.Prepared, vc.PrePrepared), vc.Signature, "2"); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if drs, _ := sent[*pbft.DoneRequestMsg](out); len(drs) != 1 {
		t.Fatalf("DONE requests %v; want one", drs)
	}
	if d := of[*stdevents.TimerDelay](out); len(d) != 0 {
		t.Fatalf("timers %+v before VIEWCHANGEs from a strong quorum", d)
	}
	if v, changing := h.o.View(); v != 1 || !changing {
		t.Fatalf("view %d, changing %v", v, changing)
	}
	// The next view's timer starts with VIEWCHANGEs from a strong quorum,
	// and doubles per failed view, up to the cap.
	var want time.Duration = 300 * time.Millisecond
	for view := uint64(1); view < 10; view++ {
		out := h.apply(received("2", vc))
		out = append(out, verified(t, h, cs, received("1", signedVC(t, cs, 1, view, nil, nil, nil)))...)
		if d := of[*stdevents.TimerDelay](out); len(d) != 0 {
			t.Fatalf("view %d: timers %+v with VIEWCHANGEs of 2 nodes", view, d)
		}
		out = verified(t, h, cs, received("3", signedVC(t, cs, 3, view, nil, nil, nil)))
		want = min(2*want, 10*time.Second)
		d := of[*stdevents.TimerDelay](out)
		if len(d) != 1 || d[0].Delay != want {
			t.Fatalf("view %d: timers %+v; want %v", view, d, want)
		}
		out = h.apply(d[0].Events...)
		vcs, _ := sent[*pbft.ViewChangeMsg](append(out, h.apply(answerCrypto(t, cs[2], out)...)...))
		if len(vcs) != 1 || vcs[0].View != view+1 {
			t.Fatalf("view %d: VIEWCHANGEs %+v; want one for the next view", view, vcs)
		}
		vc = vcs[0]
	}
	if want != 10*time.Second {
		t.Fatalf("last timeout %v; want the 10 s cap", want)
	}
}

// The leader of view 1 collects VIEWCHANGEs of a strong quorum; none
// prepared anything, so every slot is ⊥: it persists and sends its
// NEWVIEW, and the slots are delivered as aborted.
func TestNewViewAborts(t *testing.T) {
	cs := nodeCryptos(t, 4)
	h, _ := newHarness(t, "1", 4)
	own, _ := changeView(t, h, cs, 0)
	h.apply(received("1", own))
	out := verified(t, h, cs, received("2", signedVC(t, cs, 2, 1, nil, nil, nil)))
	if nvs, _ := sent[*pbft.NewViewMsg](out); len(nvs) != 0 {
		t.Fatal("NEWVIEW without a strong quorum")
	}
	out = verified(t, h, cs, received("3", signedVC(t, cs, 3, 1, nil, nil, nil)))
	if recs := records[*pbft.NewViewRecord](t, out); len(recs) != 1 {
		t.Fatalf("NEWVIEW records %v; want one", recs)
	}
	nvs, _ := sent[*pbft.NewViewMsg](out)
	if len(nvs) != 1 || len(nvs[0].ViewChanges) != 3 || len(nvs[0].Slots) != 3 {
		t.Fatalf("NEWVIEWs %+v", nvs)
	}
	for _, s := range nvs[0].Slots {
		if !s.Aborted {
			t.Fatalf("slot %+v; want ⊥", s)
		}
	}
	out = h.apply(received("1", nvs[0]))
	if ps, _ := sent[*pbft.PrepareMsg](out); len(ps) != 0 {
		t.Fatal("the leader sent PREPAREs")
	}
	if v, changing := h.o.View(); v != 1 || changing {
		t.Fatalf("view %d, changing %v", v, changing)
	}
	var evs []stdtypes.Event
	for _, sn := range sns {
		for _, from := range []stdtypes.NodeID{"2", "3"} {
			evs = append(evs, received(from, &pbft.PrepareMsg{View: 1, SeqNr: sn, Digest: abortDigest(sn)}))
		}
		for _, from := range []stdtypes.NodeID{"1", "2", "3"} {
			evs = append(evs, received(from, &pbft.CommitMsg{View: 1, SeqNr: sn, Digest: abortDigest(sn)}))
		}
	}
	out = h.apply(evs...)
	d := of[*iss.SBDeliver](out)
	if len(d) != 3 {
		t.Fatalf("%d deliveries; want 3", len(d))
	}
	for _, x := range d {
		if !x.Aborted {
			t.Fatalf("delivery %+v; want ⊥", x)
		}
	}
}

// A value prepared before the view change is proposed again: the NEWVIEW
// must carry it, and a NEWVIEW that carries ⊥ in its place is refused.
func TestNewViewKeepsPrepared(t *testing.T) {
	cs := nodeCryptos(t, 4)
	v := []byte("value")
	d := digest(0, v)
	h, _ := newHarness(t, "2", 4)
	prepared(t, h, v)
	own, _ := changeView(t, h, cs, 0)
	if len(own.Prepared) != 1 || !bytes.Equal(own.Prepared[0].Digest, d) || !bytes.Equal(own.Values[0], v) {
		t.Fatalf("VIEWCHANGE %+v; want slot 0 prepared", own)
	}
	q := []pbft.Cert{{SeqNr: 0, View: 0, Digest: d}}
	vc1 := signedVC(t, cs, 1, 1, nil, q, nil)
	vc3 := signedVC(t, cs, 3, 1, nil, nil, nil)
	proof := []pbft.SignedViewChange{
		{From: "1", PrePrepared: q, Signature: vc1.Signature},
		{From: "2", Prepared: own.Prepared, PrePrepared: own.PrePrepared, Signature: own.Signature},
		{From: "3", Signature: vc3.Signature},
	}
	forged := &pbft.NewViewMsg{View: 1, ViewChanges: proof, Slots: []pbft.NewViewSlot{{Aborted: true}, {Aborted: true}, {Aborted: true}}}
	out := h.apply(received("1", forged))
	if len(out) != 0 || h.o.Stats().BadNewView != 1 {
		t.Fatalf("forged NEWVIEW: output %v, stats %+v", out, h.o.Stats())
	}
	// Weight too small: the proof without node 3.
	short := &pbft.NewViewMsg{View: 1, ViewChanges: proof[:2], Slots: []pbft.NewViewSlot{{Value: v}, {Aborted: true}, {Aborted: true}}}
	h.apply(received("1", short))
	if h.o.Stats().BadNewView != 2 {
		t.Fatalf("NEWVIEW without a strong quorum accepted: %+v", h.o.Stats())
	}
	// A bad signature.
	bad := &pbft.NewViewMsg{View: 1, ViewChanges: append([]pbft.SignedViewChange(nil), proof...), Slots: short.Slots}
	bad.ViewChanges[2].Signature = vc1.Signature
	verified(t, h, cs, received("1", bad))
	if h.o.Stats().BadSignature != 1 {
		t.Fatalf("NEWVIEW with a bad signature: %+v", h.o.Stats())
	}
	good := &pbft.NewViewMsg{View: 1, ViewChanges: proof, Slots: short.Slots}
	top := h.applyTop(received("1", good))
	top = h.applyTop(answerCrypto(t, cs[2], top)...)
	if ps, _ := sent[*pbft.PrepareMsg](top); len(ps) != 0 {
		t.Fatal("PREPAREs sent before the NEWVIEW is persisted")
	}
	out = flatten(top)
	if recs := records[*pbft.NewViewRecord](t, out); len(recs) != 1 {
		t.Fatalf("NEWVIEW records %v", recs)
	}
	ps, _ := sent[*pbft.PrepareMsg](out)
	if len(ps) != 3 || !bytes.Equal(ps[0].Digest, d) || ps[0].View != 1 || !bytes.Equal(ps[1].Digest, abortDigest(4)) {
		t.Fatalf("PREPAREs %+v; want v for slot 0 and ⊥ for the others, in view 1", ps)
	}
}

// A node joins the highest view a weak quorum's VIEWCHANGEs reached.
func TestJoinHigherView(t *testing.T) {
	cs := nodeCryptos(t, 4)
	h, _ := newHarness(t, "3", 4)
	out := verified(t, h, cs, received("1", signedVC(t, cs, 1, 2, nil, nil, nil)))
	if len(records[*pbft.ViewRecord](t, out)) != 0 {
		t.Fatal("joined a view on one VIEWCHANGE")
	}
	out = verified(t, h, cs, received("2", signedVC(t, cs, 2, 3, nil, nil, nil)))
	recs := records[*pbft.ViewRecord](t, out)
	if len(recs) != 1 || recs[0].View != 2 {
		t.Fatalf("view records %+v; want view 2", recs)
	}
	// A forged signature counts for nothing.
	h2, _ := newHarness(t, "3", 4)
	bad := signedVC(t, cs, 1, 2, nil, nil, nil)
	verified(t, h2, cs, received("2", bad))
	verified(t, h2, cs, received("1", bad))
	if v, _ := h2.o.View(); v != 0 || h2.o.Stats().BadSignature != 1 {
		t.Fatalf("view %d, stats %+v", v, h2.o.Stats())
	}
}

// Messages of the view a node waits to start are handled once its NEWVIEW
// is accepted.
func TestBufferedUntilNewView(t *testing.T) {
	cs := nodeCryptos(t, 4)
	h, _ := newHarness(t, "1", 4)
	own, _ := changeView(t, h, cs, 0)
	h.apply(received("1", own))
	for _, sn := range sns {
		h.apply(received("2", &pbft.PrepareMsg{View: 1, SeqNr: sn, Digest: abortDigest(sn)}))
		h.apply(received("3", &pbft.PrepareMsg{View: 1, SeqNr: sn, Digest: abortDigest(sn)}))
	}
	if st := h.o.Stats(); st.Buffered != 6 {
		t.Fatalf("stats %+v; want 6 buffered", st)
	}
	verified(t, h, cs, received("2", signedVC(t, cs, 2, 1, nil, nil, nil)))
	out := verified(t, h, cs, received("3", signedVC(t, cs, 3, 1, nil, nil, nil)))
	nvs, _ := sent[*pbft.NewViewMsg](out)
	out = h.apply(received("1", nvs[0]))
	if cs, _ := sent[*pbft.CommitMsg](out); len(cs) != 3 {
		t.Fatalf("COMMITs %+v; want 3, from the buffered PREPAREs", cs)
	}
}

// While a voter's VIEWCHANGE is being verified, only the highest that
// comes meanwhile waits to be verified next: a voter costs at most two
// verifications in flight, however many it sends.
func TestViewChangeVerificationBounded(t *testing.T) {
	cs := nodeCryptos(t, 4)
	h, _ := newHarness(t, "3", 4)
	var reqs []stdtypes.Event
	for view := uint64(1); view <= 5; view++ {
		reqs = append(reqs, h.apply(received("1", signedVC(t, cs, 1, view, nil, nil, nil)))...)
	}
	if n := len(of[*crypto.VerifyRequest](reqs)); n != 1 {
		t.Fatalf("%d verifications in flight; want 1", n)
	}
	out := h.apply(answerCrypto(t, cs[3], reqs)...)
	next := of[*crypto.VerifyRequest](out)
	if len(next) != 1 {
		t.Fatalf("%d verifications next; want 1, of the highest", len(next))
	}
	if !bytes.Equal(next[0].Items[0].Msg, pbft.ViewChangeDigest(0, 0, 5, nil, nil)) {
		t.Fatal("the next verification is not of view 5")
	}
	// Lower views are now stale.
	h.apply(answerCrypto(t, cs[3], out)...)
	h.apply(received("1", signedVC(t, cs, 1, 4, nil, nil, nil)))
	if h.o.Stats().Duplicate != 1 {
		t.Fatalf("stats %+v", h.o.Stats())
	}
}

// A view-0 leader that leaves view 0 while it waits for the proposer's
// value cancels the request (iss.CancelProposal): it never proposes in a
// later view, so without it the proposer would keep the value's
// transactions out of its mempool for good.
func TestViewChangeCancelsTheRequest(t *testing.T) {
	cs := nodeCryptos(t, 4)
	h, out := newHarness(t, "0", 4)
	if reqs := of[*iss.RequestProposal](out); len(reqs) != 1 || reqs[0].SeqNr != 0 {
		t.Fatalf("requests %+v; want slot 0", reqs)
	}
	_, out = changeView(t, h, cs, 0)
	if c := of[*iss.CancelProposal](out); len(c) != 1 || c[0].SeqNr != 0 || c[0].Dest() != mc.Proposer {
		t.Fatalf("CancelProposals %+v; want slot 0's, to the proposer", c)
	}
	// The answer that crossed the view change is dropped.
	out = h.apply(iss.NewProposal(ord, 0, []byte("late")))
	if pps, _ := sent[*pbft.PrePrepareMsg](out); len(pps) != 0 || len(of[*iss.CancelProposal](out)) != 0 {
		t.Fatalf("late answer: output %v", out)
	}
}
