package checkpoint

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"strconv"

	"github.com/mirframework/mir/pkg/contextstore"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/dsl"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Module is the checkpoint module of one node: a passive module, written
// with package dsl. Build it with NewModule.
type Module struct {
	m *dsl.Module
	s *state
}

var (
	_ modules.PassiveModule   = (*Module)(nil)
	_ modules.MessageReceiver = (*Module)(nil)
	_ modules.StatsReporter   = (*Module)(nil)
)

// ReceivesMessages implements modules.MessageReceiver.
func (m *Module) ReceivesMessages() {}

// ApplyEvents handles a batch of events (see package dsl).
func (m *Module) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	return m.m.ApplyEvents(evs)
}

// Stats returns the module's counters. It is safe to call from any
// goroutine.
func (m *Module) Stats() Stats { return m.s.counters.stats(m.m.Stats()) }

// ReportStats returns Stats, so that a node includes them in its own.
func (m *Module) ReportStats() any { return m.Stats() }

// state is the module's state; the handlers NewModule registers share it.
type state struct {
	self   stdtypes.NodeID
	mc     ModuleConfig
	params ModuleParams
	m      *dsl.Module
	logger *logging.Logger

	// voters are the memberships of the epochs from the latest stable
	// checkpoint's on, as far as this node knows them: from the Starts
	// (Start.Voters, and the State's Voters for the epochs after it) and
	// from the States of stable checkpoints. Certificates are verified
	// against them.
	voters map[stdtypes.EpochNr]membership.Voters
	// epochs are the checkpoints above the latest stable one: this node's
	// own (after a Start), and the early signatures of those it has not
	// started, within EpochWindow.
	epochs map[stdtypes.EpochNr]*epochState
	// retained are the last RetainedCheckpoints stable checkpoints, oldest
	// first: the last is the latest.
	retained []stableCheckpoint
	// claims are, per node among the latest voters known, the latest
	// certificate it sent for an epoch whose voters this node does not
	// know: a weak quorum of them vouching for one (epoch, slot, hash)
	// makes it acceptable without verification.
	claims map[stdtypes.NodeID]Certificate
	// certChecking are the nodes whose STABLECHECKPOINT is being
	// verified: one at a time per node.
	certChecking map[stdtypes.NodeID]bool
	// transfer is the state transfer under way, if any.
	transfer *transfer
	// nextStart is the epoch after the latest Start: the epoch ISS is
	// ordering.
	nextStart stdtypes.EpochNr
	// sent are the epochs whose CHECKPOINT the reliablenet module may
	// still be sending, ascending.
	sent []stdtypes.EpochNr
	// served counts the answers sent this ResendPeriod
	// (MaxServesPerPeriod); answered are the nodes sent a
	// STABLECHECKPOINT in answer to a stale message in it.
	served   int
	answered map[stdtypes.NodeID]bool

	// Outstanding requests to the hasher and the crypto module.
	hashing   contextstore.Store[hashCtx]
	signing   contextstore.Store[stdtypes.EpochNr]
	verifying contextstore.Store[[]verifyCtx]
	// toVerify and verifyCtxs gather a batch's verifications, sent as one
	// VerifyRequest at its end.
	toVerify   []crypto.SigItem
	verifyCtxs []verifyCtx

	counters counters
}

// epochState is this node's part in the checkpoint of one epoch.
type epochState struct {
	// start is the Start of the epoch, nil before it comes; hash is its
	// State's hash, nil until the hasher answers.
	start *Start
	hash  []byte
	// sigs[i] is the verified signature of voter i (start.Voters), and
	// weight their total weight; checking[i] tells whether voter i's is
	// being verified.
	sigs     [][]byte
	checking []bool
	weight   uint64
	// early are the signatures that came before the hash was known, one
	// per sender.
	early map[stdtypes.NodeID]*CheckpointMsg
	// stable is set once the epoch has a certificate.
	stable bool
}

// stableCheckpoint is a stable checkpoint this node keeps.
type stableCheckpoint struct {
	cert  Certificate
	state State
}

// transfer is a state transfer: fetching the State of cert.
type transfer struct {
	cert Certificate
	// sources are the nodes to ask for the State, in turn: the
	// certificate's signers and its sender, or, for a certificate
	// accepted on a weak quorum's word, the nodes of that quorum (at
	// least one of which is correct and keeps the State).
	sources []stdtypes.NodeID
	// attempt counts the requests; asked is the node asked last, the
	// only node whose SNAPSHOTRESPONSE is taken; hashing is set while its
	// State is being hashed.
	attempt uint64
	asked   stdtypes.NodeID
	hashing bool
	// deferred is set while the transfer waits a ResendPeriod before it
	// asks anyone: the certificate is of the epoch this node is ordering
	// (or the one before), which it may well complete on its own.
	deferred bool
}

