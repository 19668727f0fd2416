package pbft

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"

	"github.com/mirframework/mir/pkg/contextstore"
	"github.com/mirframework/mir/pkg/dsl"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/messagebuffer"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Orderer is the PBFT instance of one segment on one node: a passive
// module, written with package dsl. A factory (NewFactory) creates one per
// segment; NewOrderer builds one alone.
type Orderer struct {
	m *dsl.Module
	s *state
}

var (
	_ modules.PassiveModule   = (*Orderer)(nil)
	_ modules.MessageReceiver = (*Orderer)(nil)
	_ modules.StatsReporter   = (*Orderer)(nil)
)

// ReceivesMessages implements modules.MessageReceiver.
func (o *Orderer) ReceivesMessages() {}

// ApplyEvents handles a batch of events (see package dsl).
func (o *Orderer) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	return o.m.ApplyEvents(evs)
}

// Stats returns the orderer's counters. It is safe to call from any
// goroutine.
func (o *Orderer) Stats() Stats { return o.s.counters.stats(o.m.Stats()) }

// ReportStats returns Stats, so that a node includes them in its own.
func (o *Orderer) ReportStats() any { return o.Stats() }

// View returns the orderer's view and whether it is changing view (it
// sent a VIEWCHANGE for it and accepted no NEWVIEW yet). For tests and
// status pages; not safe while the node runs the orderer.
func (o *Orderer) View() (view uint64, changing bool) { return o.s.view, o.s.inViewChange }

// state is an orderer's state. The handlers share it.
type state struct {
	self   stdtypes.NodeID
	mc     ModuleConfig // Self is the orderer's own ID.
	params ModuleParams
	seg    iss.Segment
	m      *dsl.Module
	logger *logging.Logger

	// all are the voters' IDs, in the membership's order (messages go to
	// all of them, this node included: its own messages come back
	// through the reliablenet module once persisted, and only then
	// count); leaderIdx is the index of the segment's leader.
	all       []stdtypes.NodeID
	leaderIdx int
	// slots are the segment's slots, in its order; index maps a sequence
	// number to its position.
	slots []*slot
	index map[stdtypes.SeqNr]int
	// delivered counts the delivered slots.
	delivered int

	// view is the current view; inViewChange is set from the VIEWCHANGE
	// for it to the NEWVIEW accepted for it.
	view         uint64
	inViewChange bool
	// vcTimerSet tells whether the timer of the view being changed to
	// is set (see armViewChangeTimer).
	vcTimerSet bool
	// failedViews counts the views in a row without progress, which
	// double the view-change timeout; progress counts deliveries and
	// views, which make older timeouts stale.
	failedViews int
	progress    uint64
	// restored is set by the first record handed back after a restart.
	restored bool

	// The view-0 leader's part: requested is the position of the slot
	// whose value the proposer was asked for, -1 if none.
	requested int

	// The view change. vcs holds the highest VIEWCHANGE of each voter
	// whose signature verified; vcChecking the voters whose VIEWCHANGE is
	// being verified, and vcNext the highest that came meanwhile, to
	// verify next (one per voter: bounded).
	vcs        map[stdtypes.NodeID]*ViewChangeMsg
	vcChecking map[stdtypes.NodeID]bool
	vcNext     map[stdtypes.NodeID]*ViewChangeMsg
	// sentNewView is set once this node, the leader of view, sent its
	// NEWVIEW; nvChecking is the view of a NEWVIEW being verified, if
	// nvCheckingSet.
	sentNewView   bool
	nvChecking    uint64
	nvCheckingSet bool

	// Pending requests to other modules, and what their answers need.
	signing    contextstore.Store[signCtx]
	verifying  contextstore.Store[verifyCtx]
	validating contextstore.Store[validateCtx]

	// buffer holds the messages of views the node has not reached.
	buffer *messagebuffer.Buffer[stdtypes.Message]

	// Catch-up: dones holds each voter's DONE; agreed the digests a weak
	// quorum's DONEs agree on, once known, and agreedBy those voters.
	// donesChanged tells whether a DONE came since the last look.
	dones        map[stdtypes.NodeID][][]byte
	donesChanged bool
	agreed       [][]byte
	agreedBy     []stdtypes.NodeID
	doneSent     bool

	counters counters
}

