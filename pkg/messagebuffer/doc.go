// Package messagebuffer keeps messages that arrived too early to be
// processed, until they can be: a message for an instance a node has not
// started yet, for an epoch it has not reached, for a sequence number
// beyond its window.
//
// A Buffer holds messages of a fixed set of senders, each with its own
// limits on the number of messages and their bytes (Limits), so that no
// sender, however Byzantine, can take memory from the others or make the
// node hold more than the sum of the limits. When a sender's new message
// does not fit, the sender's oldest messages are evicted to make room
// (counted in Stats.Evicted): a correct sender's latest messages are the
// ones that still matter, and a faulty one only evicts its own.
//
// What a message costs is for the caller to say: the size of its payload,
// or its encoded size (EncodedSize), which is what the transport received.
//
// When the node's state moves on, Iterate goes over the buffered messages,
// oldest first, and a function decides for each: Keep it for later,
// Process it now (it is removed and handed to the processing function), or
// Drop it (it is stale). A processed message may make others processable;
// the caller iterates again until nothing more is processed.
//
//	buf.Store(from, msg, size)
//	...
//	for {
//		n, err := buf.Iterate(decide, process)
//		if err != nil || n == 0 { ... }
//	}
//
// A Buffer is deterministic: it starts no goroutines, reads no clock, and
// iterates in the order the messages were stored, whatever the senders.
// It is not safe for concurrent use, like the passive module that owns it.
package messagebuffer