// hashCtx is a hash request: of this node's own State of epoch (own), or
// of the State a signer sent in a state transfer.
type hashCtx struct {
	epoch stdtypes.EpochNr
	own   bool
	state State
}

// verifyCtx is one CHECKPOINT (cert == nil, one item) or one certificate
// in a VerifyRequest; its items follow those of the context before it.
type verifyCtx struct {
	items int
	// A CHECKPOINT: the epoch, the signer's position and signature, and
	// the hash it signed.
	epoch stdtypes.EpochNr
	voter int
	sig   []byte
	hash  []byte
	// A certificate, and the node that sent it.
	cert   *Certificate
	sender stdtypes.NodeID
}

// NewModule returns the checkpoint module of node self. A nil logger logs
// nothing; with one, every dropped message is logged at LevelDebug.
func NewModule(self stdtypes.NodeID, mc ModuleConfig, params ModuleParams, logger *logging.Logger) (*Module, error) {
	if err := mc.Validate(); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if self == "" {
		return nil, fmt.Errorf("checkpoint: empty node ID")
	}
	s := &state{
		self:         self,
		mc:           mc,
		params:       params,
		logger:       logger,
		voters:       map[stdtypes.EpochNr]membership.Voters{},
		epochs:       map[stdtypes.EpochNr]*epochState{},
		claims:       map[stdtypes.NodeID]Certificate{},
		certChecking: map[stdtypes.NodeID]bool{},
		answered:     map[stdtypes.NodeID]bool{},
	}
	s.params.Voters = slices.Clone(params.Voters)
	for e := range params.ConfigOffset + 1 {
		s.voters[stdtypes.EpochNr(e)] = s.params.Voters
	}
	s.m = dsl.NewModule(mc.Self, dsl.WithLogger(logger))
	s.register()
	return &Module{m: s.m, s: s}, nil
}

// register registers the handlers, each under the line of the protocol
// (docs/iss.md sections 4 and 5; the package documentation) it implements.
func (s *state) register() {
	m := s.m

	// every ResendPeriod: send the latest stable certificate to all
	dsl.UponInit(m, func() error {
		dsl.EmitEvent(m, stdevents.NewTimerRepeat(s.mc.Timer, s.params.ResendPeriod, 0, NewTick(s.mc.Self)))
		return nil
	})
	dsl.UponEvent(m, s.onTick)
	// upon SendLatest(nodes) from ISS: send STABLECHECKPOINT(latest) to nodes
	dsl.UponEvent(m, s.onSendLatest)

	// upon Stable(cert, state) from ISS (restored from its WAL): latest := cert
	dsl.UponEvent(m, s.onRestore)

	// upon Start(e, state): h := hash(state); σ := sign(e, sn, h); send CHECKPOINT(e, sn, h, σ) to voters(e)
	dsl.UponEvent(m, s.onStart)
	dsl.UponEvent(m, s.onHashed)
	dsl.UponEvent(m, s.onSigned)

	// upon CHECKPOINT(e, sn, h, σ) from voter p of e: if verify(p, σ) then sigs[e][p] := σ
	dsl.UponMessageReceived(m, s.onCheckpoint)

	// upon STABLECHECKPOINT(cert) with cert.e > latest:
	//     accept if cert verifies against voters(cert.e),
	//     or if a weak quorum of the latest voters sent it
	dsl.UponMessageReceived(m, s.onStableCheckpoint)
	dsl.UponEvent(m, s.onVerified)

	// upon accepting cert without its State: ask a signer (SNAPSHOTREQUEST),
	// the next one after SnapshotTimeout, until a State hashes to cert.h
	dsl.UponEvent(m, s.onSnapshotTimeout)
	dsl.UponMessageReceived(m, s.onSnapshotResponse)

	// upon SNAPSHOTREQUEST(e) from p: send the retained State of e to p
	dsl.UponMessageReceived(m, s.onSnapshotRequest)

	// At the end of each batch, the verifications it asked for go to the
	// crypto module together.
	dsl.UponCondition(m, s.flushVerify)
}

// drop counts a dropped message and returns the error that makes package
// dsl drop and log it.
func (s *state) drop(r reason, format string, args ...any) error {
	s.counters.inc(r)
	return dsl.Drop(format, args...)
}