// slot is a node's state of one slot of the segment.
type slot struct {
	sn stdtypes.SeqNr

	// In the current view: pp is the value pre-prepared (nil if none);
	// leaderVote tells whether the view's leader's PREPREPARE (or NEWVIEW)
	// arrived, which counts as its PREPARE; validating is set while the
	// validator checks a PREPREPARE's value; prepares and commits hold
	// each voter's digest; prepared is set once the COMMIT is decided.
	pp         *outcome
	leaderVote bool
	validating bool
	// refused is set once the validator refused the view leader's value:
	// it gets one value checked per slot and view.
	refused  bool
	prepares map[stdtypes.NodeID][]byte
	commits  map[stdtypes.NodeID][]byte
	prepared bool

	// proposed is set once the view-0 leader chose the slot's value (for
	// this node as the leader only).
	proposed bool
	// proposedSent is set once ISS was told of a non-empty value.
	proposedSent bool
	// pending is set once the proposer said the value of the slot it was
	// asked for is pending (iss.ProposalPending).
	pending bool

	// What a VIEWCHANGE reports: p, the highest view in which the slot
	// was prepared and its value (nil if never); q, for each digest
	// pre-prepared, the highest view.
	p      *Cert
	pValue *outcome
	q      []Cert

	// out is the delivered outcome, nil before.
	out *outcome
	// askedCatchUp is set once the node asked for the slot's outcome.
	askedCatchUp bool
}

// outcome is a slot's value, or ⊥, with its digest.
type outcome struct {
	value   []byte
	aborted bool
	digest  []byte
}

// signCtx is the VIEWCHANGE being signed.
type signCtx struct {
	view uint64
	vc   *ViewChangeMsg
}

// verifyCtx is a VIEWCHANGE's signature (vc) or a NEWVIEW's proof (nv)
// being verified.
type verifyCtx struct {
	from stdtypes.NodeID
	vc   *ViewChangeMsg
	nv   *NewViewMsg
}

// validateCtx is a PREPREPARE's value being validated.
type validateCtx struct {
	view uint64
	pos  int
	out  *outcome
}

// maxQPerSlot bounds the digests a VIEWCHANGE may report as pre-prepared
// for one slot. A correct node pre-prepares, for a slot, the view-0
// leader's value (one per node, though an equivocating leader may give
// each node another), ⊥, and values a NEWVIEW proposes again, each of
// which a correct node pre-prepared in view 0: so at most n + 1 digests.
func maxQPerSlot(n int) int { return n + 1 }

// NewOrderer returns the orderer of segment seg on node self; mc.Self is
// the orderer's own ID, which must be iss.OrdererID(factory, seg.Epoch,
// seg.Index) on every node. A nil logger logs nothing.
func NewOrderer(self stdtypes.NodeID, mc ModuleConfig, params ModuleParams, seg iss.Segment, logger *logging.Logger) (*Orderer, error) {
	if err := mc.Validate(); err != nil {
		return nil, fmt.Errorf("pbft: %w", err)
	}
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("pbft: %w", err)
	}
	if err := validateSegment(self, seg); err != nil {
		return nil, fmt.Errorf("pbft: segment %d of epoch %d: %w", seg.Index, seg.Epoch, err)
	}
	seg.Voters = slices.Clone(seg.Voters)
	seg.SeqNrs = slices.Clone(seg.SeqNrs)
	seg.Buckets = slices.Clone(seg.Buckets)
	buffer, err := messagebuffer.New[stdtypes.Message](seg.Voters.IDs(), messagebuffer.Limits{
		MessagesPerSenderMax: params.MsgBufferCount,
		BytesPerSenderMax:    params.MsgBufferBytes,
	})
	if err != nil {
		return nil, fmt.Errorf("pbft: %w", err)
	}
	s := &state{
		self:       self,
		mc:         mc,
		params:     params,
		seg:        seg,
		logger:     logger,
		all:        seg.Voters.IDs(),
		leaderIdx:  seg.Voters.Index(seg.Leader),
		index:      make(map[stdtypes.SeqNr]int, len(seg.SeqNrs)),
		requested:  -1,
		vcs:        make(map[stdtypes.NodeID]*ViewChangeMsg),
		vcChecking: make(map[stdtypes.NodeID]bool),
		vcNext:     make(map[stdtypes.NodeID]*ViewChangeMsg),
		buffer:     buffer,
		dones:      make(map[stdtypes.NodeID][][]byte),
	}
	for i, sn := range seg.SeqNrs {
		s.index[sn] = i
		s.slots = append(s.slots, newSlot(sn))
	}
	s.m = dsl.NewModule(mc.Self, dsl.WithLogger(logger))
	s.register()
	return &Orderer{m: s.m, s: s}, nil
}

func newSlot(sn stdtypes.SeqNr) *slot {
	return &slot{sn: sn, prepares: make(map[stdtypes.NodeID][]byte), commits: make(map[stdtypes.NodeID][]byte)}
}

