package pbft

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/dsl"
	"github.com/mirframework/mir/pkg/messagebuffer"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdtypes"
)

// onViewChangeTimeout moves to the next view if the segment made no
// progress since the timer was set, and asks the others for their DONE:
// the slots may have been committed while this node missed messages.
func (s *state) onViewChangeTimeout(ev *ViewChangeTimeout) error {
	if ev.Progress != s.progress || s.delivered == len(s.slots) {
		return nil // Stale: the segment moved on since.
	}
	s.requestDone()
	s.startViewChange(s.view+1, true)
	return nil
}

// startViewChange moves the node to view (above its own): it stops taking
// part in the view it leaves, persists the new view, then signs its
// VIEWCHANGE (sent once signed). persist is false when the view comes
// from the WAL: it is durable already.
func (s *state) startViewChange(view uint64, persist bool) {
	s.leaveView(view)
	s.inViewChange = true
	s.vcTimerSet = false // See armViewChangeTimer.
	s.failedViews++
	s.counters.inc(rViewChanges)
	vc := s.viewChangeMsg()
	digest := ViewChangeDigest(s.seg.Epoch, s.seg.Index, view, vc.Prepared, vc.PrePrepared)
	id := s.signing.Store(signCtx{view: view, vc: vc})
	sign := crypto.NewSignRequest(s.mc.Crypto, crypto.Origin{Module: s.mc.Self, ID: id}, digest)
	if !persist {
		dsl.EmitEvent(s.m, sign)
		return
	}
	s.persistThen(&ViewRecord{Header: stdtypes.NewHeader(s.mc.Self), View: view}, sign)
}

// leaveView moves the node from its view to a higher one: the messages of
// the view it leaves are cancelled, and its votes forgotten.
func (s *state) leaveView(view uint64) {
	dsl.EmitEvent(s.m, reliablenet.NewCancelPrefix(s.mc.ReliableNet, s.mc.Self, viewPrefix(s.view)))
	s.view = view
	s.progress++
	// A view-0 leader proposes in no later view: the value it waits for
	// would never be proposed, so the proposer takes its requests back.
	if s.requested >= 0 {
		s.withdraw(s.requested)
	}
	s.sentNewView = false
	for _, sl := range s.slots {
		sl.pp, sl.leaderVote, sl.validating, sl.refused, sl.prepared = nil, false, false, false, false
		clear(sl.prepares)
		clear(sl.commits)
	}
}

// viewChangeMsg returns this node's VIEWCHANGE for its view, unsigned: P
// and Q of every slot (committed ones too: a slot this node committed may
// be one that others did not, and the next view must propose it again).
func (s *state) viewChangeMsg() *ViewChangeMsg {
	vc := &ViewChangeMsg{View: s.view}
	for _, sl := range s.slots {
		if sl.p != nil {
			vc.Prepared = append(vc.Prepared, *sl.p)
			vc.Values = append(vc.Values, sl.pValue.value)
		}
		vc.PrePrepared = append(vc.PrePrepared, sl.q...)
	}
	return vc
}

// onSignResult sends the VIEWCHANGE, if the node is still changing to its
// view.
func (s *state) onSignResult(ev *crypto.SignResult) error {
	ctx, ok := s.signing.Recover(ev.Origin.ID)
	switch {
	case !ok:
		return fmt.Errorf("crypto.SignResult with unknown origin ID %d", ev.Origin.ID)
	case len(ev.Sigs) != 1:
		return fmt.Errorf("crypto.SignResult with %d signatures for one digest", len(ev.Sigs))
	case ctx.view != s.view || !s.inViewChange:
		return nil // The node moved on meanwhile.
	}
	ctx.vc.Signature = ev.Sigs[0]
	dsl.EmitEvent(s.m, s.sendEvent(viewPrefix(s.view)+"vc", ctx.vc, s.all...))
	return nil
}

