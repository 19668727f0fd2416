package bcb

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"

	"github.com/mirframework/mir/pkg/contextstore"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/dsl"
	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// Module is the consistent broadcast of one node: a passive module,
// written with package dsl, that takes the protocol's messages from the
// other nodes. Its Stats are this package's (Stats), safe to read from any
// goroutine; a node reports them with its own. Build it with NewModule.
type Module struct {
	*dsl.ModuleWithStats[Stats]
	// s is the state, for the package's tests.
	s *state
}

var _ modules.StatsReporter = (*Module)(nil)

// Digest returns what nodes sign for instance id with payload: the SHA-256
// digest of a domain tag, the leader, its incarnation, the sequence number
// and the payload, each framed with its length (crypto.Digest). The
// instance is in the digest, so a signature for one instance is worth
// nothing in another, in another incarnation of the leader either.
func Digest(id InstanceID, payload []byte) []byte {
	var inc, seq [8]byte
	binary.BigEndian.PutUint64(inc[:], id.Incarnation)
	binary.BigEndian.PutUint64(seq[:], id.Seq)
	return crypto.Digest(crypto.SHA256, digestDomain, []byte(id.Leader), inc[:], seq[:], payload)
}

var digestDomain = []byte("mir/bcb echo v2")

// state is a node's state of every instance. The handlers NewModule
// registers share it.
type state struct {
	self   stdtypes.NodeID
	mc     ModuleConfig
	params ModuleParams
	m      *dsl.Module
	logger *logging.Logger
	// quorum is the size of a certificate (ModuleParams.Quorum).
	quorum int
	// index maps a member to its position in params.Nodes.
	index map[stdtypes.NodeID]int
	// others is the membership without this node.
	others []stdtypes.NodeID

	// The part of every node, per leader: the instances it echoes and
	// delivers. Never iterated, only looked up.
	leaders map[stdtypes.NodeID]*leaderState
	// scratchID is the buffer message IDs are built in.
	scratchID []byte

	// The leader's part, for this node's own instances.
	//
	// nextSeq is the Seq the next Broadcast must have, started the number
	// of instances started; Broadcasts started..nextSeq-1 wait in queued
	// for room in the window.
	nextSeq, started uint64
	queued           []*Broadcast
	// own holds the instances this node leads and has not finished (seen
	// acknowledged by every node, or given up), and ownOrder their
	// sequence numbers, ascending.
	own      map[uint64]*ownInstance
	ownOrder []uint64
	// certified lists own instances that got a quorum of echoes in this
	// batch; a condition sends their FINALs at the end of the batch.
	certified []uint64

	// Crypto requests gathered during a batch and sent at its end, as one
	// SignRequest and one VerifyRequest, so that the crypto module can
	// verify many signatures as one batch.
	toSign     []signCtx
	toVerify   []crypto.SigItem
	verifyCtxs []verifyCtx
	// signing and verifying keep the context of outstanding requests.
	signing   contextstore.Store[[]signCtx]
	verifying contextstore.Store[[]verifyCtx]

	counters counters
}

// leaderState is what a node keeps of one leader's instances, those of the
// leader's latest incarnation the node knows: the window low..low+Window-1.
// Below low, every instance is finished for this node: it never signs nor
// delivers anything there again.
type leaderState struct {
	// index is the leader's position in the membership.
	index int
	// incarnation is the leader's latest; seen tells whether a message
	// of the leader came (the node's own state is seen from the start).
	incarnation uint64
	seen        bool
	low         uint64
	slots       map[uint64]*slot
	// acks are the instances whose ACK the reliablenet module may still be
	// sending, ascending: those delivered in the window and at most
	// Window below it (the leader has finished the ones further below).
	acks []uint64
}

// slot is a node's state of one instance of another leader (or its own).
type slot struct {
	// digest is what this node signed or is signing: the textbook's
	// sentecho, made to survive retransmissions. sig is the signature,
	// once the crypto module returned it, to echo again if asked.
	digest []byte
	sig    []byte
	// verifying is set while a FINAL's certificate is being verified.
	verifying bool
	delivered bool
	// badFinals counts the FINALs whose certificates failed verification:
	// only the instance's leader sends FINALs, and a correct one never
	// sends a bad certificate, so after maxBadFinals the node stops paying
	// for verifying what this leader sends for the instance.
	badFinals uint8
}

// maxBadFinals is how many invalid certificates a node verifies for one
// instance before it ignores the leader's FINALs for it. More than one, so
// that a certificate damaged on the way (which the transport's integrity
// checks make unlikely) costs no delivery.
const maxBadFinals = 3