// validateSegment checks the Segment ISS hands an orderer.
func validateSegment(self stdtypes.NodeID, seg iss.Segment) error {
	if err := seg.Voters.Validate(); err != nil {
		return err
	}
	switch {
	case !seg.Voters.Contains(self):
		return fmt.Errorf("node %q is not one of the voters", self)
	case !seg.Voters.Contains(seg.Leader):
		return fmt.Errorf("leader %q is not one of the voters", seg.Leader)
	case seg.Index < 0:
		return fmt.Errorf("negative segment index %d", seg.Index)
	case len(seg.SeqNrs) == 0 || len(seg.SeqNrs) > maxSegmentSlots:
		return fmt.Errorf("%d slots; want 1 to %d", len(seg.SeqNrs), maxSegmentSlots)
	}
	for i := 1; i < len(seg.SeqNrs); i++ {
		if seg.SeqNrs[i] <= seg.SeqNrs[i-1] {
			return fmt.Errorf("sequence numbers %v not increasing", seg.SeqNrs)
		}
	}
	return nil
}

// register registers the handlers, each under the line of docs/iss.md
// (section 3) it implements.
func (s *state) register() {
	m := s.m

	dsl.UponInit(m, s.onInit)

	// 1. Propose. The view-0 leader asks the proposer for a value
	// (iss.RequestProposal with the segment's buckets); if none comes
	// within MaxProposeDelay, it proposes an empty value. It persists the
	// proposal, then sends PREPREPARE(v, sn, value) to all.
	// A value the proposer says is pending (iss.ProposalPending) gets
	// MaxProposeDelay more, and is not proposed empty on a Hurry.
	dsl.UponEvent(m, s.onProposal)
	dsl.UponEvent(m, s.onProposalPending)
	dsl.UponEvent(m, s.onProposeTimeout)
	dsl.UponEvent(m, s.onHurry)

	// 2. Prepare. A node accepts the first PREPREPARE for (v, sn) from the
	// view's leader whose value the validator accepts; it persists it,
	// then sends PREPARE(v, sn, digest) to all.
	dsl.UponMessageReceived(m, s.onPrePrepare)
	dsl.UponEvent(m, s.onProposalVerified)
	dsl.UponMessageReceived(m, s.onPrepare)

	// 3. Commit. With the PREPREPARE and PREPAREs matching it from a
	// strong quorum, the slot is prepared: the node persists the prepared
	// certificate, then sends COMMIT(v, sn, digest).
	// 4. Deliver. With COMMITs matching it from a strong quorum, the slot
	// is committed and delivered to ISS.
	dsl.UponMessageReceived(m, s.onCommit)
	dsl.UponCondition(m, s.advanceSlots)

	// View change: if some slot is still not committed ViewChangeTimeout
	// after the segment started or last made progress, the node moves to
	// view v + 1 and sends a signed VIEWCHANGE(v + 1, P) to all.
	dsl.UponEvent(m, s.onViewChangeTimeout)
	dsl.UponEvent(m, s.onSignResult)
	dsl.UponMessageReceived(m, s.onViewChange)
	dsl.UponEvent(m, s.onVerifyResult)
	// A node that sees VIEWCHANGEs for views above its own from a weak
	// quorum joins the lowest of them.
	dsl.UponCondition(m, s.joinHigherView)
	// A node that changes view starts the new view's timer once it has
	// VIEWCHANGEs for it from a strong quorum; it doubles per failed view.
	dsl.UponCondition(m, s.armViewChangeTimer)
	// The leader of v + 1, with VIEWCHANGEs from a strong quorum, sends
	// NEWVIEW(v + 1, the VIEWCHANGEs, the PREPREPAREs).
	dsl.UponCondition(m, s.sendNewView)
	// Every node checks the proof, then runs the normal case for them.
	dsl.UponMessageReceived(m, s.onNewView)

	// Catch-up: DONE when every slot is committed; the slots a node lacks
	// it fetches from a weak quorum whose DONEs agree.
	dsl.UponMessageReceived(m, s.onDone)
	dsl.UponMessageReceived(m, s.onDoneRequest)
	dsl.UponMessageReceived(m, s.onCatchUpRequest)
	dsl.UponMessageReceived(m, s.onCatchUpResponse)
	dsl.UponCondition(m, s.catchUp)

	// Crash safety: a restarted orderer gets its records back before any
	// message and resumes from them.
	dsl.UponEvent(m, s.onPrePrepareRecord)
	dsl.UponEvent(m, s.onPreparedRecord)
	dsl.UponEvent(m, s.onViewRecord)
	dsl.UponEvent(m, s.onNewViewRecord)
}

// onInit starts the view-change timer and, at the view-0 leader, asks for
// the first value.
func (s *state) onInit() error {
	s.setViewChangeTimer()
	s.pump()
	return nil
}