// validateCerts checks the P and Q sets of a VIEWCHANGE for view: entries
// for slots of the segment, below the view, digests of the right size;
// at most one P entry per slot, in the segment's order; at most
// maxQPerSlot Q entries per slot.
func (s *state) validateCerts(view uint64, prepared, preprepared []Cert) (reason, string) {
	if len(prepared) > len(s.slots) || len(preprepared) > len(s.slots)*maxQPerSlot(len(s.all)) {
		return rOversize, "too many entries"
	}
	last := -1
	for _, c := range prepared {
		i, ok := s.index[c.SeqNr]
		switch {
		case !ok:
			return rBadSlot, fmt.Sprintf("prepared slot %d", c.SeqNr)
		case i <= last:
			return rMalformed, "prepared slots out of order or repeated"
		case c.View >= view || len(c.Digest) != digestSize:
			return rMalformed, fmt.Sprintf("prepared entry of view %d with a digest of %d bytes", c.View, len(c.Digest))
		}
		last = i
	}
	for _, c := range preprepared {
		if _, ok := s.index[c.SeqNr]; !ok {
			return rBadSlot, fmt.Sprintf("pre-prepared slot %d", c.SeqNr)
		}
		if c.View >= view || len(c.Digest) != digestSize {
			return rMalformed, fmt.Sprintf("pre-prepared entry of view %d with a digest of %d bytes", c.View, len(c.Digest))
		}
	}
	return 0, ""
}

// onViewChange checks a VIEWCHANGE and has its signature verified (the
// node's own needs none: it comes back from the reliablenet module).
func (s *state) onViewChange(from stdtypes.NodeID, msg *ViewChangeMsg) error {
	if !s.seg.Voters.Contains(from) {
		return s.drop(rUnknownSender, "from %s, not a voter", from)
	}
	if r, why := s.validateCerts(msg.View, msg.Prepared, msg.PrePrepared); why != "" {
		return s.drop(r, "VIEWCHANGE: %s", why)
	}
	if len(msg.Values) != len(msg.Prepared) {
		return s.drop(rMalformed, "VIEWCHANGE with %d values for %d prepared slots", len(msg.Values), len(msg.Prepared))
	}
	for i, c := range msg.Prepared {
		v := msg.Values[i]
		if len(v) > s.params.MaxValueBytes {
			return s.drop(rOversize, "VIEWCHANGE value of %d bytes", len(v))
		}
		if !bytes.Equal(c.Digest, s.digest(c.SeqNr, v, false)) && (len(v) > 0 || !bytes.Equal(c.Digest, s.digest(c.SeqNr, nil, true))) {
			return s.drop(rMalformed, "VIEWCHANGE value of slot %d does not match its digest", c.SeqNr)
		}
	}
	if prev := s.vcs[from]; prev != nil && msg.View <= prev.View {
		return s.drop(rDuplicate, "VIEWCHANGE for view %d; have one for view %d", msg.View, prev.View)
	}
	if msg.View < s.view {
		return s.drop(rStale, "VIEWCHANGE for view %d; the node is in view %d", msg.View, s.view)
	}
	if from == s.self {
		s.vcs[from] = msg
		return nil
	}
	if s.vcChecking[from] {
		if next := s.vcNext[from]; next == nil || next.View < msg.View {
			s.vcNext[from] = msg
		}
		return nil
	}
	s.verifyViewChange(from, msg)
	return nil
}

// verifyViewChange has the crypto module verify the signature of from's
// VIEWCHANGE.
func (s *state) verifyViewChange(from stdtypes.NodeID, msg *ViewChangeMsg) {
	s.vcChecking[from] = true
	id := s.verifying.Store(verifyCtx{from: from, vc: msg})
	item := crypto.SigItem{Msg: ViewChangeDigest(s.seg.Epoch, s.seg.Index, msg.View, msg.Prepared, msg.PrePrepared), Sig: msg.Signature, Signer: from}
	dsl.EmitEvent(s.m, crypto.NewVerifyRequest(s.mc.Crypto, crypto.Origin{Module: s.mc.Self, ID: id}, item))
}

