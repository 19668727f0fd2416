package availability

import (
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Module is availability, the multisig collector of one node: a passive,
// deterministic module. Build it with NewModule.
type Module struct {
	self   stdtypes.NodeID
	mc     ModuleConfig
	params ModuleParams
	logger *logging.Logger

	// low is the lowest epoch whose batches the node keeps: it accepts no
	// REQUESTSIG below it.
	low stdtypes.EpochNr
	// voters are the memberships of the epochs this node learned, from
	// low on, and always that of latest, the highest epoch it knows.
	voters map[stdtypes.EpochNr]membership.Voters
	latest stdtypes.EpochNr

	// store holds the batches this node keeps (signed for others, its own,
	// recovered from the WAL), by digest; perSender counts them by leader
	// (not this node's own), bounded by MaxBatchesPerSender.
	store     map[string]*batch
	perSender map[stdtypes.NodeID]int
	// sigEpochs are the epochs with SIGs that the reliablenet module may
	// still be sending, to cancel at garbage collection.
	sigEpochs map[stdtypes.EpochNr]bool

	// own are this node's open proposals, by the orderer that asked;
	// byRef finds them by the Ref of their RequestBatch, byDigest by
	// their batch's digest.
	own      map[stdtypes.ModuleID]*proposal
	byRef    map[uint64]*proposal
	byDigest map[string]*proposal
	nextRef  uint64
	// proposed are this node's batches whose certificate an orderer took
	// (answered, not cancelled), open or closed, by digest, until their
	// fate is known: delivered (the batch fetcher asks for the
	// certificate's transactions), or never to be (the checkpoint of
	// their epoch is stable and it did not ask: the slot ended ⊥ after a
	// view change), when their transactions go back to the mempool. At
	// most one per slot this node leads in the epochs not yet stable,
	// fewer than MaxBatchesPerSender, which bounds the batches of this
	// node the others keep.
	proposed map[string]*proposal

	// fetches are the batches being fetched, by digest, and fetchIDs
	// the same by the fetch's ID.
	fetches  map[string]*fetch
	fetchIDs map[uint64]*fetch

	// pending are the crypto requests in flight, by Origin.ID.
	pending map[uint64]cryptoCtx
	nextID  uint64

	counters counters
}

var (
	_ modules.PassiveModule   = (*Module)(nil)
	_ modules.MessageReceiver = (*Module)(nil)
	_ modules.StatsReporter   = (*Module)(nil)
)

// batch is a batch this node keeps.
type batch struct {
	epoch   stdtypes.EpochNr
	leader  stdtypes.NodeID
	buckets []int
	txs     []mempool.Tx
	// persisted is set once the batch's record is durable (its signing
	// was the record's follow-up, or the WAL handed it back): only then
	// does the node serve it.
	persisted bool
	// served counts the FETCHes of the batch this node answered, per
	// node (allocated at the first), bounded by maxServesPerNode.
	served map[stdtypes.NodeID]uint8
	// signing is set while this node's signature is being made, signed
	// once it is made (in this incarnation of the node).
	signing, signed bool
}

// proposal is a batch this node proposes, for an orderer of a segment it
// leads.
type proposal struct {
	orderer stdtypes.ModuleID
	epoch   stdtypes.EpochNr
	sn      stdtypes.SeqNr
	buckets []int
	voters  membership.Voters
	ref     uint64
	// digest and txs are the batch, once the mempool gave it.
	digest []byte
	txs    []mempool.Tx
	// sigs are the valid signatures, by signer; asked are the voters that
	// got a REQUESTSIG and have not had a SIG verified or rejected yet
	// (checking: being verified); weight is the weight of sigs.
	sigs     map[stdtypes.NodeID][]byte
	checking map[stdtypes.NodeID]bool
	weight   uint64
	// cert is the encoded certificate, once there is a weak quorum.
	cert []byte
	// answered: a Proposal of cert went to the orderer for slot sn.
	// cancelled: the orderer proposed slot sn without it; the batch waits
	// for its next RequestProposal.
	answered, cancelled bool
}

// fetch is a batch being fetched from its certificate's signers.
type fetch struct {
	id      uint64
	cert    Certificate
	sources []stdtypes.NodeID
	attempt uint64
	waiters []waiter
}

// waiter is a RequestTxs waiting for a fetch.
type waiter struct {
	replyTo stdtypes.ModuleID
	ref     uint64
}

// cryptoCtx is what a crypto request was for.
type cryptoCtx struct {
	kind   cryptoKind
	digest string
	// signer: a SIG's sender. replyTo, ref: a VerifyProposal's.
	signer  stdtypes.NodeID
	sig     []byte
	replyTo stdtypes.ModuleID
	ref     uint64
}

type cryptoKind uint8

const (
	signBatch  cryptoKind = iota // Signing a batch this node stores.
	verifySig                    // Verifying a SIG.
	verifyCert                   // Verifying a certificate for a VerifyProposal.
)

// NewModule returns availability for node self. A nil logger logs
// nothing; with one, every dropped message is logged at LevelDebug.
func NewModule(self stdtypes.NodeID, mc ModuleConfig, params ModuleParams, logger *logging.Logger) (*Module, error) {
	if err := mc.Validate(); err != nil {
		return nil, fmt.Errorf("availability: %w", err)
	}
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("availability: %w", err)
	}
	params.Voters = slices.Clone(params.Voters)
	return &Module{
		self: self, mc: mc, params: params, logger: logger,
		voters:    map[stdtypes.EpochNr]membership.Voters{0: params.Voters},
		store:     make(map[string]*batch),
		perSender: make(map[stdtypes.NodeID]int),
		sigEpochs: make(map[stdtypes.EpochNr]bool),
		own:       make(map[stdtypes.ModuleID]*proposal),
		byRef:     make(map[uint64]*proposal),
		byDigest:  make(map[string]*proposal),
		proposed:  make(map[string]*proposal),
		fetches:   make(map[string]*fetch),
		fetchIDs:  make(map[uint64]*fetch),
		pending:   make(map[uint64]cryptoCtx),
	}, nil
}