// drop counts a dropped message and returns the error that makes package
// dsl drop and log it.
func (s *state) drop(r reason, format string, args ...any) error {
	s.counters.inc(r)
	return dsl.Drop(format, args...)
}

// leaderOf returns the leader of view.
func (s *state) leaderOf(view uint64) stdtypes.NodeID {
	n := uint64(len(s.all))
	return s.all[(uint64(s.leaderIdx)+view%n)%n]
}

// weightOf returns the weight of the voters in set.
func (s *state) weightOf(set []stdtypes.NodeID) uint64 { return s.seg.Voters.WeightOf(set) }

// digest returns the digest of a slot's outcome.
func (s *state) digest(sn stdtypes.SeqNr, value []byte, aborted bool) []byte {
	return ValueDigest(s.seg.Epoch, s.seg.Index, sn, value, aborted)
}

func (s *state) newOutcome(sn stdtypes.SeqNr, value []byte, aborted bool) *outcome {
	return &outcome{value: value, aborted: aborted, digest: s.digest(sn, value, aborted)}
}

// Message IDs for the reliablenet module: "<view>/<kind>/<sn>" for the
// messages of a view, so that one CancelPrefix ("<view>/") stops those
// of a view the node left; "done", "done/<i>", "dr", "cq/<sn>" and
// "cu/<i>/<sn>" for catch-up, i being a voter's index. An orderer is the
// only user of its module ID, so CancelPrefix with an empty prefix
// forgets all of an orderer's messages (ISS does that at garbage
// collection).
func viewPrefix(view uint64) reliablenet.MsgID {
	return reliablenet.MsgID(strconv.FormatUint(view, 10) + "/")
}

func viewMsgID(view uint64, kind string, sn stdtypes.SeqNr) reliablenet.MsgID {
	return viewPrefix(view) + reliablenet.MsgID(kind+"/"+strconv.FormatUint(uint64(sn), 10))
}

// sendEvent returns the event that sends msg reliably to the nodes.
func (s *state) sendEvent(id reliablenet.MsgID, msg stdtypes.Message, to ...stdtypes.NodeID) stdtypes.Event {
	return reliablenet.NewSendMessage(s.mc.ReliableNet, id, msg, stdevents.To(s.mc.Self, to...))
}

// resend sends msg again to one node, forgetting an earlier copy with the
// same ID still in flight.
func (s *state) resend(id reliablenet.MsgID, msg stdtypes.Message, to stdtypes.NodeID) {
	dsl.EmitEvent(s.m, reliablenet.NewCancel(s.mc.ReliableNet, s.mc.Self, id))
	dsl.EmitEvent(s.m, s.sendEvent(id, msg, to))
}

// persistThen emits record's Append to the WAL with then as its
// follow-ups, or then alone without a WAL. The record goes through ISS,
// which owns its orderers' records (docs/iss.md, section 6); the
// retention index is the epoch, which ISS truncates at a stable
// checkpoint.
func (s *state) persistThen(record stdtypes.Event, then ...stdtypes.Event) {
	if s.mc.WAL == "" {
		dsl.EmitEvents(s.m, then...)
		return
	}
	wrapped := &iss.OrdererRecord{Header: stdtypes.NewHeader(s.mc.ISS), Epoch: s.seg.Epoch, Segment: s.seg.Index, Event: record}
	dsl.EmitEvent(s.m, stdtypes.WithFollowUps(wal.NewAppend(s.mc.WAL, wrapped, stdtypes.RetentionIndex(s.seg.Epoch)), then...))
}

// setViewChangeTimer sets the timeout of the current view, unless every
// slot is delivered.
func (s *state) setViewChangeTimer() {
	if s.delivered == len(s.slots) {
		return
	}
	d := s.params.viewChangeTimeout(s.failedViews)
	dsl.EmitEvent(s.m, stdevents.NewTimerDelay(s.mc.Timer, d, &ViewChangeTimeout{Header: stdtypes.NewHeader(s.mc.Self), Progress: s.progress}))
}

// --- 1. Propose ---

// leadsProposals tells whether this node proposes values now: it leads
// the segment and is in view 0.
func (s *state) leadsProposals() bool {
	return s.self == s.seg.Leader && s.view == 0 && !s.inViewChange
}

// pump asks the proposer for the value of the next slot not proposed, if
// none is asked for: one at a time, the next as soon as the previous one
// is proposed.
func (s *state) pump() {
	if !s.leadsProposals() || s.requested >= 0 {
		return
	}
	for i, sl := range s.slots {
		if sl.proposed {
			continue
		}
		s.requested = i
		rp := iss.NewRequestProposal(s.mc.Proposer, s.mc.Self, s.seg.Epoch, sl.sn, slices.Clone(s.seg.Buckets))
		rp.Voters = s.seg.Voters // Never modified: NewOrderer cloned it.
		dsl.EmitEvent(s.m, rp)
		dsl.EmitEvent(s.m, stdevents.NewTimerDelay(s.mc.Timer, s.params.MaxProposeDelay,
			&ProposeTimeout{Header: stdtypes.NewHeader(s.mc.Self), SeqNr: sl.sn}))
		return
	}
}