// onVerifyResult takes a verified VIEWCHANGE, or accepts a NEWVIEW whose
// proof verified.
func (s *state) onVerifyResult(ev *crypto.VerifyResult) error {
	ctx, ok := s.verifying.Recover(ev.Origin.ID)
	if !ok {
		return fmt.Errorf("crypto.VerifyResult with unknown origin ID %d", ev.Origin.ID)
	}
	if ctx.nv != nil {
		return s.newViewVerified(ctx.nv, ev.AllValid)
	}
	from := ctx.from
	s.vcChecking[from] = false
	if !ev.AllValid {
		s.counters.inc(rBadSignature)
	} else if prev := s.vcs[from]; prev == nil || prev.View < ctx.vc.View {
		s.vcs[from] = ctx.vc
	}
	if next := s.vcNext[from]; next != nil {
		delete(s.vcNext, from)
		if prev := s.vcs[from]; prev == nil || prev.View < next.View {
			s.verifyViewChange(from, next)
		}
	}
	return nil
}

// joinHigherView moves the node to the highest view that VIEWCHANGEs
// from a weak quorum have reached, if above its own: a correct node is
// among them, so the view is no Byzantine invention.
func (s *state) joinHigherView() error {
	type vote struct {
		view   uint64
		weight uint64
	}
	var votes []vote
	for _, id := range s.all {
		if vc := s.vcs[id]; vc != nil && vc.View > s.view {
			w, _ := s.seg.Voters.Weight(id)
			votes = append(votes, vote{vc.View, w})
		}
	}
	slices.SortFunc(votes, func(a, b vote) int { return cmp.Compare(b.view, a.view) })
	var w uint64
	for _, v := range votes {
		w += v.weight
		if s.seg.Voters.IsWeakQuorum(w) {
			s.startViewChange(v.view, true)
			return nil
		}
	}
	return nil
}

// armViewChangeTimer starts the timer of the view being changed to once
// VIEWCHANGEs for it (or later views) from a strong quorum are in, not
// before (Castro and Liskov, section 4.5.2): a node that timed out alone
// (it missed messages; catch-up is its way back) waits for the others
// rather than move on to ever higher views, with ever longer timeouts,
// that they will take long to reach.
func (s *state) armViewChangeTimer() error {
	if !s.inViewChange || s.vcTimerSet {
		return nil
	}
	var in []stdtypes.NodeID
	for _, id := range s.all {
		if vc := s.vcs[id]; vc != nil && vc.View >= s.view {
			in = append(in, id)
		}
	}
	if s.seg.Voters.IsStrongQuorum(s.weightOf(in)) {
		s.vcTimerSet = true
		s.setViewChangeTimer()
	}
	return nil
}

// vcOf is what decide needs of a VIEWCHANGE.
type vcOf struct {
	from        stdtypes.NodeID
	prepared    []Cert
	preprepared []Cert
}

// decision is what the VIEWCHANGEs determine for a slot.
type decision struct {
	ok      bool
	aborted bool
	digest  []byte
}

