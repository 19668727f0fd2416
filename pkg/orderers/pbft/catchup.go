package pbft

import (
	"bytes"
	"slices"
	"strconv"

	"github.com/mirframework/mir/pkg/dsl"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdtypes"
)

// Catch-up (docs/iss.md, section 3): when a node has committed every slot
// of a segment, it sends DONE(digests) to all. A node that has DONEs with
// the same digests from a weak quorum knows the segment's outcome; for
// the slots it lacks it asks those nodes for the committed value
// (CATCHUPREQUEST), checks it against the digest and delivers it.

// doneMsg returns this node's DONE: the digests of its delivered slots.
func (s *state) doneMsg() *DoneMsg {
	msg := &DoneMsg{Digests: make([][]byte, len(s.slots))}
	for i, sl := range s.slots {
		msg.Digests[i] = sl.out.digest
	}
	return msg
}

// requestDone asks the others for their DONE: a restarted node, or one
// whose view-change timer fired, may have missed the messages that
// committed the slots.
func (s *state) requestDone() {
	if s.delivered == len(s.slots) {
		return
	}
	dsl.EmitEvent(s.m, reliablenet.NewCancel(s.mc.ReliableNet, s.mc.Self, "dr"))
	s.sendToOthers("dr", &DoneRequestMsg{})
}

// indexedID returns the ID of a message to the voter from: base, the
// voter's index and, if sn is not negative, the slot.
func (s *state) indexedID(base string, from stdtypes.NodeID, sn int64) reliablenet.MsgID {
	id := base + "/" + strconv.Itoa(s.seg.Voters.Index(from))
	if sn >= 0 {
		id += "/" + strconv.FormatInt(sn, 10)
	}
	return reliablenet.MsgID(id)
}

// onDone keeps a voter's DONE, its first.
func (s *state) onDone(from stdtypes.NodeID, msg *DoneMsg) error {
	switch {
	case !s.seg.Voters.Contains(from):
		return s.drop(rUnknownSender, "from %s, not a voter", from)
	case len(msg.Digests) != len(s.slots):
		return s.drop(rMalformed, "DONE with %d digests; the segment has %d slots", len(msg.Digests), len(s.slots))
	case from == s.self:
		return s.drop(rMalformed, "DONE from this node")
	}
	for _, d := range msg.Digests {
		if len(d) != digestSize {
			return s.drop(rMalformed, "DONE with a digest of %d bytes", len(d))
		}
	}
	if prev, ok := s.dones[from]; ok {
		if slices.EqualFunc(prev, msg.Digests, bytes.Equal) {
			return s.drop(rDuplicate, "DONE again")
		}
		return s.drop(rEquivocation, "a second DONE with other digests")
	}
	s.dones[from] = msg.Digests
	s.donesChanged = true
	return nil
}

// onDoneRequest sends this node's DONE to a voter that asks, if it has
// one.
func (s *state) onDoneRequest(from stdtypes.NodeID, _ *DoneRequestMsg) error {
	switch {
	case !s.seg.Voters.Contains(from):
		return s.drop(rUnknownSender, "from %s, not a voter", from)
	case from == s.self:
		return s.drop(rMalformed, "DONE request from this node")
	case !s.doneSent:
		return s.drop(rNotReady, "DONE request before this node is done")
	}
	s.resend(s.indexedID("done", from, -1), s.doneMsg(), from)
	return nil
}

// onCatchUpRequest sends a delivered slot's outcome to a voter that asks.
func (s *state) onCatchUpRequest(from stdtypes.NodeID, msg *CatchUpRequestMsg) error {
	i, err := s.voterSlot(from, msg.SeqNr)
	switch {
	case err != nil:
		return err
	case from == s.self:
		return s.drop(rMalformed, "catch-up request from this node")
	case s.slots[i].out == nil:
		return s.drop(rNotReady, "catch-up request for slot %d, not delivered here", msg.SeqNr)
	}
	out := s.slots[i].out
	s.resend(s.indexedID("cu", from, int64(msg.SeqNr)), &CatchUpResponseMsg{SeqNr: msg.SeqNr, Value: out.value, Aborted: out.aborted}, from)
	return nil
}

// onCatchUpResponse delivers a slot whose outcome matches the digest a
// weak quorum's DONEs agree on.
func (s *state) onCatchUpResponse(from stdtypes.NodeID, msg *CatchUpResponseMsg) error {
	i, err := s.voterSlot(from, msg.SeqNr)
	switch {
	case err != nil:
		return err
	case len(msg.Value) > s.params.MaxValueBytes:
		return s.drop(rOversize, "catch-up value of %d bytes", len(msg.Value))
	case s.slots[i].out != nil:
		return s.drop(rStale, "catch-up response for slot %d, delivered already", msg.SeqNr)
	case s.agreed == nil:
		return s.drop(rNotReady, "catch-up response before a weak quorum's DONEs")
	}
	out := s.newOutcome(msg.SeqNr, msg.Value, msg.Aborted)
	if !bytes.Equal(out.digest, s.agreed[i]) {
		return s.drop(rBadDigest, "catch-up response for slot %d does not match the DONEs", msg.SeqNr)
	}
	dsl.EmitEvent(s.m, reliablenet.NewCancelPrefix(s.mc.ReliableNet, s.mc.Self, reliablenet.MsgID("cq/"+strconv.FormatUint(uint64(msg.SeqNr), 10)+"/")))
	s.deliver(s.slots[i], out, true)
	return nil
}

// catchUp, once a weak quorum's DONEs agree, delivers the slots whose
// value this node has (pre-prepared or prepared with the agreed digest)
// and asks those nodes for the others.
func (s *state) catchUp() error {
	if s.delivered == len(s.slots) {
		return nil
	}
	if s.agreed == nil {
		if !s.donesChanged {
			return nil
		}
		s.donesChanged = false
		if !s.findAgreed() {
			return nil
		}
	}
	for i, sl := range s.slots {
		if sl.out != nil {
			continue
		}
		switch want := s.agreed[i]; {
		case sl.pp != nil && bytes.Equal(sl.pp.digest, want):
			s.deliver(sl, sl.pp, true)
		case sl.pValue != nil && bytes.Equal(sl.pValue.digest, want):
			s.deliver(sl, sl.pValue, true)
		case !sl.askedCatchUp:
			sl.askedCatchUp = true
			for _, id := range s.agreedBy {
				s.resend(s.catchUpRequestID(sl.sn, id), &CatchUpRequestMsg{SeqNr: sl.sn}, id)
			}
		}
	}
	return nil
}

// catchUpRequestID is the ID of the request for slot sn to voter to:
// "cq/<sn>/<i>", so that "cq/<sn>/" names a slot's requests.
func (s *state) catchUpRequestID(sn stdtypes.SeqNr, to stdtypes.NodeID) reliablenet.MsgID {
	return reliablenet.MsgID("cq/" + strconv.FormatUint(uint64(sn), 10) + "/" + strconv.Itoa(s.seg.Voters.Index(to)))
}

// findAgreed looks for DONEs with the same digests from a weak quorum.
func (s *state) findAgreed() bool {
	for _, id := range s.all {
		d := s.dones[id]
		if d == nil {
			continue
		}
		var by []stdtypes.NodeID
		for _, other := range s.all {
			if o := s.dones[other]; o != nil && slices.EqualFunc(o, d, bytes.Equal) {
				by = append(by, other)
			}
		}
		if s.seg.Voters.IsWeakQuorum(s.weightOf(by)) {
			s.agreed, s.agreedBy = d, by
			return true
		}
	}
	return false
}
