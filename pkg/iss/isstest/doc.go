// Package isstest is what ISS's simulation tests need besides the protocol
// (pkg/iss, pkg/orderers/pbft, pkg/checkpoint): an application to order
// requests for, checkers of what the nodes execute, a load driver, and the
// faults the tests inject. ISS is Stathakopoulou, Rüsch, Brandenburger,
// Vukolić: "State-Machine Replication Scalability Made Simple" (EuroSys
// 2022); docs/iss.md describes it as Mir builds it.
//
// # The App
//
// App is one node's proposer, validator and application, the module ID
// "app" (DefaultID) of the agreed wiring: a deterministic passive module.
//
//   - Requests reach it as Submit events the test injects (Driver does),
//     and wait in a bounded pending set. A request is (client, sequence
//     number, payload); it falls in the bucket BucketOf(id, NumBuckets).
//   - iss.RequestProposal: it answers with a Proposal of the oldest pending
//     requests of the request's Buckets, encoded by EncodeBatch, at most
//     MaxBatchRequests and MaxBatchBytes; with none, it holds the request
//     and answers it as soon as a request of those buckets arrives. A
//     proposed request is not proposed again unless its slot is delivered
//     without it (⊥, or an empty value).
//   - iss.VerifyProposal: a value is valid if it is empty, or a batch
//     (DecodeBatch, within the limits) whose every request is in the
//     leader's buckets, not executed yet, and in it once.
//   - iss.Deliver: it executes slot after slot, a value or ⊥; a gap or a
//     slot delivered twice is an error (an ISS bug). It executes the
//     requests of a batch that were not executed before, and extends the
//     log's hash chain (ChainNext).
//   - iss.SnapshotRequest: its Snapshot's Data is the state (the next
//     slot, the chain link, and per client the low watermark and the
//     executed requests above it, within ClientWindow); NextVoters comes
//     from the membership schedule Params.Memberships, to test weighted
//     memberships and reconfiguration.
//   - iss.RestoreState: it takes such a state (state transfer, or a
//     restart from a stable checkpoint).
//
// Every Submit, delivery and restore is reported to Params.Observer: the
// checkers see what each node executed, outside the App's deterministic
// state.
//
// Wiring the App into a node is one entry of its modules:
//
//	p := isstest.DefaultParams(info.ID)
//	p.Incarnation = info.Incarnation
//	p.Observer = checker.Report
//	app, err := isstest.New(p)
//	...
//	mods[isstest.DefaultID] = app
package isstest