// decide returns what the VIEWCHANGEs vcs determine for slot sn: Castro
// and Liskov's rule (the MAC-based view change of Castro's thesis),
// which picks the value of the highest prepared certificate in a way no
// Byzantine VIEWCHANGE can bend, with strong and weak quorums by weight.
// A candidate is a (view, digest) some VIEWCHANGE reports prepared; it is
// chosen if
//
//	A1: the VIEWCHANGEs that report for sn nothing prepared, or prepared
//	    in a lower view, or prepared this digest in this view, have a
//	    strong quorum's weight; and
//	A2: those that report this digest pre-prepared in this view or a
//	    later one have a weak quorum's weight (a correct node among them:
//	    the digest is no invention);
//
// the highest such view first, the smallest digest among equals. With none
// chosen, ⊥ if those that report nothing prepared have a strong quorum's
// weight; otherwise nothing is determined yet (the leader waits for more
// VIEWCHANGEs: with those of all correct nodes, something is).
func (s *state) decide(sn stdtypes.SeqNr, vcs []vcOf) decision {
	type cand struct {
		view   uint64
		digest []byte
	}
	var cands []cand
	pOf := make([]*Cert, len(vcs))
	for i := range vcs {
		for j := range vcs[i].prepared {
			if c := &vcs[i].prepared[j]; c.SeqNr == sn {
				pOf[i] = c
				cands = append(cands, cand{c.View, c.Digest})
			}
		}
	}
	slices.SortFunc(cands, func(a, b cand) int {
		if c := cmp.Compare(b.view, a.view); c != 0 {
			return c
		}
		return bytes.Compare(a.digest, b.digest)
	})
	var a1, a2 []stdtypes.NodeID
	for _, c := range cands {
		a1, a2 = a1[:0], a2[:0]
		for i, vc := range vcs {
			if p := pOf[i]; p == nil || p.View < c.view || (p.View == c.view && bytes.Equal(p.Digest, c.digest)) {
				a1 = append(a1, vc.from)
			}
			for _, q := range vc.preprepared {
				if q.SeqNr == sn && q.View >= c.view && bytes.Equal(q.Digest, c.digest) {
					a2 = append(a2, vc.from)
					break
				}
			}
		}
		if s.seg.Voters.IsStrongQuorum(s.weightOf(a1)) && s.seg.Voters.IsWeakQuorum(s.weightOf(a2)) {
			return decision{ok: true, aborted: bytes.Equal(c.digest, s.digest(sn, nil, true)), digest: c.digest}
		}
	}
	var none []stdtypes.NodeID
	for i, vc := range vcs {
		if pOf[i] == nil {
			none = append(none, vc.from)
		}
	}
	if s.seg.Voters.IsStrongQuorum(s.weightOf(none)) {
		return decision{ok: true, aborted: true, digest: s.digest(sn, nil, true)}
	}
	return decision{}
}

// sendNewView has the leader of the view being changed to send its
// NEWVIEW once the VIEWCHANGEs it has determine every slot.
func (s *state) sendNewView() error {
	if !s.inViewChange || s.sentNewView || s.leaderOf(s.view) != s.self {
		return nil
	}
	var vcs []vcOf
	var from []stdtypes.NodeID
	for _, id := range s.all {
		if vc := s.vcs[id]; vc != nil && vc.View == s.view {
			vcs = append(vcs, vcOf{from: id, prepared: vc.Prepared, preprepared: vc.PrePrepared})
			from = append(from, id)
		}
	}
	if !s.seg.Voters.IsStrongQuorum(s.weightOf(from)) {
		return nil
	}
	nv := &NewViewMsg{View: s.view}
	for _, sl := range s.slots {
		d := s.decide(sl.sn, vcs)
		if !d.ok {
			return nil
		}
		if d.aborted {
			nv.Slots = append(nv.Slots, NewViewSlot{Aborted: true})
			continue
		}
		nv.Slots = append(nv.Slots, NewViewSlot{Value: s.valueOf(sl.sn, d.digest, from)})
	}
	for _, id := range from {
		vc := s.vcs[id]
		nv.ViewChanges = append(nv.ViewChanges, SignedViewChange{From: id, Prepared: vc.Prepared, PrePrepared: vc.PrePrepared, Signature: vc.Signature})
	}
	s.sentNewView = true
	s.persistThen(&NewViewRecord{Header: stdtypes.NewHeader(s.mc.Self), NewView: *nv}, s.sendEvent(viewPrefix(s.view)+"nv", nv, s.all...))
	return nil
}