// ownInstance is the leader's state of an instance it leads.
type ownInstance struct {
	seq     uint64
	payload []byte
	digest  []byte
	// sigs[i] is the verified echo of member i (the textbook's Σ), count
	// how many there are. echo[i] says where member i's echo is; spare[i]
	// holds an echo received while enough others were being verified,
	// verified only if one of them fails, so that the leader verifies no
	// more echoes than the certificate needs.
	sigs     [][]byte
	count    int
	echo     []echoState
	checking int
	spare    [][]byte
	// final is the FINAL sent, once the instance has a certificate.
	final *FinalMsg
	// acked[i] tells whether member i delivered the instance (its ACK
	// came); acks counts them. retainTicks counts the ticks since n−f did.
	acked       []bool
	acks        int
	retainTicks int
}

// echoState is where the leader is with a member's echo.
type echoState uint8

const (
	echoNone     echoState = iota // Not received (or invalid).
	echoChecking                  // Being verified.
	echoSpare                     // Received, kept in case one being verified fails.
	echoValid                     // Verified: in sigs.
)

// signCtx is one digest in a SignRequest.
type signCtx struct {
	id     InstanceID
	digest []byte
}

// verifyCtx is one ECHO (items == 1) or one FINAL's certificate in a
// VerifyRequest; its items follow those of the context before it.
type verifyCtx struct {
	final bool
	id    InstanceID
	items int
	// For an ECHO: the signer and the signature.
	from int
	sig  []byte
	// For a FINAL: the payload and its digest.
	payload []byte
	digest  []byte
}

// NewModule returns the bcb module of node self. A nil logger logs
// nothing; with one, every dropped message is logged at LevelDebug.
func NewModule(self stdtypes.NodeID, mc ModuleConfig, params ModuleParams, logger *logging.Logger) (*Module, error) {
	if err := mc.Validate(); err != nil {
		return nil, fmt.Errorf("bcb: %w", err)
	}
	if err := params.Validate(); err != nil {
		return nil, fmt.Errorf("bcb: %w", err)
	}
	if !slices.Contains(params.Nodes, self) {
		return nil, fmt.Errorf("bcb: node %q is not one of the nodes %q", self, params.Nodes)
	}
	s := &state{
		self:    self,
		mc:      mc,
		params:  params,
		logger:  logger,
		quorum:  params.Quorum(),
		index:   make(map[stdtypes.NodeID]int, len(params.Nodes)),
		leaders: make(map[stdtypes.NodeID]*leaderState, len(params.Nodes)),
		own:     make(map[uint64]*ownInstance),
	}
	s.params.Nodes = slices.Clone(params.Nodes)
	for i, id := range s.params.Nodes {
		s.index[id] = i
		s.leaders[id] = &leaderState{index: i, slots: make(map[uint64]*slot)}
		if id != self {
			s.others = append(s.others, id)
		}
	}
	own := s.leaders[self]
	own.incarnation, own.seen = params.Incarnation, true
	s.m = dsl.NewModule(mc.Self, dsl.WithLogger(logger))
	s.register()
	return &Module{ModuleWithStats: dsl.NewModuleWithStats(s.m, s.counters.stats), s: s}, nil
}