// onProposal proposes the proposer's value, unless the slot was proposed
// meanwhile.
func (s *state) onProposal(p *iss.Proposal) error {
	i, ok := s.index[p.SeqNr]
	switch {
	case !ok:
		return fmt.Errorf("iss.Proposal for slot %d, not one of the segment's", p.SeqNr)
	case len(p.Value) > s.params.MaxValueBytes:
		return fmt.Errorf("iss.Proposal of %d bytes for slot %d; MaxValueBytes is %d", len(p.Value), p.SeqNr, s.params.MaxValueBytes)
	case s.self != s.seg.Leader:
		return fmt.Errorf("iss.Proposal for slot %d of a segment led by %s", p.SeqNr, s.seg.Leader)
	case s.slots[i].proposed || !s.leadsProposals():
		s.counters.inc(rLateProposals)
		return nil
	case s.requested != i:
		return fmt.Errorf("iss.Proposal for slot %d, which was not requested", p.SeqNr)
	}
	s.requested = -1
	s.propose(i, p.Value)
	s.pump()
	return nil
}

// onProposalPending gives a slot whose value the proposer has begun
// MaxProposeDelay more from now (a second ProposeTimeout, Extended), once:
// proposing it empty now would make its value wait for the next slot, or
// the next epoch.
func (s *state) onProposalPending(ev *iss.ProposalPending) error {
	i, ok := s.index[ev.SeqNr]
	switch {
	case !ok:
		return fmt.Errorf("iss.ProposalPending for slot %d, not one of the segment's", ev.SeqNr)
	case s.self != s.seg.Leader:
		return fmt.Errorf("iss.ProposalPending for slot %d of a segment led by %s", ev.SeqNr, s.seg.Leader)
	case s.requested != i || s.slots[i].pending || !s.leadsProposals():
		// Proposed meanwhile (it crossed a CancelProposal), or said twice.
		return nil
	}
	s.slots[i].pending = true
	dsl.EmitEvent(s.m, stdevents.NewTimerDelay(s.mc.Timer, s.params.MaxProposeDelay,
		&ProposeTimeout{Header: stdtypes.NewHeader(s.mc.Self), SeqNr: ev.SeqNr, Extended: true}))
	return nil
}

// onProposeTimeout proposes an empty value if the proposer gave none in
// time: within MaxProposeDelay of the request, or of its ProposalPending.
func (s *state) onProposeTimeout(ev *ProposeTimeout) error {
	i, ok := s.index[ev.SeqNr]
	if !ok {
		return fmt.Errorf("ProposeTimeout for slot %d, not one of the segment's", ev.SeqNr)
	}
	if !s.leadsProposals() || s.slots[i].proposed || (s.slots[i].pending && !ev.Extended) {
		return nil
	}
	s.withdraw(i)
	s.propose(i, nil)
	s.pump()
	return nil
}

// onHurry proposes an empty value for every slot below Hurry.SeqNr that
// has none yet: a later slot of the log has a value, which these would
// hold back. A pending value is not given up: it comes within
// MaxProposeDelay, about when the later slot is committed, where the
// empty slot would make it wait for the segment's next slot.
func (s *state) onHurry(h *iss.Hurry) error {
	if s.self != s.seg.Leader {
		return fmt.Errorf("iss.Hurry for a segment led by %s", s.seg.Leader)
	}
	if !s.leadsProposals() {
		return nil
	}
	for i, sl := range s.slots {
		if sl.sn >= h.SeqNr {
			break
		}
		if sl.proposed || (sl.pending && s.requested == i) {
			continue
		}
		s.withdraw(i)
		s.propose(i, nil)
	}
	s.pump()
	return nil
}

// withdraw stops waiting for the proposer's value for slot i, if it was
// asked for: the leader proposes the slot without it. The proposer drops
// the request, or takes back the requests of an answer on its way, which
// onProposal drops (iss.CancelProposal).
func (s *state) withdraw(i int) {
	if s.requested != i {
		return
	}
	s.requested = -1
	dsl.EmitEvent(s.m, iss.NewCancelProposal(s.mc.Proposer, s.slots[i].sn))
}

