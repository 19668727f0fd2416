// Package net defines Transport, the interface every network transport of
// Mir implements, and what all transports share: statistics, the
// validation of send requests, the lifecycle (State) and, for transports
// within one process, the codec copy of a message (CopyMessage).
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
// # What a node accepts from the network
//
// The sender names the module its message is for, so a transport delivers
// whatever destination a peer chose. The node, not the transport, decides
// what to do with it: it hands a MessageReceived only to a module that
// takes messages from other nodes (one that implements
// modules.MessageReceiver, as protocol modules do), and drops and counts
// the rest: a message for a module the node does not have
// (mir.ModuleStats.DroppedUnknown, of the transport), and one for a module
// that takes none, such as the timer, a crypto module or the transport
// itself (mir.ModuleStats.DroppedMessages, of that module). This holds for
// every transport, a user's own included, and in the simulator. Nothing a
// peer sends can stop a node: what a protocol module cannot use it drops
// and counts too.
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
