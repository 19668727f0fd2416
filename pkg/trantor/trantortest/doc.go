// Package trantortest runs Trantor systems in Mir's deterministic
// simulator, for Trantor's own tests and for anyone testing an App of
// theirs under faults.
//
// NewSystem builds N nodes, each with trantor.New's modules around an
// App of the caller's factory, the simulated transport and timer, a WAL
// twin on a simulated disk that survives the node's crashes, and the
// signing module with real Ed25519 keys (KeySeed). Spare nodes run
// outside epoch 0's membership, for an App that adds them later: they
// join by state transfer. Faults are those of pkg/net/sim and
// pkg/testsim, and of pkg/iss/isstest, on the System's embedded
// deploytest.Simulated:
//   - loss, duplication, reordering: Config.Network (isstest.LossyLinks);
//   - partitions: Network().PartitionDuring (isstest.RandomSplit);
//   - crashes and restarts from the WAL: isstest.ScheduleCrashes, or
//     Node(id).CrashAt and RestartAt;
//   - a Byzantine node: Config.Adversaries rewrites what it sends, and
//     ClientOptions.Liars forges its results to the clients.
//
// Every event of every node is checked by the System's Checker: the nodes
// execute the same transactions with the same results in the same order,
// none twice. Load submits an open-loop workload and Run waits until the
// nodes executed it, none lost, with equal App states.
//
// Clients are simulated clients: they submit to the nodes' mempools as the
// client server does, accept a result once f+1 nodes returned it, submit
// again on a timeout, and record each operation's call and return times
// in simulated time (History), for a linearizability check:
//
//	sys, err := trantortest.NewSystem(trantortest.Config{
//		N: 4, Seed: seed, NewApp: func(stdtypes.NodeID) trantor.App { return newMyApp() },
//		Network: sim.Options{Link: isstest.LossyLinks()},
//	})
//	defer sys.Stop()
//	clients, err := sys.NewClients(trantortest.ClientOptions{})
//	err = clients.Loop(trantortest.ClientLoad{Clients: 4, Ops: 20, Next: nextOp})
//	err = clients.Wait()
//	for _, op := range clients.History() { ... op.Call, op.Return, op.Result ... }
package trantortest
