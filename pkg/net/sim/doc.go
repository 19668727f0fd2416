// Package sim is a simulated network for package testsim: the twin of a
// real transport (net.Transport), carrying messages between the nodes of
// a simulation in simulated time, with the faults of real networks
// injected on purpose and drawn from the simulation's seed.
//
//	s := testsim.New(testsim.Options{Seed: seed})
//	network, err := sim.New(s, []stdtypes.NodeID{"0", "1", "2", "3"}, sim.Options{
//		Link: sim.LinkConfig{
//			Latency: testsim.Pareto(time.Millisecond, 1.5, 200*time.Millisecond),
//			Loss:    0.05,
//		},
//	})
//	transport, err := network.Transport("0") // node 0's "net" module
//
// # Links
//
// Every ordered pair of nodes has a link with a LinkConfig: a latency
// distribution, loss, duplication, reordering (links are FIFO unless a
// message is picked to be overtaken) and a bandwidth. SetLink and SetLinks
// change them during a run, from a function scheduled with Sim.At, or
// SetLinksAt. Cut, Partition and PartitionDuring cut links until they
// heal: nothing crosses a cut link, neither what is sent on it nor what
// was in flight when it was cut. A message to a node that is down when it
// arrives is lost; one that arrives after a restart is delivered to the
// new incarnation, as on a real network. A node's messages to itself
// arrive at once and never suffer faults.
//
// # Byzantine nodes
//
// SetAdversary gives a node an Adversary, whose Attack sees every message
// the node sends to another node and decides what is sent instead. The
// library: Drop, Delay, Duplicate, Rewrite, Equivocate, combined with
// Chain and restricted with Only and To. A Byzantine node still runs the
// protocol's code; only what leaves it is changed.
//
// An Adversary is a description; the network asks it for a new Attack for
// each node and run, and that Attack holds what the adversary remembers
// (which version of a lie each peer got). One Adversary value can thus be
// handed to run after run: each seed gives the same run either way.
//
// # Encoding
//
// A real network encodes every message. The simulated one, by default,
// encodes and decodes the first message of each type only
// (CodecFirstOfType): that catches types that are not registered with
// package codec or that it refuses, at no cost in the steady state, since a
// round trip costs more than simulating the message. CodecEvery does it
// for every message, as pkg/net/local does; CodecNever never.
//
// Unlike a real transport, the simulated one has no bounded queues: it
// loses messages only to the faults it is given, and a node's input is
// never paused (a simulated node has no backpressure).
//
// Like everything in a simulation, the network is used from the
// simulation's goroutine only, and starts no goroutine.
package sim
