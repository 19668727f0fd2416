package pbft

import (
	"encoding/binary"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/stdtypes"
)

// The messages between orderers, the records an orderer persists and the
// timeouts it sets are registered with the codec: the network encodes the
// messages, the WAL the records, an event log all of them. The names are
// part of every encoding: renaming one makes recorded data unreadable.
var (
	_ = codec.Register[PrePrepareMsg]("pbft.PrePrepare")
	_ = codec.Register[PrepareMsg]("pbft.Prepare")
	_ = codec.Register[CommitMsg]("pbft.Commit")
	_ = codec.Register[ViewChangeMsg]("pbft.ViewChange")
	_ = codec.Register[NewViewMsg]("pbft.NewView")
	_ = codec.Register[DoneMsg]("pbft.Done")
	_ = codec.Register[DoneRequestMsg]("pbft.DoneRequest")
	_ = codec.Register[CatchUpRequestMsg]("pbft.CatchUpRequest")
	_ = codec.Register[CatchUpResponseMsg]("pbft.CatchUpResponse")

	_ = codec.Register[PrePrepareRecord]("pbft.PrePrepareRecord")
	_ = codec.Register[PreparedRecord]("pbft.PreparedRecord")
	_ = codec.Register[ViewRecord]("pbft.ViewRecord")
	_ = codec.Register[NewViewRecord]("pbft.NewViewRecord")

	_ = codec.Register[ProposeTimeout]("pbft.ProposeTimeout")
	_ = codec.Register[ViewChangeTimeout]("pbft.ViewChangeTimeout")
)

// PrePrepareMsg is the view's leader's proposal for a slot: a value, or ⊥
// (Aborted) in a NEWVIEW's view for a slot no node may have committed.
type PrePrepareMsg struct {
	stdtypes.MessageBase
	View    uint64
	SeqNr   stdtypes.SeqNr
	Value   []byte
	Aborted bool
}

// PrepareMsg says that its sender accepted the PREPREPARE of (View, SeqNr)
// with digest Digest.
type PrepareMsg struct {
	stdtypes.MessageBase
	View   uint64
	SeqNr  stdtypes.SeqNr
	Digest []byte
}

// CommitMsg says that its sender has the slot prepared in View with
// digest Digest.
type CommitMsg struct {
	stdtypes.MessageBase
	View   uint64
	SeqNr  stdtypes.SeqNr
	Digest []byte
}

// Cert names a digest and the view in which its sender prepared (in a
// VIEWCHANGE's Prepared) or pre-prepared (in PrePrepared) it for a slot.
type Cert struct {
	SeqNr  stdtypes.SeqNr
	View   uint64
	Digest []byte
}

// ViewChangeMsg is a node's vote to move to view View, signed. It tells
// what the node knows of every slot of the segment: the highest view in
// which it prepared each slot and the digest (Prepared, at most one entry
// per slot), and for each digest it pre-prepared, the highest view in which
// it did (PrePrepared): the P and Q sets of Castro's view change, which let
// the next leader decide, for each slot, the only value that may have
// been committed, in a way every node can check (see decide).
//
// Values carries the value of each Prepared entry (empty for ⊥), so that
// the next leader has the value it must propose again. It is not signed:
// each value is checked against its entry's digest.
type ViewChangeMsg struct {
	stdtypes.MessageBase
	View        uint64
	Prepared    []Cert
	PrePrepared []Cert
	Values      [][]byte
	Signature   []byte
}

// SignedViewChange is a VIEWCHANGE in a NEWVIEW's proof: its sender, and
// what the sender signed, without the values.
type SignedViewChange struct {
	From        stdtypes.NodeID
	Prepared    []Cert
	PrePrepared []Cert
	Signature   []byte
}

// NewViewSlot is a NEWVIEW's proposal for one slot: a value, or ⊥.
type NewViewSlot struct {
	Value   []byte
	Aborted bool
}

// NewViewMsg starts view View: the VIEWCHANGEs of a strong quorum (the
// proof) and the PREPREPAREs they determine, one per slot of the segment,
// in the segment's order.
type NewViewMsg struct {
	stdtypes.MessageBase
	View        uint64
	ViewChanges []SignedViewChange
	Slots       []NewViewSlot
}

// DoneMsg says that its sender delivered every slot of the segment, with
// these digests, in the segment's order.
type DoneMsg struct {
	stdtypes.MessageBase
	Digests [][]byte
}