// valueOf returns the value with digest for slot sn that one of the
// VIEWCHANGEs of from carries: decide chose a digest one of them reports
// prepared, and onViewChange checked its value.
func (s *state) valueOf(sn stdtypes.SeqNr, digest []byte, from []stdtypes.NodeID) []byte {
	for _, id := range from {
		vc := s.vcs[id]
		for i, c := range vc.Prepared {
			if c.SeqNr == sn && bytes.Equal(c.Digest, digest) {
				return vc.Values[i]
			}
		}
	}
	return nil // Unreachable: see above.
}

// onNewView checks a NEWVIEW's proof and has its signatures verified.
func (s *state) onNewView(from stdtypes.NodeID, msg *NewViewMsg) error {
	switch {
	case !s.seg.Voters.Contains(from):
		return s.drop(rUnknownSender, "from %s, not a voter", from)
	case from != s.leaderOf(msg.View) || msg.View == 0:
		return s.drop(rNotLeader, "NEWVIEW for view %d from %s", msg.View, from)
	case msg.View < s.view || (msg.View == s.view && !s.inViewChange):
		return s.drop(rStale, "NEWVIEW for view %d; the node is in view %d", msg.View, s.view)
	case from == s.self:
		// Its own, persisted before it was sent.
		s.acceptNewView(msg, false)
		return nil
	case s.nvCheckingSet && s.nvChecking >= msg.View:
		return s.drop(rDuplicate, "NEWVIEW for view %d while one is being verified", msg.View)
	}
	if r, why := s.checkNewView(msg); why != "" {
		return s.drop(r, "NEWVIEW for view %d: %s", msg.View, why)
	}
	items := make([]crypto.SigItem, len(msg.ViewChanges))
	for i, vc := range msg.ViewChanges {
		items[i] = crypto.SigItem{Msg: ViewChangeDigest(s.seg.Epoch, s.seg.Index, msg.View, vc.Prepared, vc.PrePrepared), Sig: vc.Signature, Signer: vc.From}
	}
	s.nvChecking, s.nvCheckingSet = msg.View, true
	id := s.verifying.Store(verifyCtx{from: from, nv: msg})
	dsl.EmitEvent(s.m, crypto.NewVerifyRequest(s.mc.Crypto, crypto.Origin{Module: s.mc.Self, ID: id}, items...))
	return nil
}

// checkNewView checks a NEWVIEW's proof but for the signatures: distinct
// voters with a strong quorum's weight, each VIEWCHANGE well-formed, and
// the PREPREPAREs exactly those they determine (and, for the slots this
// node delivered, what it delivered: anything else would contradict a
// commit).
func (s *state) checkNewView(msg *NewViewMsg) (reason, string) {
	if len(msg.Slots) != len(s.slots) {
		return rMalformed, fmt.Sprintf("%d slots; the segment has %d", len(msg.Slots), len(s.slots))
	}
	if len(msg.ViewChanges) > len(s.all) {
		return rOversize, fmt.Sprintf("%d VIEWCHANGEs", len(msg.ViewChanges))
	}
	vcs := make([]vcOf, len(msg.ViewChanges))
	from := make([]stdtypes.NodeID, len(msg.ViewChanges))
	for i, vc := range msg.ViewChanges {
		if !s.seg.Voters.Contains(vc.From) || slices.Contains(from[:i], vc.From) {
			return rBadNewView, fmt.Sprintf("VIEWCHANGE of %q: not a voter, or repeated", vc.From)
		}
		if r, why := s.validateCerts(msg.View, vc.Prepared, vc.PrePrepared); why != "" {
			return r, "VIEWCHANGE of " + string(vc.From) + ": " + why
		}
		from[i] = vc.From
		vcs[i] = vcOf{from: vc.From, prepared: vc.Prepared, preprepared: vc.PrePrepared}
	}
	if !s.seg.Voters.IsStrongQuorum(s.weightOf(from)) {
		return rBadNewView, "VIEWCHANGEs without a strong quorum's weight"
	}
	for i, sl := range s.slots {
		ns := msg.Slots[i]
		if len(ns.Value) > s.params.MaxValueBytes {
			return rOversize, fmt.Sprintf("value of %d bytes", len(ns.Value))
		}
		d := s.decide(sl.sn, vcs)
		got := s.digest(sl.sn, ns.Value, ns.Aborted)
		switch {
		case !d.ok:
			return rBadNewView, fmt.Sprintf("slot %d is not determined", sl.sn)
		case !bytes.Equal(d.digest, got):
			return rBadNewView, fmt.Sprintf("slot %d is not what the VIEWCHANGEs determine", sl.sn)
		case sl.out != nil && !bytes.Equal(sl.out.digest, got):
			return rBadNewView, fmt.Sprintf("slot %d contradicts what this node delivered", sl.sn)
		}
	}
	return 0, ""
}

