// Package reliablenet is reliable links over transports that lose
// messages: a protocol asks it to send a message reliably, and it
// retransmits the message, with exponential backoff, to every destination
// that has not acknowledged it, until all have or the protocol cancels it.
// It is the original Mir's reliablenet, and what every protocol otherwise
// writes for itself: a timer, a resend loop, acknowledgments, and the
// garbage collection of all that.
//
// # Use
//
// A node runs one reliablenet module (NewModule) next to its transport and
// timer, and the protocol modules that use it are its users
// (ModuleConfig.Users). A user emits, in place of a transport's
// stdevents.SendMessage,
//
//	reliablenet.NewSendMessage("reliablenet", "7/final", msg, stdevents.To("bcb", "1", "2", "3"))
//
// and module "bcb" on nodes 1, 2 and 3 gets msg as a
// stdevents.MessageReceived from this node, as if the transport had
// brought it. The message ID ("7/final") is the protocol's name for the
// message while it is in flight, never sent: with it, the protocol tells
// the module that some destinations need the message no more
// (MarkReceived), or that none does (Cancel); and with IDs built as paths,
// one CancelPrefix forgets a whole instance or epoch ("7/").
//
// # On the wire
//
// The module sends a DataMsg, which carries the user's message, its
// destination module, the sender's incarnation and a sequence number, to
// the reliablenet module of each destination. That one delivers the
// message to the destination module, which must be one of its users (a
// peer chooses the destination, so anything else is dropped), and
// acknowledges it: an AckMsg per sender at the end of each batch of
// events, with the numbers of the DataMsgs the batch brought. A copy that
// arrives again (the transport or a retransmission duplicated it) is
// delivered and acknowledged again: the module does not suppress
// duplicates, so a user must take a message twice without harm (most
// protocols do anyway: they cannot tell a copy from a Byzantine replay).
//
// An acknowledgment names the sender's incarnation (ModuleParams.Incarnation,
// different at each start of the node) and the sequence number it gave the
// DataMsg, which is never reused within an incarnation. So an
// acknowledgment still on its way when the sender restarts acknowledges
// nothing of what the new incarnation sends, though the protocol may use
// the same message IDs again, and a Byzantine peer can acknowledge only
// what was sent to it: a message no correct node acknowledged never counts
// as delivered.
//
// An acknowledgment means that the destination module was handed the
// message, on the receiver's incarnation at that time: a receiver that
// crashes before acting on it, and restarts, does not get it again. A
// protocol whose promises survive crashes keeps what it must remember in a
// write-ahead log (pkg/wal); one that does not (pkg/bcb) gives up on such
// nodes in its own way.
//
// # Bounds
//
// Nothing a peer sends makes the module keep anything beyond the current
// batch: the receiving side keeps no state between batches, and an AckMsg
// can only end retransmissions. What the module keeps is what its users
// ask it to send, bounded by ModuleParams.MaxPendingMessages and
// MaxPendingBytes; a SendMessage beyond either bound is an error that
// stops the node (ErrFull). The module does not drop a message it promised
// to deliver: a protocol that sends faster than its peers acknowledge must
// bound what it has in flight (as bcb's window does) and size these
// parameters for it. Message IDs are at most MaxMsgIDBytes long.
//
// Every event from a local module is validated, and a bad one (no
// destinations, a destination module that is not a user, an ID in flight
// already) is an error that names the module and stops the node; every
// message from a peer is validated, and a bad one is dropped and counted
// (Stats), never a panic.
//
// # Time and determinism
//
// The module reads no clock and starts no goroutine: it counts Ticks from
// the timer (ModuleParams.TickPeriod), and waits MinBackoffTicks before the
// first retransmission, twice as long before each next one, up to
// MaxBackoffTicks. It retransmits in the order the messages were sent and
// acknowledges senders in the order their messages came, so that its
// output is a function of its input, and simulations (pkg/testsim) repeat
// exactly from their seed. It works over any transport: the in-process one
// (pkg/net/local), TCP (pkg/net/tcp) and the simulated one (pkg/net/sim).
package reliablenet