// badInput counts and logs input found invalid after the fact (by the
// crypto module or the hasher), which cannot be dropped as a message.
func (s *state) badInput(r reason, what string, epoch stdtypes.EpochNr, from stdtypes.NodeID) {
	s.counters.inc(r)
	if s.logger.Enabled(logging.LevelDebug) {
		s.logger.LogAttrs(logging.LevelDebug, "dropped input", slog.String("module", string(s.mc.Self)),
			slog.String("reason", what), slog.Uint64("epoch", uint64(epoch)), slog.String("from", string(from)))
	}
}

// latest returns the latest stable checkpoint, if any.
func (s *state) latest() (stableCheckpoint, bool) {
	if len(s.retained) == 0 {
		return stableCheckpoint{}, false
	}
	return s.retained[len(s.retained)-1], true
}

// low is the first epoch above the latest stable checkpoint.
func (s *state) low() stdtypes.EpochNr {
	if l, ok := s.latest(); ok {
		return l.cert.Epoch + 1
	}
	return 0
}

// knownEpochs returns the epochs whose voters the node knows, ascending.
func (s *state) knownEpochs() []stdtypes.EpochNr {
	es := make([]stdtypes.EpochNr, 0, len(s.voters))
	for e := range s.voters {
		es = append(es, e)
	}
	slices.Sort(es)
	return es
}

// latestVoters returns the voters of the latest epoch whose voters the
// node knows, nil if none.
func (s *state) latestVoters() membership.Voters {
	var v membership.Voters
	best, found := stdtypes.EpochNr(0), false
	for e, x := range s.voters {
		if !found || e > best {
			best, found, v = e, true, x
		}
	}
	return v
}

// peers returns every other node among the voters the node knows, in the
// order of the epochs, then of the voters.
func (s *state) peers() []stdtypes.NodeID {
	var ids []stdtypes.NodeID
	seen := map[stdtypes.NodeID]bool{s.self: true}
	for _, e := range s.knownEpochs() {
		for _, v := range s.voters[e] {
			if !seen[v.ID] {
				seen[v.ID] = true
				ids = append(ids, v.ID)
			}
		}
	}
	return ids
}

// isKnown reports whether id is a voter of an epoch whose voters the node
// knows.
func (s *state) isKnown(id stdtypes.NodeID) bool {
	for _, v := range s.voters {
		if v.Contains(id) {
			return true
		}
	}
	return false
}

// learnVoters records the voters of epoch e and those st holds for the
// epochs after it.
func (s *state) learnVoters(st State) {
	for i, v := range st.Voters {
		s.voters[st.Epoch+1+stdtypes.EpochNr(i)] = v
	}
}

// onTick sends the latest stable certificate to all and renews the
// serving budget.
func (s *state) onTick(*Tick) error {
	s.served = 0
	clear(s.answered)
	if t := s.transfer; t != nil && t.deferred {
		t.deferred = false
		s.askSnapshot()
	}
	l, ok := s.latest()
	if !ok {
		return nil
	}
	if peers := s.peers(); len(peers) > 0 {
		s.counters.inc(rCertificatesSent)
		dsl.SendMessage(s.m, s.mc.Net, &StableCheckpointMsg{Cert: l.cert}, peers...)
	}
	return nil
}

// onSendLatest sends the latest stable certificate to nodes that ISS saw
// behind.
func (s *state) onSendLatest(ev *SendLatest) error {
	for _, id := range ev.To {
		if id == "" {
			return fmt.Errorf("SendLatest to an empty node ID")
		}
		s.answerStale(id)
	}
	return nil
}

// onRestore makes a stable checkpoint that ISS restored from its WAL the
// latest, without a Stable back: ISS has it.
func (s *state) onRestore(ev *Stable) error {
	if err := validateState(ev.State, s.params.MaxStateBytes); err != nil {
		return fmt.Errorf("restored Stable of epoch %d: State: %w", ev.Cert.Epoch, err)
	}
	if ev.State.Epoch != ev.Cert.Epoch || ev.State.SeqNr != ev.Cert.SeqNr {
		return fmt.Errorf("restored Stable of epoch %d, slot %d with the State of epoch %d, slot %d",
			ev.Cert.Epoch, ev.Cert.SeqNr, ev.State.Epoch, ev.State.SeqNr)
	}
	if ev.Cert.Epoch < s.low() {
		return nil // The module has a later one.
	}
	s.record(ev.Cert, ev.State)
	return nil
}

