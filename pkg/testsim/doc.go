// Package testsim runs a whole distributed system, every node of it, in
// one process and in simulated time, so that a test can put a protocol
// through the faults of real networks and machines, on purpose, and get
// the same run back from its seed whenever it fails.
//
// # How a simulation runs
//
// Each node of a Sim is the engine core a real mir.Node runs
// (internal/engine), built from the node's modules: the protocol's passive
// modules, unchanged, and simulated twins (Module) in place of the active
// modules, which would start goroutines and read the clock. One
// discrete-event schedule drives everything: "hand node X its next batch",
// "this message reaches node Y", "this timer fires", "partition the
// network", "crash node Z". Actions are ordered by simulated time, then by
// a tie-breaker drawn from the seed, so that simultaneous actions happen in
// an order that varies from seed to seed and never from run to run. One
// goroutine, the caller of Run, does all of it: there is no wall clock and
// no goroutine interleaving that could change the result.
//
// A node gets an Init for every module when it starts (AddNode). It
// processes one batch per step, like a real node's event loop; a batch can
// be given a simulated processing time (Options.BatchDelay).
//
// # Twins
//
// A twin implements Module: ApplyEvents(env, events). Env gives it the
// simulated clock, a seeded source of randomness, and Emit and After to
// make things happen later, and Hold to keep a batch while its work takes
// simulated time. Package testsim has the timer's twin (Timer); package
// pkg/net/sim has the network's, with faults; package pkg/wal the
// write-ahead log's, on a simulated disk with storage faults. A user writes a twin
// for an active module of their own (a client, a disk) the same way.
//
// # Faults
//
// Network faults are pkg/net/sim's: latency distributions (Fixed, Uniform,
// Pareto), loss, duplication, reordering, bandwidth, partitions that heal,
// per link and changeable during the run, and Byzantine nodes whose
// outgoing messages an adversary rewrites. Node faults are here: a node
// crashes at a time (Node.CrashAt) or at its k-th event
// (Node.CrashAtEvent), losing its modules and everything it had scheduled,
// and restarts (Node.RestartAt) with modules built anew by its
// constructor, Init again, and what its write-ahead log recovered: the
// log's twin (pkg/wal) keeps a simulated disk that outlives the node, and
// loses on a crash what was not yet synced, with storage faults drawn from
// the seed. A twin whose work takes time, such as a disk's sync, holds its
// batch (Env.Hold): the follow-ups of its events are released, as on a
// real node, when it is done.
//
// # Properties
//
// Observers (Sim.Observe) and properties (Sim.Check) see every event every
// node dispatches, with the node and the time. A safety property is
// checked on every event and stops the run at the first violation with a
// *Failure: the seed, the time, the event-sequence hash and the last
// events that led there. A Liveness property is checked when the test asks
// (Sim.CheckLiveness), typically some time after every fault has healed
// (Sim.FaultsHealed). The ready checkers (BroadcastProperties, Agreement,
// NoDuplication, Validity, TotalOrder, Termination) work for any protocol
// whose delivery events implement Delivery and whose input events
// implement Submission. They keep their state per run (PerRun): Check
// gives each run fresh ones, so the same values can be handed to every
// seed, as the simulated network's adversaries can.
//
// # Recording
//
// A node's Interceptor (NodeConfig.Interceptor) sees every batch it
// dispatches. An eventlog.Recorder there records the run in simulated
// time: the node hands it the time of each batch (Timestamp: the Unix
// epoch plus the simulated time), so that `mircat show` of a failing
// seed's recording puts every event at the time the failure report gives
// it.
//
// # Seeds
//
// RunSeeds runs a test for -sim.seeds seeds (DefaultSeeds); a failing seed
// prints the command that runs it alone, -sim.seed=N, and that run is
// identical: Sim.Hash, a digest of every event of the run, is the same
// every time, in every process. The simulation keeps no per-event history
// (the failure report keeps a ring of the last Options.HistorySize
// events), so runs of millions of events take bounded memory.
//
// What the simulation cannot make deterministic is a module that is not:
// one that reads the clock, starts goroutines, or lets map iteration order
// reach its output. Two runs of one seed with different hashes point to
// such a module; Options.HashContent narrows down where.
//
// A walk-through of testing a protocol this way is in docs/simulation.md
// at the root of the repository.
package testsim