// propose persists the leader's value for slot i, then sends the
// PREPREPARE to all. The leader's PREPREPARE counts as its PREPARE once it
// comes back, persisted.
func (s *state) propose(i int, value []byte) {
	sl := s.slots[i]
	sl.proposed = true
	out := s.newOutcome(sl.sn, value, false)
	sl.pp = out
	addQ(sl, 0, out.digest, maxQPerSlot(len(s.all)))
	s.told(sl, value)
	rec := &PrePrepareRecord{Header: stdtypes.NewHeader(s.mc.Self), View: 0, SeqNr: sl.sn, Value: value}
	s.persistThen(rec, s.sendEvent(viewMsgID(0, "pp", sl.sn), &PrePrepareMsg{View: 0, SeqNr: sl.sn, Value: value}, s.all...))
}

// told tells ISS of a value accepted for sl in view 0, once: a non-empty
// one, or any for the segment's last slot, after which its leader has no
// slot left in the epoch (iss.Proposed).
func (s *state) told(sl *slot, value []byte) {
	last := sl == s.slots[len(s.slots)-1]
	if (len(value) == 0 && !last) || sl.proposedSent {
		return
	}
	sl.proposedSent = true
	dsl.EmitEvent(s.m, &iss.Proposed{Header: stdtypes.NewHeader(s.mc.ISS), Epoch: s.seg.Epoch, Segment: s.seg.Index, SeqNr: sl.sn})
}

// --- 2. Prepare ---

// viewClass is where a message's view stands against the node's.
type viewClass int

const (
	viewPast    viewClass = iota // A view the node left: dropped.
	viewCurrent                  // The view the node runs.
	viewFuture                   // A view the node has not reached (or whose NEWVIEW it lacks): buffered.
)

func (s *state) classify(view uint64) viewClass {
	switch {
	case view < s.view:
		return viewPast
	case view > s.view || s.inViewChange:
		return viewFuture
	}
	return viewCurrent
}

// checkSlotMsg validates what PREPREPARE, PREPARE and COMMIT share, and
// buffers those of later views. It returns the slot, or nil if the message
// is buffered or dropped (then with the error that drops it).
func (s *state) checkSlotMsg(from stdtypes.NodeID, view uint64, sn stdtypes.SeqNr, msg stdtypes.Message, sizeBytes int) (*slot, error) {
	i, err := s.voterSlot(from, sn)
	if err != nil {
		return nil, err
	}
	switch s.classify(view) {
	case viewPast:
		return nil, s.drop(rStale, "view %d; the node is in view %d", view, s.view)
	case viewFuture:
		if err := s.buffer.Store(from, msg, sizeBytes); err != nil {
			return nil, s.drop(rBufferFull, "view %d: %v", view, err)
		}
		s.counters.inc(rBuffered)
		return nil, nil
	}
	return s.slots[i], nil
}

// voterSlot checks that a message about slot sn comes from a voter and
// that the slot is one of the segment's, and returns its position.
func (s *state) voterSlot(from stdtypes.NodeID, sn stdtypes.SeqNr) (int, error) {
	i, ok := s.index[sn]
	switch {
	case !s.seg.Voters.Contains(from):
		return 0, s.drop(rUnknownSender, "from %s, not a voter", from)
	case !ok:
		return 0, s.drop(rBadSlot, "slot %d is not one of the segment's", sn)
	}
	return i, nil
}

// msgOverheadBytes is what a message costs in the buffer beyond its
// value or digest: a generous bound on its other fields.
const msgOverheadBytes = 64

// onPrePrepare accepts the leader's first PREPREPARE for a slot, once the
// validator accepts its value.
func (s *state) onPrePrepare(from stdtypes.NodeID, msg *PrePrepareMsg) error {
	if len(msg.Value) > s.params.MaxValueBytes {
		return s.drop(rOversize, "PREPREPARE value of %d bytes", len(msg.Value))
	}
	sl, err := s.checkSlotMsg(from, msg.View, msg.SeqNr, msg, len(msg.Value)+msgOverheadBytes)
	if sl == nil {
		return err
	}
	switch {
	case msg.View != 0 || msg.Aborted:
		// Later views propose in their NEWVIEW only, and ⊥ only there.
		return s.drop(rMalformed, "PREPREPARE outside view 0, or of ⊥")
	case from != s.leaderOf(msg.View):
		return s.drop(rNotLeader, "PREPREPARE from %s; view %d is led by %s", from, msg.View, s.leaderOf(msg.View))
	case from == s.self:
		// This node's own proposal, persisted: the leader's vote counts.
		sl.leaderVote = true
		return nil
	case sl.pp != nil || sl.validating || sl.refused:
		if sl.pp != nil && bytes.Equal(sl.pp.digest, s.digest(msg.SeqNr, msg.Value, false)) {
			return s.drop(rDuplicate, "PREPREPARE for slot %d again", msg.SeqNr)
		}
		return s.drop(rEquivocation, "a second PREPREPARE for slot %d in view %d", msg.SeqNr, msg.View)
	}
	out := s.newOutcome(msg.SeqNr, msg.Value, false)
	if len(msg.Value) == 0 {
		// An empty value is valid without asking.
		s.acceptPrePrepare(sl, out)
		return nil
	}
	sl.validating = true
	ref := s.validating.Store(validateCtx{view: msg.View, pos: s.index[msg.SeqNr], out: out})
	dsl.EmitEvent(s.m, &iss.VerifyProposal{
		Header: stdtypes.NewHeader(s.mc.Validator), ReplyTo: s.mc.Self, Ref: ref,
		Epoch: s.seg.Epoch, SeqNr: msg.SeqNr, Leader: from, Buckets: slices.Clone(s.seg.Buckets), Voters: slices.Clone(s.seg.Voters),
		Value: msg.Value,
	})
	return nil
}

