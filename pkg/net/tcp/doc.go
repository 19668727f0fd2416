// Package tcp is the network transport of Mir: nodes in separate processes
// or machines exchange messages over TCP, authenticated and encrypted with
// TLS 1.3. It implements net.Transport, like the in-process transport of
// package net/local, so a protocol runs over it unchanged.
//
//	members, err := membership.Load("membership.json")
//	key, err := crypto.LoadPrivateKey("node-0.key")
//	transport, err := tcp.New("0", members, key, tcp.Options{})
//	err = transport.Start() // listens; dials the peers in the background
//	defer transport.Stop()
//	node, err := mir.NewNode("0", config, modules.Modules{"net": transport, ...}, nil)
//
// # Identity
//
// A node's identity is its key pair: the membership (package membership)
// gives each node ID an address and a public key, and nothing else is
// trusted. There is no certificate authority. Each node makes a
// self-signed certificate from its key, and both ends of a connection
// present theirs (mutual TLS); what is checked is the key in it, which the
// TLS 1.3 handshake proves the peer holds:
//
//   - The dialer knows whom it dials, and accepts the listener only if its
//     key is that node's key in the membership.
//   - The listener accepts a client only if its key is in the membership
//     at all; a client without a certificate fails the handshake. The
//     dialer then sends a hello frame naming itself and the node it means
//     to reach, and the listener accepts the connection only if the name
//     is the member whose key the client proved (so a member cannot pose
//     as another) and the target is itself. It then answers with one
//     byte, after which the dialer knows it was accepted: in TLS 1.3 a
//     client finishes its handshake before the server has checked the
//     client's certificate.
//
// Every message read from a connection is delivered From the member the
// connection authenticated, whatever the message says.
//
// # Connections
//
// Each node dials every other node and sends only on the connection it
// dialed; it only reads from the connections it accepted. So each ordered
// pair of nodes has its own connection, there is nothing to deduplicate,
// and the messages from one node to another arrive in the order they were
// sent, as long as the connection lasts. A node keeps at most one incoming
// connection per peer: a newer one (the peer restarted) replaces the
// older. A connection whose peer goes away is noticed by a read that only
// returns when it ends, or by a write that fails or does not complete
// within WriteTimeout; the dialer then redials with exponential backoff
// and jitter (ReconnectMin, ReconnectMax).
//
// # Framing
//
// A frame is a 4-byte big-endian length and that many bytes of body: the
// destination module (a length-prefixed string) and the message, encoded
// by package codec. The reader checks the length against MaxFrameBytes
// before anything else and allocates only for bytes that have arrived: a
// frame that fits in the 64 KiB read buffer is decoded in place, and a
// longer one is read into a buffer that grows as its bytes come in. A
// frame that is too large, truncated, or does not decode (package codec,
// with limits matched to MaxFrameBytes, refuses anything that is not a
// registered message) closes the connection and is counted
// (PeerMetrics.BadFrames); the dialer will reconnect if it is honest.
//
// The envelope is not itself a codec value: a length-prefixed module ID
// followed by codec.AppendMessage's output encodes without allocating,
// several times faster than codec.Marshal on a struct holding both, and
// decodes in about half the time, which matters at hundreds of thousands
// of messages per second. Only the message, the part with structure, goes
// through the codec; the module ID is checked with ModuleID.Validate.
//
// # Sending, and losing messages
//
// ApplyEvents never blocks. It encodes each message once, whatever the
// number of destinations, into a chunk of memory shared by many small
// messages (a run of large ones gets pooled buffers, released when every
// destination's writer is done), and puts it in the bounded queue of each
// destination peer (SendQueueMessages, SendQueueBytes). One goroutine per peer takes the
// whole queue at once, writes it through a 64 KiB buffer and flushes when
// the queue is empty, so messages queued while a write was on its way go
// out together in one write. Messages to the node itself never touch a
// socket and are never encoded: they go straight to the incoming queue.
//
// Messages are lost, and counted (see Metrics): when a peer's queue is
// full, because the peer is down, slow, or does not read (a message to a
// peer that is down waits in the queue until it comes back, up to the
// queue's bounds); when the transport stops; when a connection breaks
// (what was written to it but not yet read by the peer is gone, and the
// sender cannot know); when a frame is bad. Protocols must tolerate loss:
// retransmit on a timer what must arrive (see package net).
//
// # Receiving
//
// One goroutine per incoming connection reads frames, decodes them and
// hands them to the node in lists, through the incoming queue that is the
// transport's EventsOut. When the node does not take them (its input is
// paused by backpressure), the readers wait, TCP flow control holds the
// senders' writers, and the senders' queues fill and drop. Memory stays
// bounded throughout: IncomingQueueLists lists of about 1 MiB each; per
// peer, a send queue, one read buffer and one buffer for frames larger
// than it (at most about twice MaxFrameBytes); and the connections being
// set up.
//
// # Hostile peers
//
// A stranger can only open TCP connections: at most MaxPendingHandshakes
// are set up at once, each within HandshakeTimeout, and refused
// connections are counted (Metrics.Refused). A member can only send
// frames, each bounded and checked, on its one connection, and cannot
// speak for another member. Whatever module a frame names, the node
// hands the message only to a module that takes messages from other
// nodes, and drops and counts the rest (see package net): no frame can
// stop a node.
//
// What an operator must see is logged at Warn: a refused connection, the
// handshake slots full, a member's bad frame, a peer unreachable for ten
// seconds (a lost connection alone is logged at Info: a peer that stops in
// order looks the same on the wire as one that crashed; so is a connection
// closed by its other end before it was set up, as when a peer stops while
// it dials). Each is logged at most once a minute per source (the member,
// or the stranger's address) and cause, so that a flood of them cannot
// flood the log; the next warning after a quiet minute says how many were
// suppressed ("suppressed"), and the suppressed ones are logged at Debug.
//
// # Metrics
//
// Stats gives the counters every transport has (net.TransportStats);
// Metrics gives, per peer, messages and bytes in and out, drops, the
// length of the send queue, whether the connections are up, connections
// made and failed, bad frames, and refused connections for the whole
// transport. With Options.StatsPeriod set, the transport logs them
// periodically.
//
// The transport stops when Stop is called or when the context its node
// passes to ApplyEvents ends; Stop waits for all its goroutines.
package tcp