// ReceivesMessages marks availability as a module the transport delivers
// messages to.
func (m *Module) ReceivesMessages() {}

// ReportStats returns the module's Stats.
func (m *Module) ReportStats() any { return m.Stats() }

// Stats returns a snapshot of the counters; safe from any goroutine.
func (m *Module) Stats() Stats { return m.counters.stats() }

// ApplyEvents handles each event in turn.
func (m *Module) ApplyEvents(events *stdtypes.EventList) (*stdtypes.EventList, error) {
	return modules.ApplyAllFunc(events, m.apply)
}

func (m *Module) apply(ev stdtypes.Event) (*stdtypes.EventList, error) {
	out := stdtypes.EmptyList()
	var err error
	switch ev := ev.(type) {
	case *stdevents.Init:
	case *iss.RequestProposal:
		err = m.requestProposal(out, ev)
	case *mempool.NewBatch:
		err = m.newBatch(out, ev)
	case *iss.CancelProposal:
		m.cancelProposal(out, ev)
	case *iss.VerifyProposal:
		err = m.verifyProposal(out, ev)
	case *RequestTxs:
		err = m.requestTxs(out, ev)
	case *FetchTimeout:
		m.fetchTimeout(out, ev)
	case *iss.StableCheckpoint:
		m.stableCheckpoint(out, ev.Epoch)
	case *BatchRecord:
		m.recoverBatch(ev)
	case *CollectedRecord:
		m.low = max(m.low, ev.Low)
	case *crypto.SignResult:
		err = m.signResult(out, ev)
	case *crypto.VerifyResult:
		err = m.verifyResult(out, ev)
	case *stdevents.MessageReceived:
		m.message(out, ev.From, ev.Msg)
	default:
		return nil, fmt.Errorf("availability: unexpected event %s", stdtypes.TypeName(ev))
	}
	if err != nil {
		return nil, fmt.Errorf("availability: %s: %w", stdtypes.TypeName(ev), err)
	}
	return out, nil
}