// onProposalVerified accepts a PREPREPARE whose value the validator
// accepted, if the node is still in its view.
func (s *state) onProposalVerified(ev *iss.ProposalVerified) error {
	ctx, ok := s.validating.Recover(ev.Ref)
	if !ok {
		return fmt.Errorf("iss.ProposalVerified with unknown Ref %d", ev.Ref)
	}
	if ctx.view != s.view || s.inViewChange {
		return nil // The node left the view meanwhile.
	}
	sl := s.slots[ctx.pos]
	sl.validating = false
	if ev.Err != "" {
		sl.refused = true
		s.counters.inc(rInvalidValue)
		s.m.Logger().LogAttrs(logging.LevelDebug, "pbft: invalid value", logAttrs(s, sl.sn, ev.Err)...)
		return nil
	}
	s.acceptPrePrepare(sl, ctx.out)
	return nil
}

// acceptPrePrepare pre-prepares the leader's value for sl in the current
// view: it persists it, then sends its PREPARE to all.
func (s *state) acceptPrePrepare(sl *slot, out *outcome) {
	sl.pp, sl.leaderVote = out, true
	addQ(sl, s.view, out.digest, maxQPerSlot(len(s.all)))
	s.told(sl, out.value)
	rec := &PrePrepareRecord{Header: stdtypes.NewHeader(s.mc.Self), View: s.view, SeqNr: sl.sn, Value: out.value, Aborted: out.aborted}
	s.persistThen(rec, s.prepareEvent(sl))
}

// prepareEvent returns the event that sends this node's PREPARE for sl.
func (s *state) prepareEvent(sl *slot) stdtypes.Event {
	return s.sendEvent(viewMsgID(s.view, "p", sl.sn), &PrepareMsg{View: s.view, SeqNr: sl.sn, Digest: sl.pp.digest}, s.all...)
}

// onPrepare counts a PREPARE.
func (s *state) onPrepare(from stdtypes.NodeID, msg *PrepareMsg) error {
	if from == s.leaderOf(msg.View) {
		return s.drop(rMalformed, "PREPARE from the leader of view %d", msg.View)
	}
	return s.onVote(from, msg.View, msg.SeqNr, msg.Digest, msg, "PREPARE")
}

// onCommit counts a COMMIT.
func (s *state) onCommit(from stdtypes.NodeID, msg *CommitMsg) error {
	return s.onVote(from, msg.View, msg.SeqNr, msg.Digest, msg, "COMMIT")
}

// onVote validates a PREPARE or a COMMIT (kind) and records it.
func (s *state) onVote(from stdtypes.NodeID, view uint64, sn stdtypes.SeqNr, digest []byte, msg stdtypes.Message, kind string) error {
	if len(digest) != digestSize {
		return s.drop(rMalformed, "%s with a digest of %d bytes", kind, len(digest))
	}
	sl, err := s.checkSlotMsg(from, view, sn, msg, digestSize+msgOverheadBytes)
	if sl == nil {
		return err
	}
	votes := sl.commits
	if kind == "PREPARE" {
		votes = sl.prepares
	}
	return s.vote(votes, from, digest, kind)
}

// vote records from's vote for digest, its first.
func (s *state) vote(votes map[stdtypes.NodeID][]byte, from stdtypes.NodeID, digest []byte, kind string) error {
	if prev, ok := votes[from]; ok {
		if bytes.Equal(prev, digest) {
			return s.drop(rDuplicate, "%s again", kind)
		}
		return s.drop(rEquivocation, "a second %s with another digest", kind)
	}
	votes[from] = slices.Clone(digest)
	return nil
}

// --- 3. Commit, 4. Deliver ---

