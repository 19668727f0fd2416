// Package local is an in-process network: the transports of several nodes
// running in one process, exchanging messages through the net.Transport
// interface as they would over sockets. Tests, demos and benchmarks use it
// to run a whole system in one program.
//
//	network, err := local.NewNetwork([]stdtypes.NodeID{"0", "1"}, local.Options{})
//	t0, err := network.Transport("0") // the "net" module of node 0
//	err = t0.Start()
//	defer t0.Stop()
//
// Like every transport it loses messages rather than block or grow without
// bound: each transport has an incoming queue of Options.QueueCapacity
// lists, and what does not fit is dropped and counted (see Stats). By
// default every message to another node goes through package codec on the
// way, so a message type that is not registered, or does not survive
// encoding, makes the sending node fail in tests rather than in a
// deployment, and receivers never share memory with senders (see
// Options.ShareMessages). Messages a node sends to itself are handed back
// as they are.
//
// The transports run no goroutines. A transport stops when Stop is called
// or when the context its node passes to ApplyEvents ends, whichever comes
// first.
package local