// message dispatches a message from node from. Every field is untrusted.
func (m *Module) message(out *stdtypes.EventList, from stdtypes.NodeID, msg stdtypes.Message) {
	switch msg := msg.(type) {
	case *RequestSigMsg:
		m.requestSig(out, from, msg)
	case *SigMsg:
		m.sig(out, from, msg)
	case *FetchMsg:
		m.fetchMsg(out, from, msg)
	case *FetchResponseMsg:
		m.fetchResponse(out, from, msg)
	default:
		m.drop(rUnknownMessages, from, fmt.Sprintf("message %s", stdtypes.TypeName(msg)))
	}
}

// drop counts and logs a dropped message.
func (m *Module) drop(r reason, from stdtypes.NodeID, what string) {
	m.counters.inc(r)
	if m.logger != nil {
		m.logger.Log(logging.LevelDebug, "availability: dropped a message", "from", from, "reason", reasonNames[r], "what", what)
	}
}

// emit appends events to out.
func emit(out *stdtypes.EventList, evs ...stdtypes.Event) { out.PushBackSlice(evs) }

// --- The leader: RequestProposal → RequestBatch → NewBatch → REQUESTSIG → SIG → Proposal.

// requestProposal: "When an orderer of a segment this node leads asks for
// a value (iss.RequestProposal, with the segment's buckets), availability
// asks the mempool for a batch of those buckets."
func (m *Module) requestProposal(out *stdtypes.EventList, ev *iss.RequestProposal) error {
	if err := ev.ReplyTo.Validate(); err != nil {
		return fmt.Errorf("ReplyTo: %w", err)
	}
	if err := ev.Voters.Validate(); err != nil {
		return fmt.Errorf("voters of epoch %d: %w", ev.Epoch, err)
	}
	if !ev.Voters.Contains(m.self) {
		return fmt.Errorf("this node (%q) is no voter of epoch %d", m.self, ev.Epoch)
	}
	// A segment may have no bucket (more leaders than buckets): its
	// orderer proposes empty values, after asking in vain.
	if err := m.checkBuckets(ev.Buckets); err != nil && len(ev.Buckets) > 0 {
		return err
	}
	m.learnVoters(ev.Epoch, ev.Voters)
	m.returnObsolete(out, ev.Epoch)
	if p := m.own[ev.ReplyTo]; p != nil {
		switch {
		case p.cancelled && p.epoch == ev.Epoch && slices.Equal(p.buckets, ev.Buckets):
			// "An orderer that proposes its slot empty says so
			// (iss.CancelProposal): availability then keeps the batch
			// for the orderer's next request."
			p.sn, p.cancelled, p.answered = ev.SeqNr, false, false
			if err := m.answer(out, p); err != nil {
				return err
			}
			m.tellPending(out, p)
			return nil
		case !p.cancelled && !p.answered:
			return fmt.Errorf("slot %d asked while slot %d of the same orderer %q is open", ev.SeqNr, p.sn, ev.ReplyTo)
		}
		// The last proposal was answered and not cancelled: the orderer
		// proposed it, and asks for the next slot. (One cancelled for
		// other buckets, which one orderer never has, goes back.)
		if p.cancelled {
			m.returnTxs(out, p.txs)
		}
		m.closeProposal(p)
	}
	if len(m.own) >= m.params.MaxOpenProposals {
		return fmt.Errorf("%d proposals open already (MaxOpenProposals)", len(m.own))
	}
	p := &proposal{
		orderer: ev.ReplyTo, epoch: ev.Epoch, sn: ev.SeqNr, buckets: slices.Clone(ev.Buckets),
		voters: ev.Voters, ref: m.nextRef,
		sigs: make(map[stdtypes.NodeID][]byte), checking: make(map[stdtypes.NodeID]bool),
	}
	m.nextRef++
	m.own[p.orderer] = p
	m.byRef[p.ref] = p
	if len(p.buckets) == 0 {
		return nil // The mempool would never answer.
	}
	// The mempool answers once this node has executed the epochs before
	// p's: it still holds what other leaders ordered in them.
	emit(out, &mempool.RequestBatch{Header: stdtypes.NewHeader(m.mc.Mempool), ReplyTo: m.mc.Self, Ref: p.ref,
		Buckets: slices.Clone(p.buckets), Epoch: p.epoch})
	return nil
}

