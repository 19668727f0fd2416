// Pingpong is the smallest complete Mir system: two nodes in one process,
// node 0 pinging node 1 at a fixed interval and node 1 answering each Ping
// with a Pong, until node 0 has collected -count pongs. It prints a line per
// pong and a summary of round-trip times, then exits 0; it exits 1 if it
// cannot finish within -timeout.
//
//	go run ./samples/pingpong -count 20 -interval 50ms
//
// Each node runs three modules, and node 0 a fourth:
//
//   - "pingpong", the protocol (package samples/pingpong/protocol, which
//     the sample pingpong-tcp shares): a deterministic passive module. It
//     reads no clock and starts no goroutine: time reaches it as Tick
//     events from the timer, and all it does is a function of its state
//     and the events it gets. That is what will let its runs be recorded,
//     replayed and simulated.
//   - "timer", stdmodules.Timer, which emits a Tick every -interval.
//   - "net", the node's transport in an in-process network (package
//     net/local).
//   - "reporter", on node 0: an active module of this program that stamps
//     wall-clock time on the PingSent and PongReceived events the protocol
//     emits, and so measures round trips at the edge, outside the
//     deterministic protocol.
//
// Node 0's protocol has node 1 as its only peer and target, and a count;
// node 1's has node 0 as its only peer and no target, so it only answers.
// Transports lose messages when queues fill, so the pinger keeps pinging,
// with a new sequence number each tick, until it has its pongs; a Pong
// that answers none of the latest pings is dropped and counted, as is any
// message from a node other than the peer.
package main
