// Package pbft orders one segment of ISS with PBFT: the sequenced
// broadcast each leader of an epoch runs for its slots (docs/iss.md,
// section 3).
//
// It follows Castro and Liskov, "Practical Byzantine Fault Tolerance"
// (OSDI '99), and its view change in the form of Castro's thesis, as ISS
// uses it: Stathakopoulou, Rüsch, Brandenburger and Vukolić,
// "State-Machine Replication Scalability Made Simple" (EuroSys 2022). One
// instance (an Orderer) orders the slots of one segment: the segment's
// leader proposes a value per slot in view 0, every node pre-prepares,
// prepares and commits it with strong quorums by weight
// (membership.Voters), and delivers it to ISS (iss.SBDeliver). A leader
// that fails is replaced by a view change, whose NEWVIEW proposes again
// what may have been committed and ⊥ (iss.SBDeliver with Aborted) for the
// rest: only the segment's own leader proposes values.
//
// # Use
//
// A node runs one factory of orderers (NewFactory) under the ID ISS knows
// ("ordering"); ISS creates an orderer per segment with
// stdevents.NewSubmodule(iss.OrdererID("ordering", epoch, segment), epoch,
// segment) and removes those of old epochs with a GarbageCollect (and a
// reliablenet CancelPrefix of their messages in flight). An orderer talks to the
// modules ModuleConfig names: the proposer and the validator
// (iss.RequestProposal, iss.CancelProposal, iss.VerifyProposal; the
// proposer may answer iss.ProposalPending before its iss.Proposal), the
// reliablenet module for its messages, the crypto module for the
// VIEWCHANGEs' signatures, the timer, and the WAL, through ISS, which owns
// its orderers' records.
//
// # View change
//
// A node whose segment made no progress for ViewChangeTimeout moves to the
// next view and sends a signed VIEWCHANGE with, for every slot, the
// highest view in which it prepared it (P) and the views in which it
// pre-prepared each digest (Q): the form of Castro's thesis, which needs
// no signed PREPAREs. The next view's leader decides each slot from the
// VIEWCHANGEs of a strong quorum (decide): the value of the highest
// prepared certificate that the others do not contradict (a strong
// quorum) and that a weak quorum pre-prepared (so no Byzantine node can
// invent it), or ⊥ if a strong quorum prepared nothing; every node checks
// the NEWVIEW by the same rule. P covers committed slots too: a slot this
// node committed may be one that others did not. A node starts the timer
// of the view it moves to only once VIEWCHANGEs for it from a strong
// quorum are in, and the timeout doubles with every view that fails in a
// row, up to MaxViewChangeTimeout; a node that sees VIEWCHANGEs for higher
// views from a weak quorum joins them.
//
// # Catch-up
//
// A node that delivered every slot sends DONE (the digests) to all. A node
// that has the same DONE from a weak quorum asks those nodes for the slots
// it lacks and checks each answer against the digests. A node asks for
// DONEs when its view-change timer fires and after a restart.
//
// # Messages and what each rule checks
//
// Every message is validated before it changes anything: the sender is a
// voter, the slot one of the segment's, the view the current one (a later
// one waits in a bounded buffer per sender; an earlier one is dropped),
// values at most MaxValueBytes, digests of the right size, a PREPREPARE or
// NEWVIEW from the view's leader, VIEWCHANGE signatures, a NEWVIEW's proof.
// An invalid message is dropped and counted by reason (Stats), never an
// error: errors are for local misuse, naming the event.
//
// # Digests
//
// Digests are computed in the module (ValueDigest, with crypto.Digest),
// not by the hasher module: a value is small (a certificate in Trantor,
// at most MaxValueBytes), the digest is needed at once in the middle of a
// handler, and a round trip would cost more events and pending state than
// the hash. The slot is in the digest, so no vote counts for another slot.
//
// # Crash safety
//
// Before a PREPREPARE, a PREPARE, a COMMIT, a VIEWCHANGE, and before it
// acts on a NEWVIEW, an orderer appends a record (PrePrepareRecord,
// PreparedRecord, ViewRecord, NewViewRecord) to the WAL, in an
// iss.OrdererRecord, with the send as the append's follow-up. Its own
// messages come back to it through the reliablenet module and count only
// then, once durable. After a restart ISS hands the records back before
// any message; the orderer resumes in the view it was in, sends again what
// it had sent, and asks the others for their DONE so that the slots
// committed while it was down complete through catch-up.
package pbft
