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
//     without it (⊥, or an empty value), or its orderer dropped the
//     Proposal (iss.CancelProposal).
//   - iss.CancelProposal: the orderer proposed the slot without the App's
//     value; the App drops the held request, or queues again the requests
//     of its answer.
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
// # Checking
//
// Checker takes the Apps' reports (Params.Observer = checker.Report) and
// checks agreement, total order without gaps, no duplication, validity
// and, when asked, liveness within a bound after the last fault heals;
// see Checker for each property as it is checked. A violation names the
// property, the slot, the nodes, the values and the seed. The Checker is
// also a testsim.Liveness: added to a deployment (Check), it stops the run
// at the first violation and checks liveness in Sim.CheckLivenessAfter.
//
// # Load and faults
//
// Driver submits a Load (N requests from C clients at a rate) to the
// nodes of a simulated deployment and gives the latency from submission
// to execution at a strong quorum (median, p99, max). ScheduleCrashes
// crashes and restarts f nodes chosen from the seed at times (or events)
// chosen from the seed; SilenceDuring silences a node for a while;
// RandomSplit, LossyLinks, Weighted, WeakQuorumOf and Tolerated help
// with partitions, links and weighted memberships. pkg/net/sim and
// pkg/testsim have the rest (partitions that heal, adversaries).
//
// # A test
//
// NewSystem deploys the nodes in a simulation, each with its App beside
// the modules the test's constructor builds (ISS, its orderers, the
// checkpoint module, ...), and checks every run with a Checker:
//
//	sys, err := isstest.NewSystem(isstest.SystemConfig{
//		Nodes: nodes,
//		WAL:   true,
//		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
//			return issModules(info) // iss, ordering, checkpoint, rnet, ...
//		},
//	}, deploytest.SimOptions{Seed: seed, Network: sim.Options{Link: isstest.LossyLinks()}})
//	sys.Start()
//	driver, _ := isstest.NewDriver(isstest.Load{Clients: 4, Requests: 1000, Rate: 2000, PayloadBytes: 64})
//	driver.Schedule(sys.Simulated)
//	isstest.ScheduleCrashes(sys.Simulated, isstest.CrashPlan{F: 1, Until: time.Second, MinDown: 50 * time.Millisecond, MaxDown: time.Second})
//	err = sys.Sim().CheckLivenessAfter(isstest.DefaultLivenessBound)
//	t.Log(driver.Latency(sys.Checker, membership.EqualVoters(nodes...)))
//
// Scenarios plays stored scenarios of such systems (package
// pkg/deploytest/scenario): a failing seed becomes a file in
// testdata/scenarios with its verdict and each node's log.
//
// Wired by hand, the App is one entry of a node's modules:
//
//	p := isstest.DefaultParams(info.ID)
//	p.Incarnation = info.Incarnation // or the Checker sees no restart
//	p.Observer = checker.Report
//	app, err := isstest.New(p)
//	mods[isstest.DefaultID] = app
package isstest
