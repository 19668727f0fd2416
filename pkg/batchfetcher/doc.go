// Package batchfetcher is Trantor's batch fetcher (docs/trantor.md,
// section 1, hop 5): ISS's application, which turns each ordered
// availability certificate back into its transactions, in the order of
// the log, drops those that must not execute, and hands the rest to the
// replicated application. It is a deterministic passive module: every
// correct node hands its application the same transactions in the same
// order, and takes the same snapshots.
//
// ISS (Stathakopoulou, Rüsch, Brandenburger and Vukolić, "State-Machine
// Replication Scalability Made Simple", EuroSys 2022) orders certificates,
// not transactions: the availability layer (pkg/availability, the
// "multisig collector" of the original Mir's Trantor) keeps the batches. The fetcher asks it for each batch, and keeps the log's
// order although availability answers in whatever order it finds the
// batches (a local store, or a fetch from the certificate's signers).
//
// # The rules
//
// Each handler is written under the line of docs/trantor.md it implements:
//
//	upon iss.Deliver(sn, value | ⊥, leader's buckets):
//	    queue slot sn; if value: RequestTxs(value, Ref sn) to availability
//	upon availability.ProvideTxs(Ref sn, txs): slot sn has txs
//	upon iss.SnapshotRequest(e, sn): queue it behind slot sn−1
//	while the queue's head has what it needs (⊥, empty, answered, a snapshot request):
//	    slot: keep the txs not executed, in the buckets, in their client's window,
//	          of a known client or with room for one; mark them executed;
//	          Execute(txs) to the application, then mempool.Executed(ids)
//	    snapshot request (epoch e ends): mempool.EpochExecuted(e) to the mempool;
//	          SnapshotRequest to the application; keep the clients' encoding
//	upon AppSnapshot(data, voters): iss.Snapshot(clients ++ data, voters) to ISS
//	upon iss.RestoreState(sn, state): decode strictly; clients := its clients;
//	    drop the queue; RestoreApp(its application part) to the application;
//	    mempool.Watermarks(clients), then mempool.EpochExecuted(e) to the mempool
//	upon iss.StableCheckpoint(sn): to availability once every slot below sn is handed on
//
// # Executed once
//
// A client numbers its transactions from 0, and retries one it has no
// answer for; a mempool that forgot the client or restarted may give it
// out again, and a Byzantine leader may propose it twice. (Two correct
// leaders of its bucket in successive epochs do not both propose it: the
// fetcher tells the mempool when an epoch is executed, mempool.EpochExecuted,
// and the mempool gives out nothing for the next epoch before.) The
// fetcher remembers per client a low watermark (every number below it
// executed) and the numbers executed above it: a client's transactions
// execute out of order (they fall in different buckets, ordered by
// different leaders), so a watermark alone would not do. A transaction
// numbered ClientWindow or more above its client's watermark is dropped,
// which bounds what is remembered per client; MaxClients bounds the
// clients. This state is part of every snapshot, so that a node that
// restores one executes what the others execute. A transaction outside the
// buckets of its slot's leader (mempool.BucketOf) is dropped too: a leader
// proposes only from its own buckets, so that no two leaders propose the
// same transaction at once and a censoring leader holds a bucket for one
// epoch only.
//
// # Snapshots
//
// A snapshot's Data is the fetcher's state (the clients) followed by the
// application's, in one canonical, versioned encoding (the fetcher refuses
// anything else, and anything beyond the limits of ModuleParams): the checkpoint module
// signs its hash, and a node that fell behind restores it from another
// node. The fetcher encodes its part when it asks the application for its
// snapshot, so the slots it hands on while the application answers do not
// leak into it; the application answers before it handles the Executes
// behind the request (a module handles its events in the order they were
// emitted).
//
// A RestoreState whose Data does not decode is an error (ErrInvalidState):
// its hash was signed by a strong quorum (a stable checkpoint), or it is
// this node's own from its write-ahead log, so it cannot be garbage unless
// more than a third of the voting weight is faulty or the disk is corrupt;
// to go on executing from the state before it would fork this node's
// state from the others'.
//
// # Bounds
//
// The slots not handed on are at most MaxPendingSlots: ISS delivers at
// most ConfigOffset+1 epochs beyond the first slot not handed on, because
// it needs the snapshot after epoch e (taken once every slot of e is
// handed on) to start epoch e+ConfigOffset+1; so PendingSlotsBound(iss
// params, leaders) slots, each with its batch once availability provides
// it. ISS's snapshot requests not answered yet are at most ConfigOffset+1
// for the same reason (twice that across a restore). The clients take at most MaxClients × (MaxClientIDBytes
// + ClientWindow numbers). A stable checkpoint beyond the slots handed on
// is held (the latest one only) until they are: availability deletes the
// batches it covers, which the fetcher may still have to ask for.
//
// After a RestoreState the mempool is told the clients' watermarks and
// the numbers executed above them (mempool.Watermarks), before any stable
// checkpoint the fetcher held goes on: the mempool then neither takes nor
// proposes again what the state executed, and availability, which hands
// back at that checkpoint the batches it proposed and did not see
// delivered (some may be of slots the state skipped), brings none of
// those back.
package batchfetcher