// register registers the handlers, each under the line of the textbook's
// Signed Echo Broadcast it implements (see the package documentation).
func (s *state) register() {
	m := s.m

	// upon event <bcb, Init> do ...
	dsl.UponInit(m, func() error {
		dsl.EmitEvent(m, stdevents.NewTimerRepeat(s.mc.Timer, s.params.TickPeriod, 0, NewTick(s.mc.Self)))
		return nil
	})

	// upon event <bcb, Broadcast | m> do  // only process s
	//     forall q ∈ Π do trigger <al, Send | q, [SEND, m]>
	dsl.UponEvent(m, s.onBroadcast)

	// upon event <al, Deliver | p, [SEND, m]> such that p = s and sentecho = FALSE do
	//     sentecho := TRUE; σ := sign(self, bcb‖self‖ECHO‖m)
	dsl.UponMessageReceived(m, s.onSend)
	//     trigger <al, Send | s, [ECHO, m, σ]>
	dsl.UponEvent(m, s.onSigned)

	// upon event <al, Deliver | p, [ECHO, m, σ]> do  // only process s
	//     if echos[p] = ⊥ ∧ verifysig(p, bcb‖p‖ECHO‖m, σ) then echos[p] := m; Σ[p] := σ
	dsl.UponMessageReceived(m, s.onEcho)

	// upon event <al, Deliver | p, [FINAL, m, Σ]> do
	//     if #({p ∈ Π | Σ[p] ≠ ⊥ ∧ verifysig(p, bcb‖p‖ECHO‖m, Σ[p])}) > (N+f)/2
	//        and delivered = FALSE then delivered := TRUE; trigger <bcb, Deliver | s, m>
	dsl.UponMessageReceived(m, s.onFinal)

	// The second half of the two rules above: verifysig, answered by the
	// crypto module.
	dsl.UponEvent(m, s.onVerified)

	// upon exists m ≠ ⊥ such that #({p ∈ Π | echos[p] = m}) > (N+f)/2 and sentfinal = FALSE do
	//     sentfinal := TRUE; forall q ∈ Π do trigger <al, Send | q, [FINAL, m, Σ]>
	dsl.UponCondition(m, s.sendFinals)

	// Not in the textbook, whose leaders keep every instance for ever:
	// acknowledgments of deliveries, and garbage collection of finished
	// instances. (The textbook's links are perfect; the reliablenet
	// module makes ours so, retransmitting each message until it arrives.)
	dsl.UponMessageReceived(m, s.onAck)
	dsl.UponEvent(m, s.onTick)

	// At the end of each batch, the signatures and verifications the
	// batch asked for go to the crypto module together.
	dsl.UponCondition(m, s.flushCrypto)
}

// drop counts a dropped message and returns the error that makes package
// dsl drop and log it.
func (s *state) drop(r reason, format string, args ...any) error {
	s.counters.inc(r)
	return dsl.Drop(format, args...)
}

// The messages of an instance go through the reliablenet module, which
// names each with an ID: "leader/incarnation/seq/kind", where leader is
// the leader's index in the membership (node IDs may hold '/', indices
// cannot), so that "leader/incarnation/" names the messages of an
// incarnation of a leader, and nothing else.
const (
	kindSend  = 's'
	kindEcho  = 'e'
	kindFinal = 'f'
	kindAck   = 'a'
)

// msgID returns the ID of the message of kind kind of instance seq of the
// leader of ls.
func (s *state) msgID(ls *leaderState, seq uint64, kind byte) reliablenet.MsgID {
	b := s.appendPrefix(s.scratchID[:0], ls)
	b = strconv.AppendUint(b, seq, 10)
	b = append(b, '/', kind)
	s.scratchID = b
	return reliablenet.MsgID(b)
}

// appendPrefix appends the prefix of the IDs of ls's current incarnation.
func (s *state) appendPrefix(b []byte, ls *leaderState) []byte {
	b = strconv.AppendInt(b, int64(ls.index), 10)
	b = append(b, '/')
	b = strconv.AppendUint(b, ls.incarnation, 10)
	return append(b, '/')
}

// send has the reliablenet module send msg, the message of kind kind of
// instance seq of the leader of ls, to the destinations.
func (s *state) send(ls *leaderState, seq uint64, kind byte, msg stdtypes.Message, to ...stdtypes.NodeID) {
	s.counters.inc(rSent)
	dsl.EmitEvent(s.m, reliablenet.NewSendMessage(s.mc.ReliableNet, s.msgID(ls, seq, kind), msg, stdevents.To(s.mc.Self, to...)))
}

// cancel has the reliablenet module stop sending a message.
func (s *state) cancel(ls *leaderState, seq uint64, kind byte) {
	dsl.EmitEvent(s.m, reliablenet.NewCancel(s.mc.ReliableNet, s.mc.Self, s.msgID(ls, seq, kind)))
}

// ownID returns the ID of this node's instance seq.
func (s *state) ownID(seq uint64) InstanceID {
	return InstanceID{Leader: s.self, Incarnation: s.params.Incarnation, Seq: seq}
}

// onBroadcast starts (or queues, while the window is full) an instance led
// by this node.
func (s *state) onBroadcast(b *Broadcast) error {
	switch {
	case b.Seq != s.nextSeq:
		return fmt.Errorf("Broadcast with Seq %d; the next must be %d", b.Seq, s.nextSeq)
	case len(b.Payload) > s.params.MaxPayloadBytes:
		return fmt.Errorf("Broadcast of %d bytes; MaxPayloadBytes is %d", len(b.Payload), s.params.MaxPayloadBytes)
	case len(s.queued) >= s.params.MaxQueuedBroadcasts && s.started < s.nextSeq:
		return fmt.Errorf("%d Broadcasts wait for the window (MaxQueuedBroadcasts): instances do not finish as fast as they are broadcast", len(s.queued))
	}
	s.nextSeq++
	s.queued = append(s.queued, b)
	return s.startQueued()
}