// advanceSlots prepares and commits what the votes allow, at the end of
// each batch.
func (s *state) advanceSlots() error {
	if s.inViewChange {
		return nil
	}
	for _, sl := range s.slots {
		if sl.pp == nil {
			continue
		}
		if !sl.prepared && sl.leaderVote && s.quorumFor(sl.prepares, sl.pp.digest, s.leaderOf(s.view), true) {
			s.prepare(sl)
		}
		if sl.out == nil && s.quorumFor(sl.commits, sl.pp.digest, "", true) {
			s.deliver(sl, sl.pp, false)
		}
	}
	return nil
}

// quorumFor tells whether the voters whose vote is digest, with extra if
// not empty, have a strong (or, if !strong, a weak) quorum's weight.
func (s *state) quorumFor(votes map[stdtypes.NodeID][]byte, digest []byte, extra stdtypes.NodeID, strong bool) bool {
	var w uint64
	for _, id := range s.all {
		if d, ok := votes[id]; (ok && bytes.Equal(d, digest)) || id == extra {
			v, _ := s.seg.Voters.Weight(id)
			w += v
		}
	}
	if strong {
		return s.seg.Voters.IsStrongQuorum(w)
	}
	return s.seg.Voters.IsWeakQuorum(w)
}

// prepare persists sl's prepared certificate, then sends the COMMIT.
func (s *state) prepare(sl *slot) {
	sl.prepared = true
	sl.p = &Cert{SeqNr: sl.sn, View: s.view, Digest: sl.pp.digest}
	sl.pValue = sl.pp
	rec := &PreparedRecord{Header: stdtypes.NewHeader(s.mc.Self), View: s.view, SeqNr: sl.sn, Digest: sl.pp.digest}
	s.persistThen(rec, s.commitEvent(sl))
}

func (s *state) commitEvent(sl *slot) stdtypes.Event {
	return s.sendEvent(viewMsgID(s.view, "c", sl.sn), &CommitMsg{View: s.view, SeqNr: sl.sn, Digest: sl.pp.digest}, s.all...)
}

// deliver hands sl's outcome to ISS, once; with every slot delivered, the
// node sends its DONE.
func (s *state) deliver(sl *slot, out *outcome, caughtUp bool) {
	sl.out = out
	s.delivered++
	s.counters.inc(rDelivered)
	if out.aborted {
		s.counters.inc(rAborted)
	}
	if caughtUp {
		s.counters.inc(rCaughtUp)
	}
	dsl.EmitEvent(s.m, &iss.SBDeliver{
		Header: stdtypes.NewHeader(s.mc.ISS), Epoch: s.seg.Epoch, Segment: s.seg.Index,
		SeqNr: sl.sn, Value: out.value, Aborted: out.aborted,
	})
	s.progress++
	s.failedViews = 0
	if s.inViewChange {
		s.vcTimerSet = false // The progress made its timer stale: armed again.
	} else {
		s.setViewChangeTimer()
	}
	if s.delivered == len(s.slots) && !s.doneSent {
		s.doneSent = true
		s.sendToOthers("done", s.doneMsg())
	}
}

// sendToOthers sends msg to the voters other than this node, if there
// are any: a segment of one voter has no one to tell, and reliablenet
// refuses a message without destinations.
func (s *state) sendToOthers(id reliablenet.MsgID, msg stdtypes.Message) {
	if others := s.others(); len(others) > 0 {
		dsl.EmitEvent(s.m, s.sendEvent(id, msg, others...))
	}
}

// others returns the voters other than this node.
func (s *state) others() []stdtypes.NodeID {
	return slices.DeleteFunc(slices.Clone(s.all), func(id stdtypes.NodeID) bool { return id == s.self })
}

// addQ records that digest was pre-prepared for sl in view, keeping at
// most maxQ digests (see maxQPerSlot; a correct node never has more).
func addQ(sl *slot, view uint64, digest []byte, maxQ int) {
	for i := range sl.q {
		if bytes.Equal(sl.q[i].Digest, digest) {
			sl.q[i].View = max(sl.q[i].View, view)
			return
		}
	}
	if len(sl.q) < maxQ {
		sl.q = append(sl.q, Cert{SeqNr: sl.sn, View: view, Digest: digest})
	}
}

// logAttrs returns the attributes of a log line about slot sn.
func logAttrs(s *state, sn stdtypes.SeqNr, reason string) []slog.Attr {
	return []slog.Attr{
		slog.String("orderer", string(s.mc.Self)),
		slog.Uint64("seqNr", uint64(sn)),
		slog.String("reason", reason),
	}
}

// errDropped tells whether err only drops a message (see dsl.Drop).
func errDropped(err error) bool { return errors.Is(err, dsl.ErrDropped) }