// DoneRequestMsg asks the receiver for its DONE, if it has one: a node
// that restarted, or that suspects it missed messages, sends it.
type DoneRequestMsg struct {
	stdtypes.MessageBase
}

// CatchUpRequestMsg asks a node that sent DONE for a slot's outcome.
type CatchUpRequestMsg struct {
	stdtypes.MessageBase
	SeqNr stdtypes.SeqNr
}

// CatchUpResponseMsg is a slot's committed value, or ⊥.
type CatchUpResponseMsg struct {
	stdtypes.MessageBase
	SeqNr   stdtypes.SeqNr
	Value   []byte
	Aborted bool
}

// The records an orderer persists, each wrapped in an iss.OrdererRecord
// (see docs/iss.md, section 6) and handed back to the orderer after a
// restart, before any message.

// PrePrepareRecord is a slot's value the orderer pre-prepared in View: as
// the leader, its proposal (persisted before the PREPREPARE); otherwise
// the leader's PREPREPARE it accepted (before its PREPARE).
type PrePrepareRecord struct {
	stdtypes.Header
	View    uint64
	SeqNr   stdtypes.SeqNr
	Value   []byte
	Aborted bool
}

// PreparedRecord is a slot prepared in View with Digest (persisted before
// the COMMIT).
type PreparedRecord struct {
	stdtypes.Header
	View   uint64
	SeqNr  stdtypes.SeqNr
	Digest []byte
}

// ViewRecord is a view the orderer moved to (persisted before its
// VIEWCHANGE).
type ViewRecord struct {
	stdtypes.Header
	View uint64
}

// NewViewRecord is a NEWVIEW the orderer accepted, or sent as the view's
// leader (persisted before its PREPAREs, or before the NEWVIEW).
type NewViewRecord struct {
	stdtypes.Header
	NewView NewViewMsg
}

// ProposeTimeout is the timer's reminder that the leader has waited
// MaxProposeDelay for the proposer's value for SeqNr: since it asked, or,
// if Extended, since the proposer said the value is pending.
type ProposeTimeout struct {
	stdtypes.Header
	SeqNr    stdtypes.SeqNr
	Extended bool
}

// ViewChangeTimeout is the timer's reminder that the orderer has made no
// progress since it set the timer: Progress counts deliveries and views,
// and the reminder is ignored if the count moved on.
type ViewChangeTimeout struct {
	stdtypes.Header
	Progress uint64
}

// Domain tags keep the digests of this package apart from every other
// use of the same hash.
var (
	valueDomain      = []byte("mir/pbft value v1")
	viewChangeDomain = []byte("mir/pbft viewchange v1")
)

// digestSize is the size of every digest (SHA-256).
const digestSize = 32

// ValueDigest returns the digest that names the outcome of slot sn of
// segment (epoch, segment): value, or ⊥ if aborted (value is then
// ignored). The slot is in the digest, so that a vote for one slot is
// worth nothing in another.
func ValueDigest(epoch stdtypes.EpochNr, segment int, sn stdtypes.SeqNr, value []byte, aborted bool) []byte {
	var head [25]byte
	binary.BigEndian.PutUint64(head[0:], uint64(epoch))
	binary.BigEndian.PutUint64(head[8:], uint64(segment))
	binary.BigEndian.PutUint64(head[16:], uint64(sn))
	if aborted {
		head[24] = 1
		value = nil
	}
	return crypto.Digest(crypto.SHA256, valueDomain, head[:], value)
}

// ViewChangeDigest returns what a node signs in its VIEWCHANGE for view
// of segment (epoch, segment).
func ViewChangeDigest(epoch stdtypes.EpochNr, segment int, view uint64, prepared, preprepared []Cert) []byte {
	b := make([]byte, 0, 24+(len(prepared)+len(preprepared))*(16+digestSize)+16)
	b = binary.BigEndian.AppendUint64(b, uint64(epoch))
	b = binary.BigEndian.AppendUint64(b, uint64(segment))
	b = binary.BigEndian.AppendUint64(b, view)
	for _, set := range [][]Cert{prepared, preprepared} {
		b = binary.BigEndian.AppendUint64(b, uint64(len(set)))
		for _, c := range set {
			b = binary.BigEndian.AppendUint64(b, uint64(c.SeqNr))
			b = binary.BigEndian.AppendUint64(b, c.View)
			b = binary.BigEndian.AppendUint64(b, uint64(len(c.Digest)))
			b = append(b, c.Digest...)
		}
	}
	return crypto.Digest(crypto.SHA256, viewChangeDomain, b)
}
