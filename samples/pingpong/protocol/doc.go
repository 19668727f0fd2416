// Package protocol is the ping-pong protocol the samples pingpong (two
// nodes in one process) and pingpong-tcp (one node per process over TCP)
// share: a deterministic passive module that pings a configured list of
// peers at every Tick and answers the pings of any member with a Pong.
//
// The module reads no clock, starts no goroutine and does no I/O: time
// reaches it as Tick events from a timer module, and what it emits is a
// function of its state and the events it gets. It emits PingSent and
// PongReceived for a reporter at the edge, which stamps wall-clock time on
// them to measure round trips outside the protocol.
//
// A node whose Targets are empty only answers. A node with a Count stops
// pinging once it has that many pongs and emits Finished.
//
// Transports lose messages when queues fill, so a pinger keeps pinging,
// with a new sequence number each tick; a ping that is lost is not resent.
// A Pong is accepted if it answers one of the latest Window pings and is
// newer than the previous pong from the same peer. Anything else a peer
// sends, and anything from a node that is not a peer, is dropped and
// counted.
package protocol