// ownLow is the lowest instance the leader has not finished.
func (s *state) ownLow() uint64 {
	if len(s.ownOrder) > 0 {
		return s.ownOrder[0]
	}
	return s.started
}

// startQueued starts the queued Broadcasts that fit in the window.
func (s *state) startQueued() error {
	for len(s.queued) > 0 && s.started-s.ownLow() < s.params.Window {
		b := s.queued[0]
		s.queued[0] = nil
		s.queued = s.queued[1:]
		if err := s.start(b.Payload); err != nil {
			return err
		}
	}
	if len(s.queued) == 0 {
		s.queued = nil // Let the backing array go.
	}
	return nil
}

// start sends the SEND of a new instance to the others and signs its
// digest for this node's own echo.
func (s *state) start(payload []byte) error {
	id := s.ownID(s.started)
	s.started++
	n := len(s.params.Nodes)
	inst := &ownInstance{
		seq:     id.Seq,
		payload: payload,
		digest:  Digest(id, payload),
		sigs:    make([][]byte, n),
		echo:    make([]echoState, n),
		spare:   make([][]byte, n),
		acked:   make([]bool, n),
	}
	s.own[id.Seq] = inst
	s.ownOrder = append(s.ownOrder, id.Seq)
	s.counters.inc(rBroadcasts)
	ls := s.leaders[s.self]
	if len(s.others) > 0 {
		s.send(ls, id.Seq, kindSend, &SendMsg{Incarnation: id.Incarnation, Seq: id.Seq, Low: s.ownLow(), Payload: payload}, s.others...)
	}

	// The leader is a process of Π too: it echoes its own SEND, without a
	// round trip through the network.
	sl, ok := ls.open(id.Seq)
	if !ok || sl.digest != nil {
		// The own window only moves past delivered instances, all of which
		// were started before.
		return fmt.Errorf("bcb: own instance %v outside the own window at %d (a bug)", id, ls.low)
	}
	sl.digest = inst.digest
	s.toSign = append(s.toSign, signCtx{id: id, digest: inst.digest})
	return nil
}

// open returns the slot of instance seq, creating it, if seq is in the
// window; ok is false below it. The messages that open slots come from
// the leader, and a correct leader sends none above its window, which
// checkLeaderMsg checks: the window moves there first.
func (ls *leaderState) open(seq uint64) (sl *slot, ok bool) {
	if seq < ls.low {
		return nil, false
	}
	sl = ls.slots[seq]
	if sl == nil {
		sl = &slot{}
		ls.slots[seq] = sl
	}
	return sl, true
}

// advance moves the window of ls's leader to at least low, forgetting
// the slots below it, then past every delivered slot; and stops the
// messages the node need not send any more: its echoes for the instances
// it forgets undelivered, and its ACKs for those more than Window below
// the window (the leader has finished those: see the package
// documentation).
func (s *state) advance(ls *leaderState, low uint64) {
	w := s.params.Window
	if low > ls.low {
		if low-ls.low >= w {
			s.forget(ls, slices.Sorted(maps.Keys(ls.slots)))
		} else {
			for seq := ls.low; seq < low; seq++ {
				if sl := ls.slots[seq]; sl != nil {
					s.forget(ls, []uint64{seq})
				}
			}
		}
		ls.low = low
	}
	for {
		sl := ls.slots[ls.low]
		if sl == nil || !sl.delivered {
			break
		}
		delete(ls.slots, ls.low)
		ls.low++
	}
	if ls.index == s.index[s.self] {
		return // No echoes nor ACKs to itself.
	}
	n := 0
	for _, seq := range ls.acks {
		if seq >= ls.low || ls.low-seq <= w {
			break
		}
		s.cancel(ls, seq, kindAck)
		n++
	}
	ls.acks = slices.Delete(ls.acks, 0, n)
}

// forget drops the slots seqs of ls, which the window leaves, with the
// echo of each that was echoed and not delivered.
func (s *state) forget(ls *leaderState, seqs []uint64) {
	for _, seq := range seqs {
		sl := ls.slots[seq]
		delete(ls.slots, seq)
		if sl.sig != nil && !sl.delivered && ls.index != s.index[s.self] {
			s.cancel(ls, seq, kindEcho)
		}
	}
}