// onStart starts this node's checkpoint of an epoch: hash the State.
func (s *state) onStart(ev *Start) error {
	e := ev.State.Epoch
	if err := s.checkStart(ev); err != nil {
		return fmt.Errorf("Start of epoch %d: %w", e, err)
	}
	if e < s.low() {
		// The node has a later stable checkpoint already (from a state
		// transfer): this one is of no use.
		return nil
	}
	es := s.epochs[e]
	if es == nil {
		es = &epochState{}
		s.epochs[e] = es
	}
	if es.start != nil {
		return fmt.Errorf("Start of epoch %d twice", e)
	}
	s.counters.inc(rStarted)
	s.nextStart = max(s.nextStart, e+1)
	es.start = ev
	es.sigs = make([][]byte, len(ev.Voters))
	es.checking = make([]bool, len(ev.Voters))
	s.voters[e] = ev.Voters
	s.learnVoters(ev.State)
	id := s.hashing.Store(hashCtx{epoch: e, own: true})
	dsl.EmitEvent(s.m, crypto.NewHashRequest(s.mc.Hasher, crypto.Origin{Module: s.mc.Self, ID: id}, StateHashInput(ev.State)))
	return nil
}

// checkStart checks a Start from ISS.
func (s *state) checkStart(ev *Start) error {
	if err := ev.ReplyTo.Validate(); err != nil {
		return fmt.Errorf("ReplyTo: %w", err)
	}
	if err := ev.Voters.Validate(); err != nil {
		return err
	}
	if err := validateState(ev.State, s.params.MaxStateBytes); err != nil {
		return fmt.Errorf("State: %w", err)
	}
	return nil
}

// onHashed takes a State's hash: this node's own, which it signs, or a
// fetched one, which must match the certificate.
func (s *state) onHashed(res *crypto.HashResult) error {
	c, err := recoverOne(&s.hashing, res.Origin.ID, len(res.Digests))
	if err != nil {
		return fmt.Errorf("HashResult: %w", err)
	}
	if c.own {
		return s.ownHashed(c.epoch, res.Digests[0])
	}
	t := s.transfer
	if t == nil || t.cert.Epoch != c.epoch {
		return nil // Done or replaced meanwhile.
	}
	t.hashing = false
	if !bytes.Equal(res.Digests[0], t.cert.StateHash) {
		// The source lied (or serves another State): the next one, now.
		s.badInput(rBadState, "State that does not match the certificate's hash", c.epoch, t.asked)
		t.attempt++
		s.askSnapshot()
		return nil
	}
	s.stable(t.cert, c.state, s.mc.ISS, rTransferred)
	return nil
}

// ownHashed signs this node's own checkpoint, and takes the signatures
// that came before.
func (s *state) ownHashed(e stdtypes.EpochNr, hash []byte) error {
	es := s.epochs[e]
	if es == nil {
		return nil // Garbage-collected meanwhile.
	}
	es.hash = hash
	if t := s.transfer; t != nil && t.cert.Epoch == e && bytes.Equal(t.cert.StateHash, hash) {
		// The certificate being fetched is of this very State.
		s.stable(t.cert, es.start.State, es.start.ReplyTo, rStable)
		return nil
	}
	if es.start.Voters.Contains(s.self) {
		id := s.signing.Store(e)
		dsl.EmitEvent(s.m, crypto.NewSignRequest(s.mc.Crypto, crypto.Origin{Module: s.mc.Self, ID: id},
			SignedBytes(e, es.start.State.SeqNr, hash)))
	}
	for i, v := range es.start.Voters {
		if msg := es.early[v.ID]; msg != nil {
			_ = s.takeSig(es, e, i, msg) // Counted if dropped.
		}
	}
	es.early = nil
	return nil
}

// recoverOne returns the context of request id, which asked for one
// result, and fails if it is unknown or the answer has results results.
func recoverOne[T any](store *contextstore.Store[T], id uint64, results int) (T, error) {
	c, ok := store.Recover(id)
	switch {
	case !ok:
		return c, fmt.Errorf("unknown request %d", id)
	case results != 1:
		return c, fmt.Errorf("%d results for 1 request", results)
	}
	return c, nil
}

// onSigned sends this node's signature to the epoch's other voters.
func (s *state) onSigned(res *crypto.SignResult) error {
	e, err := recoverOne(&s.signing, res.Origin.ID, len(res.Sigs))
	if err != nil {
		return fmt.Errorf("SignResult: %w", err)
	}
	es := s.epochs[e]
	if es == nil || es.stable {
		return nil // Stable or garbage-collected meanwhile.
	}
	st := es.start
	i := st.Voters.Index(s.self)
	if es.sigs[i] == nil {
		es.sigs[i] = res.Sigs[0]
		es.weight += st.Voters[i].Weight
	}
	var others []stdtypes.NodeID
	for _, v := range st.Voters {
		if v.ID != s.self {
			others = append(others, v.ID)
		}
	}
	if len(others) > 0 {
		msg := &CheckpointMsg{Epoch: e, SeqNr: st.State.SeqNr, StateHash: es.hash, Sig: res.Sigs[0]}
		dsl.EmitEvent(s.m, reliablenet.NewSendMessage(s.mc.ReliableNet, msgID(e), msg, stdevents.To(s.mc.Self, others...)))
		s.sent = append(s.sent, e)
	}
	s.checkQuorum(e, es)
	return nil
}