// returnObsolete gives the mempool back the transactions of cancelled
// proposals of epochs before epoch: an orderer of a newer epoch asks, so
// the older ones ask no more, and their batches will never be proposed.
func (m *Module) returnObsolete(out *stdtypes.EventList, epoch stdtypes.EpochNr) {
	for _, id := range slices.Sorted(maps.Keys(m.own)) {
		if p := m.own[id]; p.cancelled && p.epoch < epoch {
			m.returnTxs(out, p.txs)
			m.closeProposal(p)
		}
	}
}

func (m *Module) returnTxs(out *stdtypes.EventList, txs []mempool.Tx) {
	if len(txs) == 0 {
		return
	}
	ids := make([]mempool.TxID, len(txs))
	for i, tx := range txs {
		ids[i] = tx.TxID
	}
	emit(out, &mempool.ReturnTxs{Header: stdtypes.NewHeader(m.mc.Mempool), Txs: ids})
}

// closeProposal forgets p; its batch stays in the store.
func (m *Module) closeProposal(p *proposal) {
	delete(m.own, p.orderer)
	delete(m.byRef, p.ref)
	if p.digest != nil {
		delete(m.byDigest, string(p.digest))
	}
}

// newBatch: "... and sends it to all nodes. Each node stores the batch
// durably (in the WAL, before anything it sends), then signs its digest
// and answers." The leader too: it persists first, then sends the
// REQUESTSIGs and signs.
func (m *Module) newBatch(out *stdtypes.EventList, ev *mempool.NewBatch) error {
	p := m.byRef[ev.Ref]
	if p == nil || p.digest != nil {
		// Its proposal was cancelled (CancelBatch crossed this answer):
		// the transactions go back.
		m.returnTxs(out, ev.Txs)
		return nil
	}
	if r, err := m.checkTxs(ev.Txs, p.buckets); err != nil {
		return fmt.Errorf("batch %d (%s): %w", ev.Ref, reasonNames[r], err)
	}
	p.txs = ev.Txs
	p.digest = BatchDigest(p.epoch, m.self, p.buckets, p.txs)
	key := string(p.digest)
	if other := m.byDigest[key]; other != nil {
		return fmt.Errorf("batch %d has the same transactions as the open proposal of %q", ev.Ref, other.orderer)
	}
	m.byDigest[key] = p
	b := m.store[key]
	if b == nil {
		b = &batch{epoch: p.epoch, leader: m.self, buckets: p.buckets, txs: p.txs}
		m.store[key] = b
	}
	var sends []stdtypes.Event
	if others := m.othersOf(p.voters); len(others) > 0 {
		msg := &RequestSigMsg{Epoch: p.epoch, Buckets: p.buckets, Txs: p.txs}
		sends = append(sends, reliablenet.NewSendMessage(m.mc.ReliableNet, m.requestSigID(p), msg, stdevents.To(m.mc.Self, others...)))
		for _, o := range others {
			p.checking[o] = false
		}
	}
	emit(out, m.persistThenSign(b, key, sends...))
	m.tellPending(out, p)
	return nil
}

// tellPending tells p's orderer that its value is on the way
// (iss.ProposalPending), if the certificate is not there yet: so that it
// does not propose the slot empty meanwhile.
func (m *Module) tellPending(out *stdtypes.EventList, p *proposal) {
	if p.cert == nil {
		emit(out, &iss.ProposalPending{Header: stdtypes.NewHeader(p.orderer), SeqNr: p.sn})
	}
}

// persistThenSign returns the WAL Append of b whose follow-ups sign it and
// do what must wait for the record to be durable.
func (m *Module) persistThenSign(b *batch, key string, after ...stdtypes.Event) stdtypes.Event {
	rec := &BatchRecord{Header: stdtypes.NewHeader(m.mc.Self), Epoch: b.epoch, Leader: b.leader, Buckets: b.buckets, Txs: b.txs}
	b.signing = true
	return stdtypes.WithFollowUps(wal.NewAppend(m.mc.WAL, rec, stdtypes.RetentionIndex(b.epoch)),
		append(after, m.signRequest(b, key))...)
}