// checkLeaderMsg validates what SEND and FINAL have in common and moves
// the window of leader from as the leader asks. It returns the leader's
// state, or the error that drops the message.
func (s *state) checkLeaderMsg(from stdtypes.NodeID, inc, seq, low uint64, payload []byte) (*leaderState, error) {
	ls := s.leaders[from]
	switch {
	case ls == nil:
		return nil, s.drop(rUnknownSender, "from %s, not a member", from)
	case len(payload) > s.params.MaxPayloadBytes:
		return nil, s.drop(rOversize, "payload of %d bytes", len(payload))
	case low > seq:
		return nil, s.drop(rMalformed, "Low %d above Seq %d", low, seq)
	case seq-low >= s.params.Window:
		return nil, s.drop(rMalformed, "Seq %d beyond the leader's window from Low %d", seq, low)
	case ls.seen && inc < ls.incarnation:
		return nil, s.drop(rStale, "instance %d of incarnation %d of %s; it is in incarnation %d", seq, inc, from, ls.incarnation)
	case !ls.seen || inc > ls.incarnation:
		s.restarted(ls, inc)
	}
	// The leader gave up on the instances below low: so does this node.
	// A Byzantine leader gains nothing by lying: only its own instances
	// are forgotten.
	s.advance(ls, low)
	return ls, nil
}

// restarted starts anew with a leader's new incarnation: the instances of
// the former are forgotten, and the messages this node sent for them
// stopped.
func (s *state) restarted(ls *leaderState, inc uint64) {
	if ls.seen {
		prefix := reliablenet.MsgID(s.appendPrefix(nil, ls))
		dsl.EmitEvent(s.m, reliablenet.NewCancelPrefix(s.mc.ReliableNet, s.mc.Self, prefix))
	}
	ls.seen, ls.incarnation = true, inc
	ls.low, ls.acks = 0, nil
	clear(ls.slots)
}

// onSend echoes the first payload the leader proposes for an instance.
func (s *state) onSend(from stdtypes.NodeID, msg *SendMsg) error {
	ls, err := s.checkLeaderMsg(from, msg.Incarnation, msg.Seq, msg.Low, msg.Payload)
	if err != nil {
		return err
	}
	sl, ok := ls.open(msg.Seq)
	if !ok || sl.delivered {
		return s.drop(rStale, "SEND for finished instance %s/%d", from, msg.Seq)
	}
	id := InstanceID{Leader: from, Incarnation: msg.Incarnation, Seq: msg.Seq}
	digest := Digest(id, msg.Payload)
	switch {
	case sl.digest == nil: // sentecho = FALSE
		sl.digest = digest
		s.toSign = append(s.toSign, signCtx{id: id, digest: digest})
		return nil
	case !bytes.Equal(sl.digest, digest):
		return s.drop(rEquivocation, "SEND for %v with another payload than before", id)
	}
	return s.drop(rDuplicate, "SEND for %v again", id)
}

// onSigned sends the echoes the crypto module signed.
func (s *state) onSigned(res *crypto.SignResult) error {
	ctxs, ok := s.signing.Recover(res.Origin.ID)
	if !ok {
		return fmt.Errorf("SignResult for unknown request %d", res.Origin.ID)
	}
	if len(res.Sigs) != len(ctxs) {
		return fmt.Errorf("SignResult with %d signatures for %d digests", len(res.Sigs), len(ctxs))
	}
	for i, c := range ctxs {
		ls := s.leaders[c.id.Leader]
		sl := ls.slots[c.id.Seq]
		if sl == nil || sl.sig != nil || !bytes.Equal(sl.digest, c.digest) {
			continue // Forgotten meanwhile (the digest names the incarnation).
		}
		sl.sig = res.Sigs[i]
		if c.id.Leader == s.self {
			// This node's own echo needs no verification.
			if inst := s.own[c.id.Seq]; inst != nil {
				s.addEcho(inst, s.index[s.self], sl.sig)
			}
			continue
		}
		s.send(ls, c.id.Seq, kindEcho, &EchoMsg{Incarnation: c.id.Incarnation, Seq: c.id.Seq, Sig: sl.sig}, c.id.Leader)
	}
	return nil
}