// newViewVerified accepts a NEWVIEW whose signatures verified, if the
// node has not moved past its view meanwhile.
func (s *state) newViewVerified(msg *NewViewMsg, valid bool) error {
	if s.nvCheckingSet && s.nvChecking == msg.View {
		s.nvCheckingSet = false
	}
	if !valid {
		s.counters.inc(rBadSignature)
		return nil
	}
	if msg.View < s.view || (msg.View == s.view && !s.inViewChange) {
		return nil
	}
	s.acceptNewView(msg, true)
	return nil
}

// acceptNewView starts the NEWVIEW's view: its PREPREPAREs are
// pre-prepared (the leader's NEWVIEW counts as its PREPARE for each), and
// the node sends its PREPAREs once the NEWVIEW is persisted (persist), or
// at once (a NEWVIEW from the WAL, or the leader's own).
func (s *state) acceptNewView(msg *NewViewMsg, persist bool) {
	if msg.View > s.view {
		s.leaveView(msg.View)
	}
	s.inViewChange = false
	s.progress++
	var sends []stdtypes.Event
	leader := s.leaderOf(msg.View) == s.self
	for i, sl := range s.slots {
		ns := msg.Slots[i]
		sl.pp = s.newOutcome(sl.sn, ns.Value, ns.Aborted)
		sl.leaderVote = true
		addQ(sl, s.view, sl.pp.digest, maxQPerSlot(len(s.all)))
		if !leader {
			sends = append(sends, s.prepareEvent(sl))
		}
	}
	switch {
	case persist:
		s.persistThen(&NewViewRecord{Header: stdtypes.NewHeader(s.mc.Self), NewView: *msg}, sends...)
	default:
		dsl.EmitEvents(s.m, sends...)
	}
	s.setViewChangeTimer()
	s.processBuffered()
}

// processBuffered handles the buffered messages of the current view, and
// drops those of views the node left.
func (s *state) processBuffered() {
	_, _ = s.buffer.Iterate(func(_ stdtypes.NodeID, msg stdtypes.Message) messagebuffer.Action {
		switch s.classify(viewOf(msg)) {
		case viewPast:
			return messagebuffer.Drop
		case viewCurrent:
			return messagebuffer.Process
		}
		return messagebuffer.Keep
	}, func(from stdtypes.NodeID, msg stdtypes.Message) error {
		// A message that is invalid now was dropped and counted by its
		// handler; nothing else can fail.
		var err error
		switch m := msg.(type) {
		case *PrePrepareMsg:
			err = s.onPrePrepare(from, m)
		case *PrepareMsg:
			err = s.onPrepare(from, m)
		case *CommitMsg:
			err = s.onCommit(from, m)
		}
		if err != nil && !errDropped(err) {
			return err
		}
		return nil
	})
}

// viewOf returns the view of a buffered message.
func viewOf(msg stdtypes.Message) uint64 {
	switch m := msg.(type) {
	case *PrePrepareMsg:
		return m.View
	case *PrepareMsg:
		return m.View
	case *CommitMsg:
		return m.View
	}
	return 0
}