func (m *Module) signRequest(b *batch, key string) stdtypes.Event {
	id := m.newCryptoID(cryptoCtx{kind: signBatch, digest: key})
	return crypto.NewSignRequest(m.mc.Crypto, crypto.Origin{Module: m.mc.Self, ID: id}, SignedBytes([]byte(key)))
}

func (m *Module) newCryptoID(c cryptoCtx) uint64 {
	id := m.nextID
	m.nextID++
	m.pending[id] = c
	return id
}

// requestSigID names p's REQUESTSIG for the reliablenet module.
func (m *Module) requestSigID(p *proposal) reliablenet.MsgID {
	return reliablenet.MsgID(strconv.FormatUint(uint64(p.epoch), 10) + "/req/" + hex.EncodeToString(p.digest))
}

// othersOf returns the voters other than this node, in their order.
func (m *Module) othersOf(voters membership.Voters) []stdtypes.NodeID {
	ids := make([]stdtypes.NodeID, 0, len(voters))
	for _, v := range voters {
		if v.ID != m.self {
			ids = append(ids, v.ID)
		}
	}
	return ids
}

// sig: "Signatures from a weak quorum of the epoch's voters (more than a
// third of the weight: at least one correct node holds the batch) make an
// availability certificate."
func (m *Module) sig(out *stdtypes.EventList, from stdtypes.NodeID, msg *SigMsg) {
	if len(msg.Digest) != DigestBytes || len(msg.Sig) == 0 || len(msg.Sig) > MaxSignatureBytes {
		m.drop(rMalformed, from, "SIG")
		return
	}
	p := m.byDigest[string(msg.Digest)]
	if p == nil || p.cert != nil {
		m.drop(rStale, from, "SIG")
		return
	}
	checking, asked := p.checking[from]
	switch {
	case !asked:
		if _, ok := p.sigs[from]; ok {
			m.drop(rDuplicate, from, "SIG")
		} else {
			m.drop(rUnknownSender, from, "SIG")
		}
		return
	case checking:
		m.drop(rDuplicate, from, "SIG")
		return
	}
	p.checking[from] = true
	id := m.newCryptoID(cryptoCtx{kind: verifySig, digest: string(p.digest), signer: from, sig: slices.Clone(msg.Sig)})
	emit(out, crypto.NewVerifyRequest(m.mc.Crypto, crypto.Origin{Module: m.mc.Self, ID: id},
		crypto.SigItem{Msg: SignedBytes(p.digest), Sig: msg.Sig, Signer: from}))
}

// addSig adds a valid signature of signer to p, and answers the orderer
// once there is a weak quorum.
func (m *Module) addSig(out *stdtypes.EventList, p *proposal, signer stdtypes.NodeID, sig []byte) error {
	w, _ := p.voters.Weight(signer)
	delete(p.checking, signer)
	p.sigs[signer] = sig
	p.weight += w
	if p.cert != nil || !p.voters.IsWeakQuorum(p.weight) {
		return nil
	}
	c := Certificate{Epoch: p.epoch, Leader: m.self, Buckets: p.buckets, Digest: p.digest}
	for _, v := range p.voters {
		if s, ok := p.sigs[v.ID]; ok {
			c.Signers = append(c.Signers, v.ID)
			c.Sigs = append(c.Sigs, s)
		}
	}
	p.cert = c.Encode()
	m.counters.inc(rCertificates)
	// The voters that have not answered need the REQUESTSIG no more: a
	// weak quorum stores the batch.
	if len(p.checking) > 0 {
		emit(out, reliablenet.NewCancel(m.mc.ReliableNet, m.mc.Self, m.requestSigID(p)))
	}
	return m.answer(out, p)
}

// answer sends p's certificate to its orderer, if it has one, and tracks
// p until its fate is known.
func (m *Module) answer(out *stdtypes.EventList, p *proposal) error {
	if p.cert == nil || p.answered || p.cancelled {
		return nil
	}
	if len(m.proposed) >= m.params.MaxBatchesPerSender {
		return fmt.Errorf("%d batches proposed in epochs not yet stable, MaxBatchesPerSender: more than the other nodes keep", len(m.proposed))
	}
	p.answered = true
	m.proposed[string(p.digest)] = p
	emit(out, iss.NewProposal(p.orderer, p.sn, p.cert))
	return nil
}

