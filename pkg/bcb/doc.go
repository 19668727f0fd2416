// Package bcb is Byzantine consistent broadcast: a leader broadcasts a
// payload, and no two correct nodes deliver different payloads for it,
// even if the leader is Byzantine. It is the Signed Echo Broadcast of
// Cachin, Guerraoui and Rodrigues, "Introduction to Reliable and Secure
// Distributed Programming" (2nd ed., Springer, 2011), for n ≥ 3f+1 nodes
// of which at most f are Byzantine, running many instances at once.
//
// # Properties
//
// For each instance (InstanceID: the leader, its incarnation and a
// sequence number):
//
//   - Consistency: no two correct nodes deliver different payloads.
//   - Integrity: a node delivers at most once (in each of its runs: a node
//     that restarts has forgotten what it delivered); if the leader is
//     correct, only what it broadcast.
//   - Validity: if the leader is correct, every correct node delivers its
//     payload (see "Losses and memory" for the one limit).
//
// Unlike reliable broadcast, a Byzantine leader can make some correct
// nodes deliver and others not (no totality).
//
// # The protocol, as the textbook writes it
//
// Each handler of this package is registered under the line it implements
// (bcb.go, register):
//
//	upon event <bcb, Broadcast | m> do                        // only the leader s
//	    forall q ∈ Π do trigger <al, Send | q, [SEND, m]>
//	upon event <al, Deliver | p, [SEND, m]> such that p = s and sentecho = FALSE do
//	    sentecho := TRUE
//	    σ := sign(self, bcb‖self‖ECHO‖m)
//	    trigger <al, Send | s, [ECHO, m, σ]>
//	upon event <al, Deliver | p, [ECHO, m, σ]> do              // only the leader s
//	    if echos[p] = ⊥ ∧ verifysig(p, bcb‖p‖ECHO‖m, σ) then
//	        echos[p] := m; Σ[p] := σ
//	upon exists m ≠ ⊥ such that #({p ∈ Π | echos[p] = m}) > (N+f)/2 and sentfinal = FALSE do
//	    sentfinal := TRUE
//	    forall q ∈ Π do trigger <al, Send | q, [FINAL, m, Σ]>
//	upon event <al, Deliver | p, [FINAL, m, Σ]> do
//	    if #({p ∈ Π | Σ[p] ≠ ⊥ ∧ verifysig(p, bcb‖p‖ECHO‖m, Σ[p])}) > (N+f)/2 and delivered = FALSE then
//	        delivered := TRUE
//	        trigger <bcb, Deliver | s, m>
//
// What differs, and why:
//
//   - Nodes sign the instance's Digest (leader, incarnation, sequence
//     number, payload) rather than m itself, and ECHO carries no m: the
//     leader knows it.
//   - The links are not perfect, but the reliablenet module
//     (pkg/reliablenet) makes them so: the handlers send each message once,
//     through it, and it retransmits the message until the destination
//     has it or the bcb module cancels it (see "Losses and memory"). It
//     may deliver a message twice; a handler drops the second copy.
//   - sign and verifysig are requests to the crypto module (pkg/crypto),
//     answered by SignResult and VerifyResult events, so that the same
//     code runs with the synchronous module in simulation and with the
//     worker pool in production. A batch's requests go out together at
//     its end (one SignRequest, one VerifyRequest), which lets the crypto
//     module verify many signatures as one batch; the context of each is
//     kept in a contextstore.Store until its answer comes.
//   - The leader only counts echoes for its own m, so "exists m" is its
//     m; the quorum is the Quorum() smallest number above (N+f)/2; the
//     certificate holds exactly that many signatures.
//   - The leader delivers when it builds the certificate, rather than
//     sending FINAL to itself and verifying signatures it has verified.
//   - Verification is the protocol's cost, so none is done that the
//     rules do not need: the leader verifies no more echoes than a
//     certificate needs, keeping later ones aside in case one of those
//     fails, and does not verify its own; a node does not verify its own
//     signature in a certificate (it compares the bytes). With n = 4 an
//     instance costs 4 signatures and 9 verifications (BenchmarkBCB).
//   - A node that echoed m may deliver another m' with a valid
//     certificate; a correct node echoes only one m per instance, which is
//     what makes two certificates of different payloads impossible.
//
// # Untrusted input
//
// Every message is validated before it changes anything, and dropped,
// counted (Stats) and logged at LevelDebug when invalid: a sender outside
// the membership, a payload above MaxPayloadBytes, an instance beyond the
// leader's window, a second ECHO or a second SEND with another payload, a
// signature of impossible length or that does not verify, a certificate
// with too few, repeated or unknown signers or a bad signature, an ACK of
// another payload, a message of a leader's former incarnation. The leader
// of an instance is never read from a message: it is the sender of SEND
// and FINAL and the receiver of ECHO and ACK. Verifying a certificate is
// the costly check, so a node verifies at most three invalid certificates
// per instance: only the leader sends FINALs, and a correct leader never
// sends an invalid one; after that the leader's FINALs for the instance
// are dropped unverified.
//
// # Restarts
//
// A node that restarts has lost its state, and numbers its broadcasts from
// 0 again. So that its new instances are not taken for those it led
// before, an instance is named by the leader's incarnation too
// (ModuleParams.Incarnation, which the deployment makes higher at every
// start of the node), and so is every message. A node takes the highest
// incarnation of a leader it has seen in a SEND or a FINAL for the
// current one: it forgets the instances of the earlier ones, has the
// reliablenet module stop sending its ECHOs and ACKs for them, and drops
// their messages as stale. A leader counts only the ECHOs and ACKs of its
// own incarnation, and an ACK names the digest of what it acknowledges:
// an acknowledgment of the former incarnation, still on its way or still
// retransmitted, counts for nothing. The reliablenet module gets the same
// incarnation (ReliableNetParams), for the same reason one level down.
//
// # Losses and memory
//
// The textbook assumes perfect links; transports lose messages. Every
// message goes through the reliablenet module, named
// "leader/incarnation/seq/kind" (the leader by its index in the
// membership), which retransmits it until its destination has it or the
// bcb module cancels it: the SEND until the FINAL replaces it; the FINAL
// until the leader finishes the instance; the ECHO until the node
// delivers the instance or forgets it; the ACK until the leader has
// surely finished the instance (below). When a node learns of a leader's
// new incarnation, it cancels its messages for the former one at once, by
// the prefix of their names.
//
// Each node acknowledges its delivery of an instance to the leader (ACK),
// and the leader finishes an instance (forgets it) once every node did.
// The window rule bounds everything else. Low is the oldest instance a
// leader has not finished: it starts instance Seq only once Seq < Low +
// Window, and queues the Broadcasts that must wait (at most
// MaxQueuedBroadcasts); its SENDs and FINALs carry Low. A node keeps, of
// each leader, the instances from its own low mark on, the oldest it has
// not delivered, which a SEND or a FINAL moves up to the leader's Low; it
// drops a SEND or a FINAL for an instance at Low+Window or beyond. It
// forgets an instance once it has delivered it and all before it, or once
// the leader's Low passes it, and cancels the ACK of an instance once its
// low mark is more than Window past it: the leader started an instance
// that far beyond, so it had finished this one.
//
// A crashed node never acknowledges: so the leader also gives up on an
// instance RetainTicks ticks after n−f nodes acknowledged it, stops
// sending its FINAL, and moves Low past it: the others forget it too when
// its next SEND or FINAL tells them.
// Memory is therefore bounded by the window, per leader, whatever the
// Byzantine nodes send, here and in the reliablenet module
// (ReliableNetParams sizes it). The price is that a correct node cut off
// for longer than RetainTicks ticks may miss instances, and so may one
// that crashes after its reliablenet module took a FINAL and before it
// delivered it.
//
// # Recording and replay
//
// A node recorded with the metadata ReplayMeta makes of its configuration
// (eventlog.StreamOptions.Meta) can be replayed: ReplayBuilder rebuilds
// its bcb and reliablenet modules from the recording, and the replay
// (package replay, mircat replay) checks that they produce exactly what
// the node did.
//
// # Determinism
//
// The module starts no goroutines, reads no clock (time comes as Ticks
// from the timer) and never lets map order reach its output: simulation
// runs (pkg/testsim) reproduce exactly from their seed. The package's
// Byzantine cases (an equivocating, a silent, a withholding leader, a
// node forging signatures, certificates and ACKs) and the bugs it had are
// kept as stored scenarios of such runs, in testdata/scenarios (see
// package scenario).
package bcb