// onEcho has the signature of an echo to an instance this node leads
// verified.
func (s *state) onEcho(from stdtypes.NodeID, msg *EchoMsg) error {
	i, ok := s.index[from]
	if !ok {
		return s.drop(rUnknownSender, "from %s, not a member", from)
	}
	if err := validSig(msg.Sig); err != nil {
		return s.drop(rMalformed, "ECHO for %d: %v", msg.Seq, err)
	}
	if msg.Incarnation != s.params.Incarnation {
		return s.drop(rStale, "ECHO for %d of incarnation %d; this is incarnation %d", msg.Seq, msg.Incarnation, s.params.Incarnation)
	}
	inst := s.own[msg.Seq]
	switch {
	case inst == nil && msg.Seq < s.ownLow():
		return s.drop(rStale, "ECHO for finished instance %d", msg.Seq)
	case inst == nil:
		return s.drop(rUnknownInstance, "ECHO for instance %d, never started", msg.Seq)
	case inst.final != nil:
		return s.drop(rStale, "ECHO for instance %d, certified already", msg.Seq)
	case inst.echo[i] != echoNone:
		return s.drop(rDuplicate, "second ECHO for instance %d", msg.Seq)
	}
	if inst.count+inst.checking >= s.quorum {
		// Enough echoes are being verified to certify the instance: this
		// one is verified only if one of them turns out invalid.
		inst.echo[i], inst.spare[i] = echoSpare, msg.Sig
		return nil
	}
	s.verifyEcho(inst, i, msg.Sig)
	return nil
}

// verifyEcho has member i's echo to an own instance verified.
func (s *state) verifyEcho(inst *ownInstance, i int, sig []byte) {
	inst.echo[i] = echoChecking
	inst.checking++
	s.toVerify = append(s.toVerify, crypto.SigItem{Msg: inst.digest, Sig: sig, Signer: s.params.Nodes[i]})
	s.verifyCtxs = append(s.verifyCtxs, verifyCtx{id: s.ownID(inst.seq), items: 1, from: i, sig: sig})
}

// addEcho adds member i's verified echo to an instance this node leads;
// with a quorum, the instance is certified at the end of the batch.
func (s *state) addEcho(inst *ownInstance, i int, sig []byte) {
	if inst.final != nil || inst.sigs[i] != nil {
		return
	}
	inst.echo[i] = echoValid
	inst.sigs[i] = sig
	inst.count++
	if inst.count == s.quorum {
		s.certified = append(s.certified, inst.seq)
	}
}

// sendFinals sends the FINAL of each instance certified in this batch and
// delivers it here: the leader built the certificate from signatures it
// verified, so it need not send it to itself and verify it again. The
// FINAL replaces the SEND, which the reliablenet module stops sending.
func (s *state) sendFinals() error {
	ls := s.leaders[s.self]
	for _, seq := range s.certified {
		inst := s.own[seq]
		if inst == nil || inst.final != nil {
			continue
		}
		final := &FinalMsg{Incarnation: s.params.Incarnation, Seq: seq, Payload: inst.payload}
		for i, sig := range inst.sigs {
			if sig != nil && len(final.Sigs) < s.quorum {
				final.Signers = append(final.Signers, s.params.Nodes[i])
				final.Sigs = append(final.Sigs, sig)
			}
		}
		inst.final = final // sentfinal := TRUE
		final.Low = s.ownLow()
		inst.acked[s.index[s.self]] = true
		inst.acks = 1
		if len(s.others) > 0 {
			s.cancel(ls, seq, kindSend)
			s.send(ls, seq, kindFinal, final, s.others...)
		}
		if sl := ls.slots[seq]; sl != nil {
			s.deliver(s.ownID(seq), ls, sl, inst.payload)
		}
		if inst.acks == len(s.params.Nodes) { // A single node.
			if err := s.finish(inst); err != nil {
				return err
			}
		}
	}
	s.certified = s.certified[:0]
	return nil
}