// cancelProposal: "An orderer that gives up waiting and proposes its slot
// empty says so (iss.CancelProposal): availability then keeps the batch
// for the orderer's next request." A proposal still waiting for the
// mempool is taken back from it instead (CancelBatch).
func (m *Module) cancelProposal(out *stdtypes.EventList, ev *iss.CancelProposal) {
	for _, id := range slices.Sorted(maps.Keys(m.own)) {
		p := m.own[id]
		if p.sn != ev.SeqNr || p.cancelled {
			continue
		}
		if p.digest == nil {
			m.cancelBatch(out, p)
			m.closeProposal(p)
			return
		}
		// An answer that crossed this event: the orderer drops it, so
		// the certificate is ordered nowhere.
		p.cancelled = true
		delete(m.proposed, string(p.digest))
		return
	}
}

// cancelBatch takes p's request back from the mempool, if p asked one;
// a NewBatch that crosses it goes back (newBatch).
func (m *Module) cancelBatch(out *stdtypes.EventList, p *proposal) {
	if len(p.buckets) > 0 {
		emit(out, &mempool.CancelBatch{Header: stdtypes.NewHeader(m.mc.Mempool), Ref: p.ref})
	}
}

// --- Every node: REQUESTSIG → persist → sign → SIG.

// requestSig: "Each node stores the batch durably (in the WAL, before
// anything it sends), then signs its digest and answers."
func (m *Module) requestSig(out *stdtypes.EventList, from stdtypes.NodeID, msg *RequestSigMsg) {
	if !m.votersOf(msg.Epoch).Contains(from) || from == m.self {
		m.drop(rUnknownSender, from, "REQUESTSIG")
		return
	}
	if msg.Epoch < m.low {
		m.drop(rStale, from, "REQUESTSIG")
		return
	}
	if err := m.checkBuckets(msg.Buckets); err != nil {
		m.drop(rMalformed, from, "REQUESTSIG: "+err.Error())
		return
	}
	if r, err := m.checkTxs(msg.Txs, msg.Buckets); err != nil {
		m.drop(r, from, "REQUESTSIG: "+err.Error())
		return
	}
	digest := BatchDigest(msg.Epoch, from, msg.Buckets, msg.Txs)
	key := string(digest)
	if b := m.store[key]; b != nil {
		if b.signing || b.signed {
			// Signed already (reliablenet sends the SIG until it
			// arrives), or being signed.
			m.drop(rDuplicate, from, "REQUESTSIG")
			return
		}
		// Recovered from the WAL after a restart: persisted, so it may be
		// signed again.
		b.signing = true
		emit(out, m.signRequest(b, key))
		return
	}
	if m.perSender[from] >= m.params.MaxBatchesPerSender {
		m.drop(rFlood, from, "REQUESTSIG")
		return
	}
	b := &batch{epoch: msg.Epoch, leader: from, buckets: slices.Clone(msg.Buckets), txs: slices.Clone(msg.Txs)}
	m.store[key] = b
	m.perSender[from]++
	emit(out, m.persistThenSign(b, key))
}

// signResult: the batch is durable (its signing was a follow-up of its
// record): send the signature to its leader, or add it to this node's own
// proposal.
func (m *Module) signResult(out *stdtypes.EventList, ev *crypto.SignResult) error {
	c, ok := m.pending[ev.Origin.ID]
	if !ok || c.kind != signBatch {
		return fmt.Errorf("no signing of ID %d", ev.Origin.ID)
	}
	delete(m.pending, ev.Origin.ID)
	if len(ev.Sigs) != 1 {
		return fmt.Errorf("%d signatures for one message", len(ev.Sigs))
	}
	b := m.store[c.digest]
	if b == nil {
		return nil // Collected meanwhile.
	}
	b.signing, b.signed, b.persisted = false, true, true
	if b.leader == m.self {
		if p := m.byDigest[c.digest]; p != nil {
			return m.addSig(out, p, m.self, ev.Sigs[0])
		}
		return nil
	}
	m.counters.inc(rSigned)
	m.sigEpochs[b.epoch] = true
	id := reliablenet.MsgID(strconv.FormatUint(uint64(b.epoch), 10) + "/sig/" + hex.EncodeToString([]byte(c.digest)))
	msg := &SigMsg{Digest: []byte(c.digest), Sig: ev.Sigs[0]}
	emit(out, reliablenet.NewSendMessage(m.mc.ReliableNet, id, msg, stdevents.To(m.mc.Self, b.leader)))
	return nil
}

