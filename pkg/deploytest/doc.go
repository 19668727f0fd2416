// Package deploytest builds a deployment of N nodes from one constructor
// of a node's protocol modules, either simulated or real, and runs the same
// test code against both:
//
//   - NewSimulated: every node in a testsim.Sim, in simulated time, with
//     the simulated network (pkg/net/sim) and timer (testsim.Timer), so
//     that the test can inject faults and every run reproduces from its
//     seed;
//   - NewReal: every node a mir.Node on goroutines of its own, with an
//     in-process network (pkg/net/local) and real timers, in wall-clock
//     time.
//
// A Constructor gets a NodeInfo: the node's ID, all the nodes, and the
// module IDs under which the deployment adds the transport, the timer and,
// with Config.WAL, the WAL module (pkg/wal), which the protocol's modules
// address. With a WAL, a simulated node that crashes restarts from its
// simulated disk, which loses what was not synced (SimOptions.WAL); a real
// node keeps its log in a directory (RealOptions.WALDir). Deployment gives the test what it
// needs in both cases: Submit inputs to a node, Observe and Collect what
// the nodes dispatch, Check properties on every event, WaitFor a
// condition, CheckLiveness, Stop.
//
//	cfg := deploytest.Config{
//		Nodes: []stdtypes.NodeID{"0", "1", "2", "3"},
//		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
//			proto, err := myproto.New(info.ID, myproto.ModuleConfig{
//				Self: "proto", Net: info.Transport, Timer: info.Timer, App: "app",
//			}, myproto.DefaultParams(info.Nodes))
//			if err != nil {
//				return nil, err
//			}
//			return modules.Modules{"proto": proto, "app": modules.NullPassive{}}, nil
//		},
//	}
//	d, err := deploytest.NewSimulated(cfg, deploytest.SimOptions{Seed: seed})
//	// or: d, err := deploytest.NewReal(cfg, deploytest.RealOptions{})
//
// Stop closes the interceptors the options' hook made (recorders), once
// the nodes have stopped.
//
// Package scenario (pkg/deploytest/scenario) keeps simulated runs as
// text files with their expected outcome, played by one test.
//
// The worked example is samples/bracha: a Bracha broadcast whose tests run
// it both ways, under every fault, with a Byzantine origin, and a
// deliberately broken variant that the checkers catch, with its stored
// scenarios in its testdata/scenarios. The tests of this package deploy
// it too.
package deploytest