// msgID names the CHECKPOINT of epoch e in the reliablenet module.
func msgID(e stdtypes.EpochNr) reliablenet.MsgID {
	return reliablenet.MsgID(strconv.FormatUint(uint64(e), 10) + "/cp")
}

// onCheckpoint takes another voter's signature of a checkpoint: verified
// at once if this node knows the state hash, kept until it does if not.
func (s *state) onCheckpoint(from stdtypes.NodeID, msg *CheckpointMsg) error {
	e := msg.Epoch
	if e < s.low() {
		s.answerStale(from)
		return s.drop(rStale, "CHECKPOINT for epoch %d, stable already", e)
	}
	switch {
	case len(msg.Sig) == 0 || len(msg.Sig) > MaxSignatureBytes:
		return s.drop(rMalformed, "CHECKPOINT with a signature of %d bytes", len(msg.Sig))
	case len(msg.StateHash) == 0 || len(msg.StateHash) > MaxHashBytes:
		return s.drop(rMalformed, "CHECKPOINT with a state hash of %d bytes", len(msg.StateHash))
	}
	es := s.epochs[e]
	if es != nil && es.start != nil {
		i := es.start.Voters.Index(from)
		switch {
		case i < 0:
			return s.drop(rUnknownSender, "CHECKPOINT for epoch %d from %s, not a voter", e, from)
		case es.hash != nil:
			return s.takeSig(es, e, i, msg)
		case es.early[from] != nil:
			return s.drop(rDuplicate, "second CHECKPOINT for epoch %d", e)
		}
		s.keepEarly(es, from, msg)
		return nil
	}
	// Not started here yet: kept, within the window, if the sender may be
	// a voter of the epoch.
	if uint64(e-s.low()) >= s.params.EpochWindow {
		return s.drop(rFarEpoch, "CHECKPOINT for epoch %d; the window is %d epochs from %d", e, s.params.EpochWindow, s.low())
	}
	voters, ok := s.voters[e]
	if !ok {
		voters = s.latestVoters()
	}
	if !voters.Contains(from) {
		return s.drop(rUnknownSender, "CHECKPOINT for epoch %d from %s, not a voter", e, from)
	}
	if es == nil {
		es = &epochState{}
		s.epochs[e] = es
	}
	if es.early[from] != nil {
		return s.drop(rDuplicate, "second CHECKPOINT for epoch %d", e)
	}
	s.keepEarly(es, from, msg)
	return nil
}

func (s *state) keepEarly(es *epochState, from stdtypes.NodeID, msg *CheckpointMsg) {
	if es.early == nil {
		es.early = map[stdtypes.NodeID]*CheckpointMsg{}
	}
	es.early[from] = msg
}

// takeSig has the signature of voter i verified, if it signed this node's
// own checkpoint of the epoch.
func (s *state) takeSig(es *epochState, e stdtypes.EpochNr, i int, msg *CheckpointMsg) error {
	switch {
	case es.stable:
		return s.drop(rStale, "CHECKPOINT for epoch %d, stable already", e)
	case msg.SeqNr != es.start.State.SeqNr || !bytes.Equal(msg.StateHash, es.hash):
		return s.drop(rMismatch, "CHECKPOINT for epoch %d of another state than this node's", e)
	case es.sigs[i] != nil || es.checking[i]:
		return s.drop(rDuplicate, "second CHECKPOINT for epoch %d", e)
	}
	es.checking[i] = true
	s.toVerify = append(s.toVerify, crypto.SigItem{Msg: SignedBytes(e, msg.SeqNr, msg.StateHash), Sig: msg.Sig, Signer: es.start.Voters[i].ID})
	s.verifyCtxs = append(s.verifyCtxs, verifyCtx{items: 1, epoch: e, voter: i, sig: msg.Sig, hash: es.hash})
	return nil
}