// --- The validator: VerifyProposal → ProposalVerified.

// verifyProposal: "A node that validates a proposal (iss.VerifyProposal)
// verifies the certificate against the membership of the proposal's
// epoch."
func (m *Module) verifyProposal(out *stdtypes.EventList, ev *iss.VerifyProposal) error {
	if err := ev.ReplyTo.Validate(); err != nil {
		return fmt.Errorf("ReplyTo: %w", err)
	}
	if err := ev.Voters.Validate(); err != nil {
		return fmt.Errorf("voters of epoch %d: %w", ev.Epoch, err)
	}
	m.learnVoters(ev.Epoch, ev.Voters)
	if len(ev.Value) == 0 {
		emit(out, &iss.ProposalVerified{Header: stdtypes.NewHeader(ev.ReplyTo), Ref: ev.Ref})
		return nil
	}
	items, err := m.checkCertificate(ev)
	if err != nil {
		m.counters.inc(rRejected)
		emit(out, &iss.ProposalVerified{Header: stdtypes.NewHeader(ev.ReplyTo), Ref: ev.Ref, Err: err.Error()})
		return nil
	}
	id := m.newCryptoID(cryptoCtx{kind: verifyCert, replyTo: ev.ReplyTo, ref: ev.Ref})
	emit(out, crypto.NewVerifyRequest(m.mc.Crypto, crypto.Origin{Module: m.mc.Self, ID: id}, items...))
	return nil
}

// checkCertificate decodes ev's value and checks it against ev, and
// returns the signatures to verify.
func (m *Module) checkCertificate(ev *iss.VerifyProposal) ([]crypto.SigItem, error) {
	c, err := DecodeCertificate(ev.Value, m.params.MaxBuckets)
	if err != nil {
		return nil, err
	}
	switch {
	case c.Epoch != ev.Epoch:
		return nil, fmt.Errorf("%w: of epoch %d, proposed in epoch %d", ErrBadCertificate, c.Epoch, ev.Epoch)
	case c.Leader != ev.Leader:
		return nil, fmt.Errorf("%w: of leader %q, proposed by %q", ErrBadCertificate, c.Leader, ev.Leader)
	case !slices.Equal(c.Buckets, ev.Buckets):
		return nil, fmt.Errorf("%w: of buckets %v, the segment's are %v", ErrBadCertificate, c.Buckets, ev.Buckets)
	}
	return VerifyCertificate(c, ev.Voters)
}

// verifyResult handles the answer to a SIG's or a certificate's
// verification.
func (m *Module) verifyResult(out *stdtypes.EventList, ev *crypto.VerifyResult) error {
	c, ok := m.pending[ev.Origin.ID]
	if !ok || c.kind == signBatch {
		return fmt.Errorf("no verification of ID %d", ev.Origin.ID)
	}
	delete(m.pending, ev.Origin.ID)
	if c.kind == verifyCert {
		v := &iss.ProposalVerified{Header: stdtypes.NewHeader(c.replyTo), Ref: c.ref}
		if ev.AllValid {
			m.counters.inc(rVerified)
		} else {
			m.counters.inc(rRejected)
			v.Err = fmt.Sprintf("%v: a signature does not verify", ErrBadCertificate)
		}
		emit(out, v)
		return nil
	}
	p := m.byDigest[c.digest]
	if p == nil {
		return nil // Closed meanwhile.
	}
	if !ev.AllValid {
		m.drop(rBadSignature, c.signer, "SIG")
		// It may send a valid SIG yet.
		p.checking[c.signer] = false
		return nil
	}
	return m.addSig(out, p, c.signer, c.sig)
}
