// Package net defines Transport, the interface every network transport of
// Mir implements, and what all transports share: statistics and the
// validation of send requests.
//
// A transport is the active module through which a node talks to other
// nodes. A protocol module sends a message by emitting a
// stdevents.SendMessage addressed to the transport; the transport of each
// destination node emits a stdevents.MessageReceived, From the sending node,
// addressed to the module the sender named:
//
//	node 0: protocol --SendMessage{MsgDest: "pp", Destinations: [1]}--> transport
//	node 1: transport --MessageReceived{From: 0, Msg}--> pp
//
// # Transports lose messages
//
// Every transport has bounded queues and drops what does not fit: a slow
// node, or one whose event loop has paused its input (backpressure), loses
// messages rather than make its senders block or the process run out of
// memory. Nodes also crash, restart and disconnect. Protocols must
// therefore tolerate message loss: retransmit on a timer what must arrive,
// and never assume a message was delivered because it was sent. Drops are
// counted in Stats, so a test or an operator can see them.
//
// Messages a node sends to itself never leave the process: the transport
// hands them straight back to its own node, without a socket and without
// encoding.
//
// Implementations, all behind the same interface, so that a protocol tested
// in one runs unchanged in the others: package local (nodes in one process,
// for tests and demos), package tcp (authenticated TCP with TLS 1.3 and
// pinned keys, between processes and machines) and package sim (the
// simulated network of package testsim, with faults).
package net