// onVerified takes the answer to a batch's verifications.
func (s *state) onVerified(res *crypto.VerifyResult) error {
	ctxs, ok := s.verifying.Recover(res.Origin.ID)
	if !ok {
		return fmt.Errorf("VerifyResult for unknown request %d", res.Origin.ID)
	}
	total := 0
	for _, c := range ctxs {
		total += c.items
	}
	if total != len(res.Valid) {
		return fmt.Errorf("VerifyResult with %d results for %d signatures", len(res.Valid), total)
	}
	valid := res.Valid
	for _, c := range ctxs {
		ok := res.AllValid || !slices.Contains(valid[:c.items], false)
		valid = valid[c.items:]
		if c.cert != nil {
			s.certVerified(c, ok)
		} else {
			s.sigVerified(c, ok)
		}
	}
	return nil
}

// sigVerified adds a verified signature to its checkpoint.
func (s *state) sigVerified(c verifyCtx, ok bool) {
	es := s.epochs[c.epoch]
	if es == nil || es.start == nil || !bytes.Equal(es.hash, c.hash) {
		return // Garbage-collected meanwhile.
	}
	es.checking[c.voter] = false
	v := es.start.Voters[c.voter]
	if !ok {
		s.badInput(rBadSignature, "CHECKPOINT with an invalid signature", c.epoch, v.ID)
		return
	}
	if es.stable || es.sigs[c.voter] != nil {
		return
	}
	es.sigs[c.voter] = c.sig
	es.weight += v.Weight
	s.checkQuorum(c.epoch, es)
}

// checkQuorum makes the checkpoint stable once its signers have a strong
// quorum of weight: the certificate lists them in the voters' order.
func (s *state) checkQuorum(e stdtypes.EpochNr, es *epochState) {
	st := es.start
	if es.stable || !st.Voters.IsStrongQuorum(es.weight) {
		return
	}
	es.stable = true
	cert := Certificate{Epoch: e, SeqNr: st.State.SeqNr, StateHash: es.hash}
	for i, sig := range es.sigs {
		if sig != nil {
			cert.Signatures = append(cert.Signatures, Signature{Signer: st.Voters[i].ID, Sig: sig})
		}
	}
	s.stable(cert, st.State, st.ReplyTo, rStable)
}

// stable makes cert, a certificate of st, the latest stable checkpoint,
// tells dest, and garbage-collects what came before. Stables go out in
// increasing epochs: an older one than the latest is ignored.
func (s *state) stable(cert Certificate, st State, dest stdtypes.ModuleID, r reason) {
	if cert.Epoch < s.low() {
		return
	}
	s.counters.inc(r)
	dsl.EmitEvent(s.m, &Stable{Header: stdtypes.NewHeader(dest), Cert: cert, State: st})
	s.record(cert, st)
}

// record makes cert, a certificate of st, the latest stable checkpoint,
// and garbage-collects what came before.
func (s *state) record(cert Certificate, st State) {
	s.retained = append(s.retained, stableCheckpoint{cert: cert, state: st})
	if n := len(s.retained) - s.params.RetainedCheckpoints; n > 0 {
		clear(s.retained[:n])
		s.retained = slices.Delete(s.retained, 0, n)
	}
	s.learnVoters(st)
	s.nextStart = max(s.nextStart, cert.Epoch+1)
	s.collectGarbage(cert.Epoch)
}

// collectGarbage forgets everything of the epochs up to e, a stable
// checkpoint, but the retained checkpoints.
func (s *state) collectGarbage(e stdtypes.EpochNr) {
	for x := range s.epochs {
		if x <= e {
			delete(s.epochs, x)
		}
	}
	latest := s.latestVoters()
	for x := range s.voters {
		if x <= e {
			delete(s.voters, x)
		}
	}
	if len(s.voters) == 0 && latest != nil {
		// The State decided no membership for the next epochs: the
		// latest one holds on (as iss.Snapshot's empty NextVoters keeps
		// the membership of the epoch before).
		s.voters[e+1] = latest
	}
	for id, c := range s.claims {
		if c.Epoch <= e {
			delete(s.claims, id)
		}
	}
	if s.transfer != nil && s.transfer.cert.Epoch <= e {
		s.transfer = nil
	}
	// The CHECKPOINT of e itself is kept: a voter that missed it may
	// still complete the certificate of e with it.
	keep := 0
	for _, x := range s.sent {
		if x < e {
			dsl.EmitEvent(s.m, reliablenet.NewCancel(s.mc.ReliableNet, s.mc.Self, msgID(x)))
		} else {
			s.sent[keep] = x
			keep++
		}
	}
	s.sent = s.sent[:keep]
}

