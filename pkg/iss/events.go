package iss

import (
	"strconv"
	"strings"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

// The events between ISS, its orderers, the module that proposes values,
// the module that validates them and the application. They are registered
// with the codec: an event log records them, and an orderer's Params (a
// Segment) travel in NewSubmodule events. The names are part of every
// encoding: renaming one makes recorded data unreadable.
var (
	_ = codec.Register[Segment]("iss.Segment")
	_ = codec.Register[RequestProposal]("iss.RequestProposal")
	_ = codec.Register[Proposal]("iss.Proposal")
	_ = codec.Register[CancelProposal]("iss.CancelProposal")
	_ = codec.Register[ProposalPending]("iss.ProposalPending")
	_ = codec.Register[VerifyProposal]("iss.VerifyProposal")
	_ = codec.Register[ProposalVerified]("iss.ProposalVerified")
	_ = codec.Register[SBDeliver]("iss.SBDeliver")
	_ = codec.Register[OrdererRecord]("iss.OrdererRecord")
	_ = codec.Register[Deliver]("iss.Deliver")
	_ = codec.Register[SnapshotRequest]("iss.SnapshotRequest")
	_ = codec.Register[Snapshot]("iss.Snapshot")
	_ = codec.Register[RestoreState]("iss.RestoreState")
	_ = codec.Register[Proposed]("iss.Proposed")
	_ = codec.Register[Hurry]("iss.Hurry")
	_ = codec.Register[StableCheckpoint]("iss.StableCheckpoint")
)

// OrdererID returns the module ID of the orderer of segment segment of
// epoch epoch, below the factory ordering: "ordering/<epoch>.<segment>".
// Orderers send their messages to the same ID on the other nodes.
func OrdererID(ordering stdtypes.ModuleID, epoch stdtypes.EpochNr, segment int) stdtypes.ModuleID {
	return ordering.Then(stdtypes.ModuleID(strconv.FormatUint(uint64(epoch), 10) + "." + strconv.Itoa(segment)))
}

// ParseOrdererName is the inverse of OrdererID for the last path segment
// of an orderer's ID ("<epoch>.<segment>"). ok is false for anything else,
// such as a name a peer made up: the canonical decimal forms only, so that
// one orderer has one name.
func ParseOrdererName(name stdtypes.ModuleID) (epoch stdtypes.EpochNr, segment int, ok bool) {
	e, s, found := strings.Cut(string(name), ".")
	if !found {
		return 0, 0, false
	}
	ev, err1 := strconv.ParseUint(e, 10, 64)
	sv, err2 := strconv.ParseUint(s, 10, 31)
	if err1 != nil || err2 != nil || strconv.FormatUint(ev, 10) != e || strconv.FormatUint(sv, 10) != s {
		return 0, 0, false
	}
	return stdtypes.EpochNr(ev), int(sv), true
}

// Segment is what one orderer orders: the slots of one leader in one epoch.
// ISS creates an orderer per segment through a factory
// (stdevents.NewSubmodule), with the Segment as its Params, and removes it
// by garbage collection (retention index: the epoch) once a stable
// checkpoint covers the epoch.
type Segment struct {
	// Epoch is the epoch the segment belongs to.
	Epoch stdtypes.EpochNr
	// Index is the segment's position among the epoch's segments: its
	// leader's position in the epoch's leader list.
	Index int
	// Leader is the node that proposes the segment's values in view 0.
	Leader stdtypes.NodeID
	// Voters are the epoch's membership: who takes part in ordering the
	// segment (every voter, not only the leaders), with their weights.
	Voters membership.Voters
	// SeqNrs are the segment's slots, increasing.
	SeqNrs []stdtypes.SeqNr
	// Buckets are the buckets of the request hash space whose requests the
	// leader may propose in this epoch, increasing.
	Buckets []int
}

// RequestProposal asks the proposer (in Trantor, availability) for a value
// to propose in slot SeqNr of a segment this node leads, restricted to the
// segment's Buckets. The answer is a Proposal to ReplyTo. A proposer that
// has nothing to propose may wait; the orderer proposes an empty value
// after its MaxProposeDelay anyway, or at once on a Hurry, and then sends
// the proposer a CancelProposal. An orderer asks for one slot at a time,
// in order.
type RequestProposal struct {
	stdtypes.Header
	ReplyTo stdtypes.ModuleID
	Epoch   stdtypes.EpochNr
	SeqNr   stdtypes.SeqNr
	Buckets []int
	// Voters are the epoch's membership (the segment's Voters): a
	// proposer that collects signatures (availability) asks them. It is
	// shared: the receiver must not modify it.
	Voters membership.Voters
}

// NewRequestProposal returns a RequestProposal to proposer.
func NewRequestProposal(proposer, replyTo stdtypes.ModuleID, epoch stdtypes.EpochNr, sn stdtypes.SeqNr, buckets []int) *RequestProposal {
	return &RequestProposal{Header: stdtypes.NewHeader(proposer), ReplyTo: replyTo, Epoch: epoch, SeqNr: sn, Buckets: buckets}
}

// CancelProposal tells the proposer that the orderer proposed slot SeqNr,
// which it had asked a value for, without one (on a Hurry, or after its
// MaxProposeDelay), or will not propose it (it left the view it leads):
// the proposer drops the RequestProposal of SeqNr if it
// holds it, and takes back the requests of its Proposal for SeqNr if it
// answered already (the orderer drops that Proposal, which crossed this
// event: its requests were proposed nowhere). Without it, a proposer
// would put the next request into a slot the orderer no longer takes, and
// the request would wait until that slot is delivered without it.
type CancelProposal struct {
	stdtypes.Header
	SeqNr stdtypes.SeqNr
}

// NewCancelProposal returns a CancelProposal of slot sn to proposer.
func NewCancelProposal(proposer stdtypes.ModuleID, sn stdtypes.SeqNr) *CancelProposal {
	return &CancelProposal{Header: stdtypes.NewHeader(proposer), SeqNr: sn}
}

// ProposalPending tells the orderer that the proposer has begun the value
// of slot SeqNr, which it asked for, and will answer with it soon: in
// Trantor, availability has a batch and is collecting its signatures. An
// orderer that has waited most of its MaxProposeDelay for a value (the
// proposer had nothing) would otherwise propose the slot empty just before
// the value comes, or on a Hurry, and the value would wait for the next
// slot, or the next epoch if this was the segment's last. The orderer
// waits for it instead, up to MaxProposeDelay more (so that a proposer
// that says so and never answers still holds up the log for a bounded
// time). Optional: a proposer that never sends it gets the plain
// MaxProposeDelay.
type ProposalPending struct {
	stdtypes.Header
	SeqNr stdtypes.SeqNr
}

// Proposal answers a RequestProposal: Value is what the orderer proposes
// for slot SeqNr. ISS orders values without looking into them.
type Proposal struct {
	stdtypes.Header
	SeqNr stdtypes.SeqNr
	Value []byte
}

// NewProposal returns a Proposal of value for slot sn, to the orderer dest.
func NewProposal(dest stdtypes.ModuleID, sn stdtypes.SeqNr, value []byte) *Proposal {
	return &Proposal{Header: stdtypes.NewHeader(dest), SeqNr: sn, Value: value}
}

// VerifyProposal asks the validator (in Trantor, availability, which checks
// a certificate) whether Value, which Leader proposed for slot SeqNr of a
// segment whose buckets are Buckets, may be ordered. The answer is a
// ProposalVerified to ReplyTo with the same Ref. An empty Value (what a
// leader proposes when it has nothing) is valid without asking.
type VerifyProposal struct {
	stdtypes.Header
	ReplyTo stdtypes.ModuleID
	// Ref is chosen by the orderer and returned unchanged.
	Ref     uint64
	Epoch   stdtypes.EpochNr
	SeqNr   stdtypes.SeqNr
	Leader  stdtypes.NodeID
	Buckets []int
	// Voters are the epoch's membership: a validator that checks
	// signatures in Value (availability's certificates) checks them
	// against it.
	Voters membership.Voters
	Value  []byte
}

// ProposalVerified answers a VerifyProposal: Err is empty if the value is
// valid, and says why not otherwise.
type ProposalVerified struct {
	stdtypes.Header
	Ref uint64
	Err string
}

// SBDeliver is an orderer's output, to ISS: slot SeqNr of segment
// (Epoch, Segment) holds Value, or nothing (⊥) if Aborted: the segment's
// leader failed and a view change filled the slot. An orderer delivers
// every slot of its segment exactly once; no two correct nodes' orderers
// deliver different outcomes for a slot.
type SBDeliver struct {
	stdtypes.Header
	Epoch   stdtypes.EpochNr
	Segment int
	SeqNr   stdtypes.SeqNr
	Value   []byte
	Aborted bool
}

// OrdererRecord is how an orderer persists what it must not forget across
// a crash: it appends to the WAL an OrdererRecord addressed to ISS, which
// owns the records of its orderers (so that it can truncate them at a
// stable checkpoint). At a restart ISS gets the records back before any
// input, creates the orderer of (Epoch, Segment) again if the epoch is
// still live, and hands it Event, an event addressed to that orderer.
type OrdererRecord struct {
	stdtypes.Header
	Epoch   stdtypes.EpochNr
	Segment int
	Event   stdtypes.Event
}

// Deliver is ISS's output, to the application: slot SeqNr of the log holds
// Value, or nothing (⊥) if Aborted. ISS delivers every slot exactly once,
// in order, with no gap; all correct nodes deliver the same log.
type Deliver struct {
	stdtypes.Header
	Epoch   stdtypes.EpochNr
	SeqNr   stdtypes.SeqNr
	Value   []byte
	Aborted bool
	// Leader is the leader of the slot's segment, and Buckets the buckets
	// it could propose from: an application that executes requests drops
	// those a Byzantine leader proposed outside its buckets. Buckets is
	// shared: the receiver must not modify it.
	Leader  stdtypes.NodeID
	Buckets []int
}

// SnapshotRequest asks the application for a snapshot of its state after
// the last slot of epoch Epoch (before slot SeqNr, the first of the next
// epoch), and for the membership it decides for epoch
// Epoch + ConfigOffset + 1. The answer is a Snapshot to ReplyTo.
type SnapshotRequest struct {
	stdtypes.Header
	ReplyTo stdtypes.ModuleID
	Epoch   stdtypes.EpochNr
	SeqNr   stdtypes.SeqNr
}

// Snapshot answers a SnapshotRequest. Data is the application's state, in
// whatever encoding it chooses (RestoreState hands it back). NextVoters is
// the membership of epoch Epoch + ConfigOffset + 1; empty keeps the
// membership of the epoch before it.
type Snapshot struct {
	stdtypes.Header
	Epoch      stdtypes.EpochNr
	Data       []byte
	NextVoters membership.Voters
}

// RestoreState tells the application to replace its state with Data, a
// snapshot taken after the last slot of epoch Epoch (state transfer, or a
// restart from the last stable checkpoint). Slots from SeqNr on follow.
type RestoreState struct {
	stdtypes.Header
	Epoch stdtypes.EpochNr
	SeqNr stdtypes.SeqNr
	Data  []byte
}

// Proposed tells ISS that an orderer accepted, in view 0, a non-empty
// proposal for slot SeqNr, or any proposal for the last slot of its
// segment (as the leader, or from the leader's PREPREPARE). ISS uses it to
// keep the log dense: the leaders of earlier slots should not hold them
// back for MaxProposeDelay (see Hurry); and once a segment has no slot
// left, the requests of its buckets wait for the next epoch, which the
// leaders of the epoch's last slots should not hold back either.
type Proposed struct {
	stdtypes.Header
	Epoch   stdtypes.EpochNr
	Segment int
	SeqNr   stdtypes.SeqNr
}

// Hurry tells an orderer of a segment this node leads that a later slot of
// the log (SeqNr) has a value, or that the epoch is to end (SeqNr is the
// first slot after it; see Proposed): every slot of the segment below
// SeqNr that is still waiting for a proposal is to be proposed now, with
// an empty value if the proposer has given none, except one whose value
// is pending (ProposalPending), which comes within MaxProposeDelay. Without
// it, a value in one segment waits for the empty proposals of the earlier
// slots of the other segments, up to MaxProposeDelay, before ISS can
// deliver it.
type Hurry struct {
	stdtypes.Header
	SeqNr stdtypes.SeqNr
}

// StableCheckpoint tells the application that the checkpoint of epoch
// Epoch is stable, and persisted: no node needs the slots below SeqNr
// again from this one, beyond what the checkpoint's state holds. The
// application (in Trantor, the batch fetcher, availability and the
// mempool) may drop what it kept for them.
type StableCheckpoint struct {
	stdtypes.Header
	Epoch stdtypes.EpochNr
	SeqNr stdtypes.SeqNr
}
