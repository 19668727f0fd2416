package pbft

import (
	"bytes"
	"fmt"

	"github.com/mirframework/mir/pkg/dsl"
	"github.com/mirframework/mir/stdtypes"
)

// Crash safety (docs/iss.md, section 3): a restarted orderer gets its
// records back before any message, in the order it appended them, and
// resumes from them: in the view it was in, with what it pre-prepared and
// prepared, sending again what it had sent (its reliablenet module forgot
// it) and nothing that contradicts it.
//
// A record is this node's own, but it is checked like a message: one that
// contradicts another, or the segment, is an error that stops the node,
// which must not run on a log it cannot trust.

// restoring marks the orderer as restarted: the first record asks the
// others for their DONE, so that the slots committed while this node was
// down complete through catch-up.
func (s *state) restoring() {
	if !s.restored {
		s.restored = true
		s.requestDone()
	}
}

// recordSlot returns the slot of a record.
func (s *state) recordSlot(sn stdtypes.SeqNr, kind string) (*slot, error) {
	i, ok := s.index[sn]
	if !ok {
		return nil, fmt.Errorf("%s for slot %d, not one of the segment's", kind, sn)
	}
	return s.slots[i], nil
}

// onPrePrepareRecord restores a value this node pre-prepared: as the
// view-0 leader its proposal, which it sends again; otherwise the leader's
// PREPREPARE it accepted, whose PREPARE it sends again.
func (s *state) onPrePrepareRecord(r *PrePrepareRecord) error {
	sl, err := s.recordSlot(r.SeqNr, "PrePrepareRecord")
	if err != nil {
		return err
	}
	s.restoring()
	out := s.newOutcome(r.SeqNr, r.Value, r.Aborted)
	addQ(sl, r.View, out.digest, maxQPerSlot(len(s.all)))
	switch {
	case r.View > s.view || (r.View == s.view && s.inViewChange):
		return fmt.Errorf("PrePrepareRecord for view %d, which the node has not started (view %d)", r.View, s.view)
	case r.View < s.view:
		return nil // History only: what a VIEWCHANGE reports.
	case sl.pp != nil && !bytes.Equal(sl.pp.digest, out.digest):
		return fmt.Errorf("PrePrepareRecord for slot %d in view %d contradicts another", r.SeqNr, r.View)
	}
	sl.pp = out
	s.told(sl, out.value)
	if s.leaderOf(r.View) == s.self {
		sl.proposed = true
		s.withdraw(s.index[r.SeqNr])
		dsl.EmitEvent(s.m, s.sendEvent(viewMsgID(r.View, "pp", r.SeqNr), &PrePrepareMsg{View: r.View, SeqNr: r.SeqNr, Value: r.Value}, s.all...))
		s.pump()
		return nil
	}
	sl.leaderVote = true
	dsl.EmitEvent(s.m, s.prepareEvent(sl))
	return nil
}

// onPreparedRecord restores a prepared certificate, and sends its COMMIT
// again if it is of the current view.
func (s *state) onPreparedRecord(r *PreparedRecord) error {
	sl, err := s.recordSlot(r.SeqNr, "PreparedRecord")
	if err != nil {
		return err
	}
	s.restoring()
	if len(r.Digest) != digestSize {
		return fmt.Errorf("PreparedRecord for slot %d with a digest of %d bytes", r.SeqNr, len(r.Digest))
	}
	// The value is that of the slot's PREPREPARE in the same view, which
	// was persisted before.
	var value *outcome
	if r.View == s.view && sl.pp != nil && bytes.Equal(sl.pp.digest, r.Digest) {
		value = sl.pp
	}
	if r.View < s.view {
		return nil // Restored by the history of the view it belongs to; see below.
	}
	if value == nil {
		return fmt.Errorf("PreparedRecord for slot %d in view %d without its PrePrepareRecord", r.SeqNr, r.View)
	}
	sl.p, sl.pValue, sl.prepared = &Cert{SeqNr: r.SeqNr, View: r.View, Digest: r.Digest}, value, true
	dsl.EmitEvent(s.m, s.commitEvent(sl))
	return nil
}

// onViewRecord restores a view this node moved to, and sends its
// VIEWCHANGE again (signed again: the signature was not persisted).
func (s *state) onViewRecord(r *ViewRecord) error {
	s.restoring()
	if r.View <= s.view {
		return fmt.Errorf("ViewRecord for view %d; the node is in view %d", r.View, s.view)
	}
	s.startViewChange(r.View, false)
	return nil
}

// onNewViewRecord restores a NEWVIEW this node accepted (or sent, as the
// view's leader), and sends its PREPAREs (or the NEWVIEW) again.
func (s *state) onNewViewRecord(r *NewViewRecord) error {
	s.restoring()
	msg := &r.NewView
	if msg.View < s.view || (msg.View == s.view && !s.inViewChange) || len(msg.Slots) != len(s.slots) {
		return fmt.Errorf("NewViewRecord for view %d with %d slots; the node is in view %d", msg.View, len(msg.Slots), s.view)
	}
	s.acceptNewView(msg, false)
	if s.leaderOf(msg.View) == s.self {
		s.sentNewView = true
		dsl.EmitEvent(s.m, s.sendEvent(viewPrefix(msg.View)+"nv", msg, s.all...))
	}
	return nil
}