// onFinal has the certificate of a FINAL verified, if the node has not
// delivered the instance.
func (s *state) onFinal(from stdtypes.NodeID, msg *FinalMsg) error {
	if s.leaders[from] != nil {
		// The certificate's form first: a bad one changes nothing.
		if err := s.checkCertificate(msg); err != nil {
			return s.drop(rBadCertificate, "FINAL for %s/%d: %v", from, msg.Seq, err)
		}
	}
	ls, err := s.checkLeaderMsg(from, msg.Incarnation, msg.Seq, msg.Low, msg.Payload)
	if err != nil {
		return err
	}
	sl, ok := ls.open(msg.Seq)
	switch {
	case !ok || sl.delivered:
		return s.drop(rStale, "FINAL for finished instance %s/%d", from, msg.Seq)
	case sl.verifying:
		return s.drop(rDuplicate, "FINAL for %s/%d while verifying another", from, msg.Seq)
	case sl.badFinals >= maxBadFinals:
		return s.drop(rBadCertificate, "FINAL for %s/%d: its leader sent %d invalid certificates for it already", from, msg.Seq, sl.badFinals)
	}
	id := InstanceID{Leader: from, Incarnation: msg.Incarnation, Seq: msg.Seq}
	digest := Digest(id, msg.Payload)
	// This node's own signature of this very digest needs no
	// verification: it is the one it made (the bytes are compared).
	mine := sl.sig != nil && bytes.Equal(sl.digest, digest)
	items := 0
	for i, signer := range msg.Signers {
		if mine && signer == s.self && bytes.Equal(msg.Sigs[i], sl.sig) {
			continue
		}
		s.toVerify = append(s.toVerify, crypto.SigItem{Msg: digest, Sig: msg.Sigs[i], Signer: signer})
		items++
	}
	c := verifyCtx{final: true, id: id, items: items, payload: msg.Payload, digest: digest}
	if items == 0 {
		s.verifiedFinal(c, true)
		return nil
	}
	sl.verifying = true
	s.verifyCtxs = append(s.verifyCtxs, c)
	return nil
}

// checkCertificate checks the form of a FINAL's certificate: a quorum of
// distinct members, each with a signature of possible length. The
// signatures themselves go to the crypto module.
func (s *state) checkCertificate(msg *FinalMsg) error {
	n := len(msg.Signers)
	switch {
	case n != len(msg.Sigs):
		return fmt.Errorf("%d signers and %d signatures", n, len(msg.Sigs))
	case n < s.quorum:
		return fmt.Errorf("%d signers; a certificate needs %d", n, s.quorum)
	case n > len(s.params.Nodes):
		return fmt.Errorf("%d signers of %d nodes", n, len(s.params.Nodes))
	}
	seen := make([]bool, len(s.params.Nodes))
	for k, signer := range msg.Signers {
		i, ok := s.index[signer]
		switch {
		case !ok:
			return fmt.Errorf("signer %q is not a member", signer)
		case seen[i]:
			return fmt.Errorf("signer %q twice", signer)
		}
		seen[i] = true
		if err := validSig(msg.Sigs[k]); err != nil {
			return fmt.Errorf("signer %q: %w", signer, err)
		}
	}
	return nil
}

// onVerified takes the answer to the verifications of a batch: echoes
// count towards their instance's certificate, certificates deliver.
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
		if c.final {
			s.verifiedFinal(c, ok)
		} else {
			s.verifiedEcho(c, ok)
		}
	}
	return nil
}

// verifiedEcho adds a verified echo, or counts a bad one.
func (s *state) verifiedEcho(c verifyCtx, ok bool) {
	inst := s.own[c.id.Seq]
	if inst == nil {
		return // Finished meanwhile.
	}
	inst.checking--
	if ok {
		s.addEcho(inst, c.from, c.sig)
		return
	}
	s.badInput(rBadSignature, "ECHO with an invalid signature", c.id, s.params.Nodes[c.from])
	// The node may echo again (its echo may have been corrupted on the
	// way), and a spare echo takes the place of this one.
	inst.echo[c.from] = echoNone
	for i, st := range inst.echo {
		if st == echoSpare && inst.count+inst.checking < s.quorum {
			sig := inst.spare[i]
			inst.spare[i] = nil
			s.verifyEcho(inst, i, sig)
		}
	}
}

// verifiedFinal delivers an instance whose certificate verified, and
// acknowledges it to the leader.
func (s *state) verifiedFinal(c verifyCtx, ok bool) {
	ls := s.leaders[c.id.Leader]
	sl := ls.slots[c.id.Seq]
	if sl == nil || sl.delivered || ls.incarnation != c.id.Incarnation {
		return // Forgotten meanwhile.
	}
	sl.verifying = false
	if !ok {
		if sl.badFinals < maxBadFinals {
			sl.badFinals++
		}
		s.badInput(rBadCertificate, "FINAL with an invalid signature in its certificate", c.id, c.id.Leader)
		return
	}
	echoed := sl.sig != nil
	s.deliver(c.id, ls, sl, c.payload)
	if echoed {
		s.cancel(ls, c.id.Seq, kindEcho) // The leader has a certificate.
	}
	i, _ := slices.BinarySearch(ls.acks, c.id.Seq)
	ls.acks = slices.Insert(ls.acks, i, c.id.Seq)
	s.send(ls, c.id.Seq, kindAck, &AckMsg{Incarnation: c.id.Incarnation, Seq: c.id.Seq, Digest: c.digest}, c.id.Leader)
}

