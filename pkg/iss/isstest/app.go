package isstest

import (
	"errors"
	"fmt"
	"slices"

	"github.com/mirframework/mir/pkg/codec"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

var _ = codec.Register[Submit]("isstest.Submit")

// Submit hands the App a client's request, as a client would: the test
// injects it into one node or several (Driver does).
type Submit struct {
	stdtypes.Header
	Client  string
	Seq     uint64
	Payload []byte
}

// NewSubmit returns a Submit of request (client, seq) with payload, to the
// App dest.
func NewSubmit(dest stdtypes.ModuleID, client string, seq uint64, payload []byte) *Submit {
	return &Submit{Header: stdtypes.NewHeader(dest), Client: client, Seq: seq, Payload: payload}
}

// Request returns the submitted request.
func (s *Submit) Request() Request {
	return Request{RequestID: RequestID{Client: s.Client, Seq: s.Seq}, Payload: s.Payload}
}

// ReportKind says what a Report tells.
type ReportKind int

// The kinds of Report.
const (
	// Submitted: the App got a Submit of Request; Rejected says why it
	// did not keep it, if it did not.
	Submitted ReportKind = iota + 1
	// Delivered: the App executed slot SeqNr.
	Delivered
	// Restored: the App took a state (RestoreState) whose next slot is
	// SeqNr.
	Restored
)

// String names the kind in reports and failure messages.
func (k ReportKind) String() string {
	switch k {
	case Submitted:
		return "submitted"
	case Delivered:
		return "delivered"
	case Restored:
		return "restored"
	}
	return fmt.Sprintf("ReportKind(%d)", int(k))
}

// Report is what an App tells its observer (Params.Observer). Its byte
// slices may share the memory of the events the App got, which nobody
// modifies: the observer keeps them, and does not modify them either.
type Report struct {
	Kind ReportKind
	// Node and Incarnation are the App's (Params).
	Node        stdtypes.NodeID
	Incarnation int

	// Request is the submitted request (Submitted), and Rejected why the
	// App did not keep it: "" if it did.
	Request  Request
	Rejected string

	// Epoch and SeqNr are the delivered slot's (Delivered), or the
	// restored state's epoch and next slot (Restored).
	Epoch stdtypes.EpochNr
	SeqNr stdtypes.SeqNr
	// Aborted is set for a slot that holds ⊥; Value is the slot's value
	// otherwise.
	Aborted bool
	Value   []byte
	// Invalid says why Value is not a batch of this package, if it is not:
	// the App executed nothing of it. No correct node should see one,
	// since a value is ordered only if correct nodes validated it.
	Invalid string
	// Executed are the requests the App executed in the slot, in order:
	// the batch without the requests executed before (or twice in it),
	// those beyond their client's window and those of clients beyond
	// MaxClients, which Dropped counts.
	Executed []Request
	Dropped  int
	// Chain is the link of the log's hash chain after the slot
	// (Delivered) or before slot SeqNr (Restored).
	Chain Digest
}

// Stats counts what the App refused or dropped, by reason.
type Stats struct {
	// Submits refused: already executed, already pending, beyond the
	// client's window, pending set full, too many clients.
	SubmitExecuted, SubmitPending, SubmitBeyondWindow, SubmitPendingFull, SubmitTooManyClients uint64
	// Proposals verified, and those found invalid.
	Verified, VerifyInvalid uint64
	// Delivered values that were no valid batch, and requests of
	// delivered batches not executed.
	DeliveredInvalid, DeliveredDropped uint64
	// RequestProposals for slots already delivered, and those dropped
	// from a full held list.
	StaleRequests, HeldDropped uint64
	// CancelProposals that found their RequestProposal held, and the
	// requests they took back from an answer the orderer dropped.
	Cancelled, TakenBack uint64
	// StableEpoch is the epoch of the latest stable checkpoint ISS
	// reported (iss.StableCheckpoint), if StableCheckpoints counts any.
	StableCheckpoints uint64
	StableEpoch       stdtypes.EpochNr
}

// pendingState says where a pending request is.
type pendingState uint8

const (
	// queued: in its bucket's queue, to propose.
	queued pendingState = iota
	// inFlight: in a proposal of this node's, not yet delivered.
	inFlight
	// gone: executed or dropped; entries of queues that point to it are
	// skipped.
	gone
)

// pendingReq is a request the App holds until it is executed.
type pendingReq struct {
	req    Request
	bucket int
	// arrival numbers the requests in the order they were submitted: the
	// order in which the App proposes them.
	arrival uint64
	state   pendingState
}

// App is the proposer, the validator and the application of one node in
// ISS's tests: a deterministic passive module (see the package's doc).
type App struct {
	params Params
	lim    Limits
	// st is the replicated state.
	st state
	// pending holds the submitted requests not yet executed, each once.
	pending map[RequestID]*pendingReq
	// queues holds, per bucket, the queued requests in order of arrival;
	// entries that are no longer queued are skipped when they reach the
	// head (dead counts them, to compact the queues).
	queues   [][]*pendingReq
	dead     int
	arrivals uint64
	// inFlight holds, per slot, the requests this node proposed for it,
	// queued again if the slot is delivered without them.
	inFlight map[stdtypes.SeqNr][]*pendingReq
	// held are the RequestProposals waiting for a request, oldest first.
	held  []*iss.RequestProposal
	stats Stats
}

var _ modules.PassiveModule = (*App)(nil)

// New returns the App with the given parameters, with the state of a log
// of which nothing is delivered.
func New(params Params) (*App, error) {
	if err := params.Validate(); err != nil {
		return nil, err
	}
	params.Memberships = slices.Clone(params.Memberships)
	return &App{
		params:   params,
		lim:      params.limits(),
		st:       newState(),
		pending:  make(map[RequestID]*pendingReq),
		queues:   make([][]*pendingReq, params.NumBuckets),
		inFlight: make(map[stdtypes.SeqNr][]*pendingReq),
	}, nil
}

// Stats returns the App's counters.
func (a *App) Stats() Stats { return a.stats }

// NextSeqNr returns the slot the App executes next.
func (a *App) NextSeqNr() stdtypes.SeqNr { return a.st.next }

// Pending returns the number of requests the App holds.
func (a *App) Pending() int { return len(a.pending) }

// Executed reports whether the App's state holds request id as executed.
func (a *App) Executed(id RequestID) bool { return a.st.executed(id) }

// ApplyEvents handles the requests of the test (Submit), of the orderers
// (RequestProposal, CancelProposal, VerifyProposal) and of ISS (Deliver, SnapshotRequest,
// RestoreState, StableCheckpoint).
func (a *App) ApplyEvents(events *stdtypes.EventList) (*stdtypes.EventList, error) {
	return modules.ApplyAllFunc(events, a.apply)
}

func (a *App) apply(ev stdtypes.Event) (*stdtypes.EventList, error) {
	var out *stdtypes.EventList
	var err error
	switch ev := ev.(type) {
	case *stdevents.Init:
	case *Submit:
		out, err = a.submit(ev)
	case *iss.RequestProposal:
		out, err = a.requestProposal(ev)
	case *iss.CancelProposal:
		out = a.cancelProposal(ev)
	case *iss.VerifyProposal:
		out, err = a.verifyProposal(ev)
	case *iss.Deliver:
		out, err = a.deliver(ev)
	case *iss.SnapshotRequest:
		out, err = a.snapshot(ev)
	case *iss.RestoreState:
		out, err = a.restore(ev)
	case *iss.StableCheckpoint:
		// The App keeps no history to collect: its state bounds what it
		// remembers of each client (ClientWindow). It counts them, for
		// the tests.
		a.stats.StableCheckpoints++
		a.stats.StableEpoch = max(a.stats.StableEpoch, ev.Epoch)
	case nil:
		return nil, errors.New("isstest: nil event")
	default:
		return nil, fmt.Errorf("isstest: unexpected event %s", stdtypes.TypeName(ev))
	}
	if err != nil {
		return nil, fmt.Errorf("isstest: %s: %w", stdtypes.TypeName(ev), err)
	}
	return out, nil
}

// report hands r to the observer, if there is one.
func (a *App) report(r Report) {
	if a.params.Observer != nil {
		r.Node, r.Incarnation = a.params.Node, a.params.Incarnation
		a.params.Observer(r)
	}
}

// submit takes a client's request into the pending set, and answers the
// held RequestProposals that may propose it now.
func (a *App) submit(ev *Submit) (*stdtypes.EventList, error) {
	req := ev.Request()
	switch {
	case req.Client == "" || len(req.Client) > a.params.MaxClientBytes:
		return nil, fmt.Errorf("client ID of %d bytes, want 1 to %d", len(req.Client), a.params.MaxClientBytes)
	case len(req.Payload) > a.params.MaxPayloadBytes:
		return nil, fmt.Errorf("payload of %d bytes, at most %d", len(req.Payload), a.params.MaxPayloadBytes)
	case req.Seq > MaxSeq:
		return nil, fmt.Errorf("sequence number %d above %d", req.Seq, uint64(MaxSeq))
	}
	req.Payload = slices.Clone(req.Payload)
	rejected := a.admit(req)
	a.report(Report{Kind: Submitted, Request: req, Rejected: rejected})
	if rejected != "" {
		return nil, nil
	}
	return a.answerHeld(), nil
}

// answerHeld answers the held RequestProposals, oldest first, that can be
// answered now: a request arrived, or one in flight came back.
func (a *App) answerHeld() *stdtypes.EventList {
	var out *stdtypes.EventList
	a.held = slices.DeleteFunc(a.held, func(rp *iss.RequestProposal) bool {
		p := a.propose(rp)
		if p == nil {
			return false
		}
		if out == nil {
			out = stdtypes.EmptyList()
		}
		out.PushBack(p)
		return true
	})
	return out
}

// admit adds req to the pending set, or returns why not.
func (a *App) admit(req Request) (rejected string) {
	switch {
	case a.st.executed(req.RequestID):
		a.stats.SubmitExecuted++
		return "executed"
	case a.pending[req.RequestID] != nil:
		a.stats.SubmitPending++
		return "pending"
	case !a.st.inWindow(req.RequestID, a.params.ClientWindow):
		a.stats.SubmitBeyondWindow++
		return "beyond the client's window"
	case len(a.pending) >= a.params.MaxPending:
		a.stats.SubmitPendingFull++
		return "pending set full"
	case !a.st.knows(req.Client) && len(a.st.clients) >= a.params.MaxClients:
		a.stats.SubmitTooManyClients++
		return "too many clients"
	}
	p := &pendingReq{req: req, bucket: BucketOf(req.RequestID, a.params.NumBuckets), arrival: a.arrivals}
	a.arrivals++
	a.pending[req.RequestID] = p
	a.queues[p.bucket] = append(a.queues[p.bucket], p)
	return ""
}

// requestProposal answers a RequestProposal with a batch of the pending
// requests of its buckets, or holds it until there is one.
func (a *App) requestProposal(ev *iss.RequestProposal) (*stdtypes.EventList, error) {
	if err := ev.ReplyTo.Validate(); err != nil {
		return nil, fmt.Errorf("ReplyTo: %w", err)
	}
	if err := a.checkBuckets(ev.Buckets); err != nil {
		return nil, err
	}
	if ev.SeqNr < a.st.next {
		a.stats.StaleRequests++
		return nil, nil
	}
	if p := a.propose(ev); p != nil {
		return stdtypes.ListOf(p), nil
	}
	if len(a.held) >= a.params.MaxHeldProposals {
		a.held = slices.Delete(a.held, 0, 1)
		a.stats.HeldDropped++
	}
	a.held = append(a.held, ev)
	return nil, nil
}

// cancelProposal forgets the RequestProposal of a slot its orderer
// proposed without this App's value: it drops it if held, or queues again
// the requests of the answer, which the orderer dropped; then answers the
// held RequestProposals these requests make answerable.
func (a *App) cancelProposal(ev *iss.CancelProposal) *stdtypes.EventList {
	a.held = slices.DeleteFunc(a.held, func(rp *iss.RequestProposal) bool {
		if rp.SeqNr != ev.SeqNr {
			return false
		}
		a.stats.Cancelled++
		return true
	})
	for _, p := range a.inFlight[ev.SeqNr] {
		if p.state == inFlight {
			a.requeue(p)
			a.stats.TakenBack++
		}
	}
	delete(a.inFlight, ev.SeqNr)
	return a.answerHeld()
}

// checkBuckets checks the buckets ISS handed in: valid and increasing
// (iss.Segment.Buckets).
func (a *App) checkBuckets(buckets []int) error {
	for i, b := range buckets {
		if b < 0 || b >= a.params.NumBuckets || (i > 0 && b <= buckets[i-1]) {
			return fmt.Errorf("buckets %v: want increasing buckets below %d", buckets, a.params.NumBuckets)
		}
	}
	return nil
}

// propose returns the Proposal of the oldest queued requests of rp's
// buckets, as many as the limits allow, and marks them in flight in rp's
// slot; nil if there is none.
func (a *App) propose(rp *iss.RequestProposal) *iss.Proposal {
	var batch []*pendingReq
	size := batchOverheadBytes
	for len(batch) < a.params.MaxBatchRequests {
		p := a.oldestQueued(rp.Buckets)
		if p == nil {
			break
		}
		if size += encodedRequestBytes(p.req); size > a.params.MaxBatchBytes {
			break
		}
		a.queues[p.bucket] = a.queues[p.bucket][1:]
		p.state = inFlight
		batch = append(batch, p)
	}
	if len(batch) == 0 {
		return nil
	}
	reqs := make([]Request, len(batch))
	for i, p := range batch {
		reqs[i] = p.req
	}
	a.inFlight[rp.SeqNr] = append(a.inFlight[rp.SeqNr], batch...)
	return iss.NewProposal(rp.ReplyTo, rp.SeqNr, EncodeBatch(reqs))
}

// oldestQueued returns the queued request of the earliest arrival at the
// head of the queues of buckets, dropping the dead entries before it.
func (a *App) oldestQueued(buckets []int) *pendingReq {
	var oldest *pendingReq
	for _, b := range buckets {
		q := a.queues[b]
		for len(q) > 0 && q[0].state != queued {
			q = q[1:]
			a.dead--
		}
		a.queues[b] = q
		if len(q) > 0 && (oldest == nil || q[0].arrival < oldest.arrival) {
			oldest = q[0]
		}
	}
	return oldest
}

// verifyProposal checks a value another leader proposed: a batch within
// the limits, every request in the leader's buckets, none executed
// already, none twice.
func (a *App) verifyProposal(ev *iss.VerifyProposal) (*stdtypes.EventList, error) {
	if err := ev.ReplyTo.Validate(); err != nil {
		return nil, fmt.Errorf("ReplyTo: %w", err)
	}
	if err := a.checkBuckets(ev.Buckets); err != nil {
		return nil, err
	}
	reason := ""
	if len(ev.Value) > 0 {
		if err := a.validate(ev.Value, ev.Buckets); err != nil {
			reason = err.Error()
			a.stats.VerifyInvalid++
		}
	}
	a.stats.Verified++
	return stdtypes.ListOf(&iss.ProposalVerified{Header: stdtypes.NewHeader(ev.ReplyTo), Ref: ev.Ref, Err: reason}), nil
}

// validate returns why value is no valid proposal of a leader of buckets.
func (a *App) validate(value []byte, buckets []int) error {
	reqs, err := DecodeBatch(value, a.lim)
	if err != nil {
		return err
	}
	seen := make(map[RequestID]struct{}, len(reqs))
	for _, r := range reqs {
		if _, ok := slices.BinarySearch(buckets, BucketOf(r.RequestID, a.params.NumBuckets)); !ok {
			return fmt.Errorf("request %s is not in the leader's buckets", r.RequestID)
		}
		if a.st.executed(r.RequestID) {
			return fmt.Errorf("request %s was executed already", r.RequestID)
		}
		if _, dup := seen[r.RequestID]; dup {
			return fmt.Errorf("request %s is in the batch twice", r.RequestID)
		}
		seen[r.RequestID] = struct{}{}
	}
	return nil
}

// deliver executes the next slot of the log, and answers the held
// RequestProposals that its requests coming back (from a slot delivered
// without them) make answerable.
func (a *App) deliver(ev *iss.Deliver) (*stdtypes.EventList, error) {
	switch {
	case ev.SeqNr != a.st.next:
		return nil, fmt.Errorf("slot %d delivered, the next is %d: a gap or a slot delivered twice", ev.SeqNr, a.st.next)
	case ev.Aborted && len(ev.Value) > 0:
		return nil, fmt.Errorf("slot %d is ⊥ with a value of %d bytes", ev.SeqNr, len(ev.Value))
	}
	// The event is not modified once emitted: the report shares its value.
	r := Report{Kind: Delivered, Epoch: ev.Epoch, SeqNr: ev.SeqNr, Aborted: ev.Aborted, Value: ev.Value}
	if len(ev.Value) > 0 {
		reqs, err := DecodeBatch(ev.Value, a.lim)
		if err != nil {
			r.Invalid = err.Error()
			a.stats.DeliveredInvalid++
		}
		r.Executed = a.execute(reqs)
		r.Dropped = len(reqs) - len(r.Executed)
	}
	a.st.chain = ChainNext(a.st.chain, ev.SeqNr, ev.Aborted, ev.Value)
	a.st.next++
	r.Chain = a.st.chain
	a.settle()
	a.report(r)
	return a.answerHeld(), nil
}

// execute executes the requests of a delivered batch that may be, and
// returns them (their payloads share the delivered value's memory).
func (a *App) execute(reqs []Request) []Request {
	var executed []Request
	for _, r := range reqs {
		if a.st.executed(r.RequestID) || !a.st.inWindow(r.RequestID, a.params.ClientWindow) ||
			(!a.st.knows(r.Client) && len(a.st.clients) >= a.params.MaxClients) {
			a.stats.DeliveredDropped++
			continue
		}
		a.st.execute(r.RequestID)
		executed = append(executed, r)
		if p := a.pending[r.RequestID]; p != nil {
			a.forget(p)
		}
	}
	return executed
}

// forget removes p from the pending set.
func (a *App) forget(p *pendingReq) {
	if p.state == queued {
		a.dead++
	}
	p.state = gone
	delete(a.pending, p.req.RequestID)
}

// settle brings the pending set in line with a state that moved to slot
// next: the requests in flight in the slots before it that were not
// executed are queued again, the RequestProposals of those slots dropped,
// and the queues compacted if they hold more dead entries than live ones.
func (a *App) settle() {
	var slots []stdtypes.SeqNr
	for sn := range a.inFlight {
		if sn < a.st.next {
			slots = append(slots, sn)
		}
	}
	slices.Sort(slots)
	for _, sn := range slots {
		for _, p := range a.inFlight[sn] {
			if p.state == inFlight {
				a.requeue(p)
			}
		}
		delete(a.inFlight, sn)
	}
	a.held = slices.DeleteFunc(a.held, func(rp *iss.RequestProposal) bool { return rp.SeqNr < a.st.next })
	if a.dead > len(a.pending) && a.dead > 1024 {
		a.compact()
	}
}

// requeue puts p back in its bucket's queue, in order of arrival.
func (a *App) requeue(p *pendingReq) {
	q := a.queues[p.bucket]
	i, _ := slices.BinarySearchFunc(q, p.arrival, func(x *pendingReq, t uint64) int {
		switch {
		case x.arrival < t:
			return -1
		case x.arrival > t:
			return 1
		}
		return 0
	})
	a.queues[p.bucket] = slices.Insert(q, i, p)
	p.state = queued
}

// compact drops the dead entries of every queue.
func (a *App) compact() {
	for b, q := range a.queues {
		a.queues[b] = slices.DeleteFunc(q, func(p *pendingReq) bool { return p.state != queued })
	}
	a.dead = 0
}

// snapshot answers a SnapshotRequest with the state after the slots before
// ev.SeqNr, which must be all the App executed, and the membership the
// schedule gives epoch ev.Epoch + ConfigOffset + 1.
func (a *App) snapshot(ev *iss.SnapshotRequest) (*stdtypes.EventList, error) {
	if err := ev.ReplyTo.Validate(); err != nil {
		return nil, fmt.Errorf("ReplyTo: %w", err)
	}
	if ev.SeqNr != a.st.next {
		return nil, fmt.Errorf("snapshot of epoch %d before slot %d asked, but the next slot is %d", ev.Epoch, ev.SeqNr, a.st.next)
	}
	target := ev.Epoch + stdtypes.EpochNr(a.params.ConfigOffset) + 1
	return stdtypes.ListOf(&iss.Snapshot{
		Header:     stdtypes.NewHeader(ev.ReplyTo),
		Epoch:      ev.Epoch,
		Data:       a.st.encode(),
		NextVoters: slices.Clone(a.params.membershipOf(target)),
	}), nil
}

// restore replaces the state with a snapshot's.
func (a *App) restore(ev *iss.RestoreState) (*stdtypes.EventList, error) {
	st, err := decodeState(ev.Data, a.params.MaxClients, a.params.MaxClientBytes, a.params.ClientWindow)
	switch {
	case err != nil:
		return nil, fmt.Errorf("epoch %d: %w", ev.Epoch, err)
	case st.next != ev.SeqNr:
		return nil, fmt.Errorf("epoch %d: the state's next slot is %d, the event's %d", ev.Epoch, st.next, ev.SeqNr)
	case st.next < a.st.next:
		return nil, fmt.Errorf("epoch %d: the state's next slot %d is behind the App's %d: slots would be executed twice", ev.Epoch, st.next, a.st.next)
	}
	a.st = st
	for id, p := range a.pending {
		if a.st.executed(id) {
			a.forget(p)
		}
	}
	a.settle()
	a.report(Report{Kind: Restored, Epoch: ev.Epoch, SeqNr: st.next, Chain: st.chain})
	return a.answerHeld(), nil
}
