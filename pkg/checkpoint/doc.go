// Package checkpoint is the checkpoint module of ISS (docs/iss.md,
// sections 4 and 5): at the end of each epoch every voter signs the
// epoch, the first slot of the next and the hash of the checkpointed
// State; signatures of a strong quorum of the epoch's voting weight make
// a stable checkpoint certificate, which lets every node forget what came
// before it, and lets a node that fell behind fetch the State from
// another and rejoin (state transfer).
//
// It follows the checkpoints of PBFT (Castro and Liskov, "Practical
// Byzantine Fault Tolerance and Proactive Recovery", ACM TOCS 20(4),
// 2002, section 4.3: CHECKPOINT messages, a certificate of 2f+1 of them,
// the low water mark, garbage collection, fetching state from a signer)
// as ISS uses them (Stathakopoulou, Rüsch, Brandenburger and Vukolić,
// "State-Machine Replication Scalability Made Simple", EuroSys 2022: a
// checkpoint per epoch, which also carries the memberships decided for
// the next epochs), with quorums of weight (membership.Voters) rather
// than of nodes.
//
// # The protocol
//
// Each handler is registered under the line it implements (checkpoint.go,
// register):
//
//	upon Start(e, state) from ISS:
//	    h := hash(state); σ := sign(e, state.sn, h)
//	    send CHECKPOINT(e, sn, h, σ) to the voters of e
//	upon CHECKPOINT(e, sn, h, σ) from voter p of e, with (sn, h) this node's own:
//	    if verify(p, σ) then sigs[e][p] := σ
//	upon weight(sigs[e]) a strong quorum of the voters of e:
//	    cert := (e, sn, h, sigs[e]); send Stable(cert, state) to ISS; latest := cert
//	    forget the epochs up to e but the last RetainedCheckpoints
//	every ResendPeriod:
//	    send STABLECHECKPOINT(latest) to every node
//	upon STABLECHECKPOINT(cert) from p with cert.e > latest.e:
//	    if the voters of cert.e are known: accept cert if it verifies against them
//	    else: accept cert once a weak quorum of the latest voters known sent it
//	upon accepting cert:
//	    if this node's own State of cert.e hashes to cert.h: Stable(cert, that State)
//	    else: send SNAPSHOTREQUEST(cert.e) to a source; after SnapshotTimeout, to the next
//	          (after a ResendPeriod if cert.e is the epoch this node is ordering:
//	          its own Start usually comes first)
//	upon SNAPSHOTRESPONSE(state) from the source asked, with hash(state) = cert.h:
//	    send Stable(cert, state) to ISS; latest := cert
//	upon SNAPSHOTREQUEST(e) from p: send SNAPSHOTRESPONSE(the retained State of e) to p
//
// The sources of a verified certificate are its signers, then its
// sender; those of a certificate accepted on a weak quorum's word are the
// nodes of that quorum, at least one of which is correct and keeps the
// State (a Byzantine sender may name signers that do not exist).
//
// ISS receives the Stables of its own Starts at Start.ReplyTo, and those
// of state transfers at ModuleConfig.ISS; a Stable tells which by its
// destination only. Stables come in increasing epochs: once a checkpoint
// is stable, Starts and certificates of earlier or equal epochs are
// ignored.
//
// ISS may also send the module two events: a SendLatest, to have the
// latest certificate sent to nodes whose messages are of an epoch it has
// garbage-collected, and, after a restart, a Stable (addressed to the
// module) of the checkpoint it restored from its WAL: the module takes it
// as its latest, serves it, and learns the memberships its State holds,
// without which it would know only those of ModuleParams.
//
// # Hashes, signatures, certificates
//
// StateHash fixes the canonical encoding of a State that nodes hash
// (StateHashInput, every field, length-framed and versioned); the module
// has the hasher module (ModuleConfig.Hasher) compute it, so that a large
// State is hashed off the event loop. Voters sign SignedBytes(epoch, sn,
// hash), which begins with a domain tag of its own. A Certificate lists
// its signatures in the order of the signers among the epoch's voters,
// each signer once.
//
// Other modules (ISS, Trantor) verify a certificate with
// VerifyCertificate: it checks, against the voters of the certificate's
// epoch, everything that needs no key (distinct voters in order, a strong
// quorum of weight, lengths), and returns the signatures to hand to the
// crypto module in a crypto.VerifyRequest. The certificate is valid when
// the error is nil and the answer's AllValid is set.
//
// # Which voters
//
// A certificate is only as good as the voters it is checked against. The
// module knows the voters of epochs 0 to ConfigOffset from ModuleParams,
// and those of later epochs from the Starts (Start.Voters for the epoch,
// and the State's Voters for the epochs Epoch+1 to Epoch+1+ConfigOffset)
// and from the States of stable checkpoints: the chain of memberships
// since the last stable checkpoint it trusts. A certificate of an epoch
// beyond that chain cannot be verified: a weak quorum of the latest
// voters known vouching for it (one sender's vote each, the latest) is
// what makes it acceptable then.
//
// # Untrusted input and bounds
//
// Every message is validated before it changes anything, and dropped,
// counted (Stats) and logged at LevelDebug when invalid, never an error:
// a sender that is not a voter, a hash or signature of impossible length,
// an epoch outside the window, a signature of another state than this
// node's, a certificate that fails VerifyCertificate or the crypto
// module, a State that does not match its certificate or exceeds
// MaxStateBytes, a response nobody asked for. What a peer can make the
// module keep is bounded: one early signature per sender and epoch, for
// fewer than EpochWindow epochs beyond the latest stable checkpoint; one
// claimed certificate per voter; one certificate verification per node at
// a time; one State being fetched and one hashed; MaxServesPerPeriod
// answers per ResendPeriod. Only RetainedCheckpoints stable checkpoints
// are kept, and the CHECKPOINTs of the epochs before the latest stable
// one are cancelled in the reliablenet module.
//
// A Start that ISS gets wrong (invalid voters, a State beyond
// MaxStateBytes, an epoch started twice) is an error that stops the node
// with a message naming the event.
//
// # Determinism
//
// The module is passive and deterministic: time comes from its timer
// (Ticks every ResendPeriod, SnapshotTimeouts), and no map order reaches
// its output.
package checkpoint
