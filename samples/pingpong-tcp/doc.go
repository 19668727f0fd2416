// Pingpong-tcp runs one Mir node per process over the TCP transport: each
// node pings every other node of the membership at a fixed interval and
// answers every ping with a pong. It prints a line per pong it receives,
// and the transport's metrics per peer periodically, until it is
// interrupted (SIGINT, SIGTERM) or -duration has passed.
//
//	go run ./cmd/mir membership generate -n 4 --dir /tmp/pp
//	go run ./samples/pingpong-tcp -membership /tmp/pp/membership.json -key /tmp/pp/node-0.key -id 0 &
//	go run ./samples/pingpong-tcp -membership /tmp/pp/membership.json -key /tmp/pp/node-1.key -id 1 &
//	...
//
// Output lines, for people and for the multi-process test:
//
//	listening id=0 addr=127.0.0.1:7000
//	pong from=2 seq=17 rtt=412µs
//	stats peer=2 connected=true inbound=true out=120 in=118 dropped-out=0 dropped-in=0 queue=0 reconnects=1 bad-frames=0
//
// Kill a node (even with SIGKILL) and start it again: the others redial it
// and pongs from it resume. Pings sent while it was down are lost or wait
// in the senders' queues; the protocol does not care, since each tick sends
// a new ping.
//
// Each node runs four modules:
//
//   - "pingpong", the protocol (package samples/pingpong/protocol, shared
//     with the sample pingpong): a deterministic passive module, driven by
//     Tick events from the timer and messages from the network. Every
//     other member is both its peer and its target, and it has no count.
//   - "timer", stdmodules.Timer, which emits a Tick every -interval.
//   - "net", the node's TCP transport (package net/tcp).
//   - "reporter", an active module of this program that stamps wall-clock
//     time on the PingSent and PongReceived events the protocol emits, to
//     measure round trips at the edge, outside the deterministic protocol.
package main