// answerStale sends the latest stable certificate to a node that sent a
// message of an epoch below it, once per node and ResendPeriod, within
// MaxServesPerPeriod.
func (s *state) answerStale(to stdtypes.NodeID) {
	l, ok := s.latest()
	if !ok || s.answered[to] || to == s.self || s.served >= s.params.MaxServesPerPeriod {
		return
	}
	s.answered[to] = true
	s.served++
	s.counters.inc(rCertificatesSent)
	dsl.SendMessage(s.m, s.mc.Net, &StableCheckpointMsg{Cert: l.cert}, to)
}

// onStableCheckpoint takes a certificate of a checkpoint beyond the
// latest stable one: verified against the voters of its epoch if this
// node knows them, counted towards a weak quorum of the latest voters it
// knows if not.
func (s *state) onStableCheckpoint(from stdtypes.NodeID, msg *StableCheckpointMsg) error {
	cert := msg.Cert
	if l, ok := s.latest(); ok && cert.Epoch <= l.cert.Epoch {
		if cert.Epoch < l.cert.Epoch {
			s.answerStale(from) // The sender is behind.
		}
		return s.drop(rStale, "certificate of epoch %d; stable at %d", cert.Epoch, l.cert.Epoch)
	}
	if t := s.transfer; t != nil && cert.Epoch <= t.cert.Epoch {
		return s.drop(rStale, "certificate of epoch %d; fetching the state of %d", cert.Epoch, t.cert.Epoch)
	}
	if err := checkForm(cert); err != nil {
		return s.drop(rBadCertificate, "certificate of epoch %d: %v", cert.Epoch, err)
	}
	if voters, ok := s.voters[cert.Epoch]; ok {
		if !s.isKnown(from) {
			// Bounds certChecking to the nodes this one knows.
			return s.drop(rUnknownSender, "certificate of epoch %d from %s, not a voter this node knows", cert.Epoch, from)
		}
		items, err := VerifyCertificate(cert, voters)
		switch {
		case err != nil:
			return s.drop(rBadCertificate, "certificate of epoch %d: %v", cert.Epoch, err)
		case s.certChecking[from]:
			return s.drop(rDuplicate, "certificate of epoch %d while verifying another of %s", cert.Epoch, from)
		}
		s.certChecking[from] = true
		s.toVerify = append(s.toVerify, items...)
		s.verifyCtxs = append(s.verifyCtxs, verifyCtx{items: len(items), cert: &cert, sender: from})
		return nil
	}
	latest := s.latestVoters()
	if !latest.Contains(from) {
		return s.drop(rUnknownSender, "certificate of epoch %d, whose voters are unknown, from %s, not a voter", cert.Epoch, from)
	}
	if prev, ok := s.claims[from]; ok && prev.Epoch >= cert.Epoch {
		return s.drop(rStale, "certificate of epoch %d after one of epoch %d", cert.Epoch, prev.Epoch)
	}
	s.claims[from] = cert
	var vouching []stdtypes.NodeID
	for id, c := range s.claims {
		if c.Epoch == cert.Epoch && c.SeqNr == cert.SeqNr && bytes.Equal(c.StateHash, cert.StateHash) {
			vouching = append(vouching, id)
		}
	}
	if latest.IsWeakQuorum(latest.WeightOf(vouching)) {
		// In the voters' order, not the map's.
		slices.SortFunc(vouching, func(a, b stdtypes.NodeID) int { return latest.Index(a) - latest.Index(b) })
		s.accept(cert, vouching)
	}
	return nil
}

// certVerified accepts a certificate that verified.
func (s *state) certVerified(c verifyCtx, ok bool) {
	delete(s.certChecking, c.sender)
	if !ok {
		s.badInput(rBadCertificate, "certificate with an invalid signature", c.cert.Epoch, c.sender)
		return
	}
	if c.cert.Epoch < s.low() || (s.transfer != nil && c.cert.Epoch <= s.transfer.cert.Epoch) {
		return // Overtaken meanwhile.
	}
	sources := make([]stdtypes.NodeID, 0, len(c.cert.Signatures)+1)
	for _, sig := range c.cert.Signatures {
		sources = append(sources, sig.Signer)
	}
	if !slices.Contains(sources, c.sender) {
		sources = append(sources, c.sender)
	}
	s.accept(*c.cert, sources)
}

// accept makes cert stable with this node's own State if it has the one
// cert certifies, and fetches the State from the sources otherwise: at
// once if this node is more than an epoch behind, after a ResendPeriod if
// not (a node a few slots behind catches up faster through its orderers,
// and its own Start then ends the transfer).
func (s *state) accept(cert Certificate, sources []stdtypes.NodeID) {
	if es := s.epochs[cert.Epoch]; es != nil && es.start != nil && bytes.Equal(es.hash, cert.StateHash) {
		es.stable = true
		s.stable(cert, es.start.State, es.start.ReplyTo, rStable)
		return
	}
	sources = slices.DeleteFunc(sources, func(id stdtypes.NodeID) bool { return id == s.self })
	s.transfer = &transfer{cert: cert, sources: sources, deferred: cert.Epoch <= s.nextStart}
	if !s.transfer.deferred {
		s.askSnapshot()
	}
}