// deliver delivers an instance: delivered := TRUE; trigger <bcb, Deliver | s, m>.
func (s *state) deliver(id InstanceID, ls *leaderState, sl *slot, payload []byte) {
	sl.delivered = true
	s.counters.inc(rDelivered)
	dsl.EmitEvent(s.m, NewDeliver(s.mc.App, id, payload))
	s.advance(ls, 0)
}

// badInput counts and logs input found invalid by the crypto module,
// whose answer covers many messages and so cannot be dropped as a whole.
func (s *state) badInput(r reason, what string, id InstanceID, from stdtypes.NodeID) {
	s.counters.inc(r)
	if s.logger.Enabled(logging.LevelDebug) {
		s.logger.LogAttrs(logging.LevelDebug, "dropped input", slog.String("module", string(s.mc.Self)),
			slog.String("reason", what), slog.String("instance", id.String()), slog.String("from", string(from)))
	}
}

// onAck notes that a node delivered an instance; the leader forgets the
// instance once every node did.
func (s *state) onAck(from stdtypes.NodeID, msg *AckMsg) error {
	i, ok := s.index[from]
	if !ok {
		return s.drop(rUnknownSender, "from %s, not a member", from)
	}
	if msg.Incarnation != s.params.Incarnation {
		return s.drop(rStale, "ACK for %d of incarnation %d; this is incarnation %d", msg.Seq, msg.Incarnation, s.params.Incarnation)
	}
	inst := s.own[msg.Seq]
	switch {
	case inst == nil && msg.Seq < s.ownLow():
		return s.drop(rStale, "ACK for finished instance %d", msg.Seq)
	case inst == nil || inst.final == nil:
		return s.drop(rUnknownInstance, "ACK for instance %d, which has no certificate", msg.Seq)
	case !bytes.Equal(msg.Digest, inst.digest):
		return s.drop(rBadAck, "ACK for instance %d of another payload", msg.Seq)
	case inst.acked[i]:
		return s.drop(rDuplicate, "second ACK for instance %d", msg.Seq)
	}
	inst.acked[i] = true
	inst.acks++
	if inst.acks == len(s.params.Nodes) {
		return s.finish(inst)
	}
	return nil
}

// onTick counts the ticks of the instances n−f nodes acknowledged, and
// gives up on those that waited RetainTicks ticks for the others.
func (s *state) onTick(*Tick) error {
	var expired []*ownInstance
	for _, seq := range s.ownOrder {
		inst := s.own[seq]
		if inst.final == nil || inst.acks < len(s.params.Nodes)-s.params.F {
			continue
		}
		if inst.retainTicks++; inst.retainTicks > s.params.RetainTicks {
			expired = append(expired, inst)
		}
	}
	for _, inst := range expired {
		s.counters.inc(rGaveUp)
		if err := s.finish(inst); err != nil {
			return err
		}
	}
	return nil
}

// finish forgets an own instance that every node acknowledged, or that the
// leader gives up on, has the reliablenet module stop sending its FINAL
// (to the nodes given up on, or whose acknowledgment of the FINAL itself
// is still on its way), and starts what waited for room in the window.
func (s *state) finish(inst *ownInstance) error {
	if len(s.others) > 0 {
		s.cancel(s.leaders[s.self], inst.seq, kindFinal)
	}
	delete(s.own, inst.seq)
	s.ownOrder = slices.DeleteFunc(s.ownOrder, func(seq uint64) bool { return seq == inst.seq })
	return s.startQueued()
}

// flushCrypto sends what the batch asked of the crypto module: one
// SignRequest, one VerifyRequest.
func (s *state) flushCrypto() error {
	if len(s.toSign) > 0 {
		digests := make([][]byte, len(s.toSign))
		for i, c := range s.toSign {
			digests[i] = c.digest
		}
		id := s.signing.Store(s.toSign)
		s.toSign = nil
		dsl.EmitEvent(s.m, &crypto.SignRequest{
			Header: stdtypes.NewHeader(s.mc.Crypto), Origin: crypto.Origin{Module: s.mc.Self, ID: id}, Msgs: digests,
		})
	}
	if len(s.toVerify) > 0 {
		id := s.verifying.Store(s.verifyCtxs)
		dsl.EmitEvent(s.m, &crypto.VerifyRequest{
			Header: stdtypes.NewHeader(s.mc.Crypto), Origin: crypto.Origin{Module: s.mc.Self, ID: id}, Items: s.toVerify,
		})
		s.toVerify, s.verifyCtxs = nil, nil
	}
	return nil
}