// askSnapshot asks the next source of the certificate being fetched for
// its State.
func (s *state) askSnapshot() {
	t := s.transfer
	if len(t.sources) == 0 {
		// Only this node signed: its own State comes with its Start.
		return
	}
	t.asked = t.sources[t.attempt%uint64(len(t.sources))]
	dsl.SendMessage(s.m, s.mc.Net, &SnapshotRequestMsg{Epoch: t.cert.Epoch}, t.asked)
	dsl.EmitEvent(s.m, stdevents.NewTimerDelay(s.mc.Timer, s.params.SnapshotTimeout,
		&SnapshotTimeout{Header: stdtypes.NewHeader(s.mc.Self), Epoch: t.cert.Epoch, Attempt: t.attempt}))
}

// onSnapshotTimeout asks the next signer if the State has not come.
func (s *state) onSnapshotTimeout(ev *SnapshotTimeout) error {
	t := s.transfer
	if t == nil || t.cert.Epoch != ev.Epoch || t.attempt != ev.Attempt {
		return nil // Done, or another request's timeout.
	}
	t.attempt++
	s.askSnapshot()
	return nil
}

// onSnapshotResponse has the State the asked signer sent hashed.
func (s *state) onSnapshotResponse(from stdtypes.NodeID, msg *SnapshotResponseMsg) error {
	t := s.transfer
	st := msg.State
	switch {
	case t == nil || from != t.asked:
		return s.drop(rUnsolicited, "SNAPSHOTRESPONSE for epoch %d, not asked for", st.Epoch)
	case st.Epoch != t.cert.Epoch || st.SeqNr != t.cert.SeqNr:
		return s.drop(rBadState, "State of epoch %d, slot %d; the certificate is of epoch %d, slot %d", st.Epoch, st.SeqNr, t.cert.Epoch, t.cert.SeqNr)
	case StateBytes(st) > s.params.MaxStateBytes:
		return s.drop(rOversize, "State of %d bytes", StateBytes(st))
	case t.hashing:
		return s.drop(rDuplicate, "SNAPSHOTRESPONSE while hashing another")
	}
	if err := validateState(st, s.params.MaxStateBytes); err != nil {
		return s.drop(rMalformed, "State of epoch %d: %v", st.Epoch, err)
	}
	t.hashing = true
	id := s.hashing.Store(hashCtx{epoch: st.Epoch, state: st})
	dsl.EmitEvent(s.m, crypto.NewHashRequest(s.mc.Hasher, crypto.Origin{Module: s.mc.Self, ID: id}, StateHashInput(st)))
	return nil
}

// onSnapshotRequest sends the State of a retained checkpoint, within
// MaxServesPerPeriod.
func (s *state) onSnapshotRequest(from stdtypes.NodeID, msg *SnapshotRequestMsg) error {
	i := slices.IndexFunc(s.retained, func(c stableCheckpoint) bool { return c.cert.Epoch == msg.Epoch })
	if i < 0 {
		if l, ok := s.latest(); ok && l.cert.Epoch > msg.Epoch {
			s.answerStale(from)
		}
		return s.drop(rNotRetained, "SNAPSHOTREQUEST for epoch %d, not retained", msg.Epoch)
	}
	if s.served >= s.params.MaxServesPerPeriod {
		return s.drop(rRateLimited, "SNAPSHOTREQUEST for epoch %d beyond MaxServesPerPeriod", msg.Epoch)
	}
	s.served++
	s.counters.inc(rSnapshotsServed)
	dsl.SendMessage(s.m, s.mc.Net, &SnapshotResponseMsg{State: s.retained[i].state}, from)
	return nil
}

// flushVerify sends the batch's verifications as one VerifyRequest.
func (s *state) flushVerify() error {
	if len(s.toVerify) == 0 {
		return nil
	}
	id := s.verifying.Store(s.verifyCtxs)
	dsl.EmitEvent(s.m, &crypto.VerifyRequest{
		Header: stdtypes.NewHeader(s.mc.Crypto), Origin: crypto.Origin{Module: s.mc.Self, ID: id}, Items: s.toVerify,
	})
	s.toVerify, s.verifyCtxs = nil, nil
	return nil
}
