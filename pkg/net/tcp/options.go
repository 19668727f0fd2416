package tcp

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/mirframework/mir/pkg/logging"
)

// Options configure a Transport. A zero field takes its default, listed
// with each field.
type Options struct {
	// ListenAddr is the address to listen on. Default: the node's address
	// in the membership. Set it to listen on another interface (say
	// ":7000") than the address the others dial.
	ListenAddr string
	// Listener, if not nil, is used instead of listening on ListenAddr;
	// the transport closes it when it stops. Tests use it to listen on a
	// free port before writing the membership.
	Listener net.Listener

	// MaxFrameBytes bounds the body of a frame, and so the encoding of one
	// message, both ways. Default 4 MiB: far above what Mir protocols send
	// in one message (batches of requests of some tens of KiB), and small
	// enough that the buffer a connection keeps for its largest frame
	// stays small. A message whose frame is larger is not sent
	// (Metrics.DroppedTooLarge); a peer that sends a larger frame is
	// disconnected.
	MaxFrameBytes int

	// SendQueueMessages and SendQueueBytes bound the queue of messages
	// waiting to be written to each peer, in messages and in bytes of
	// frames. A message that does not fit is dropped and counted
	// (PeerStats.DroppedOut), which is what happens to messages for a peer
	// that is down or slower than the sender once the queue is full.
	// Defaults 4096 messages and 16 MiB: a burst of a few thousand small
	// messages fits, and a node of n peers holds at most n*16 MiB for
	// them.
	SendQueueMessages int
	SendQueueBytes    int

	// IncomingQueueLists bounds the queue of received messages waiting
	// for the node (the EventsOut channel), in lists; a list holds what a
	// connection had read at once, up to 512 messages or about 1 MiB.
	// When the queue is full, connections stop reading, and TCP holds the
	// senders back: the node's backpressure reaches the senders' queues,
	// where messages are dropped. Default 64.
	IncomingQueueLists int

	// HandshakeTimeout bounds the set-up of a connection, both ways: TCP
	// connect, TLS handshake, hello and its acknowledgment. A peer that
	// does not complete it in time is disconnected. Default 5s.
	HandshakeTimeout time.Duration
	// WriteTimeout bounds a write to a peer: a peer that has not taken
	// what was written within it (it is dead, or stopped reading) is
	// disconnected and redialed. It must be long enough for a node paused
	// by backpressure to catch up. Default 30s.
	WriteTimeout time.Duration
	// ReconnectMin and ReconnectMax bound the wait before redialing a
	// peer: the first wait after a working connection breaks is about
	// ReconnectMin, and each failed attempt doubles it up to ReconnectMax.
	// Each wait is drawn at random between half and all of its value, so
	// that nodes that lost each other at once do not redial in lockstep.
	// Defaults 50ms and 2s.
	ReconnectMin time.Duration
	ReconnectMax time.Duration
	// MaxPendingHandshakes bounds the incoming connections that have not
	// completed their set-up; more are closed at once (Metrics.Refused).
	// With HandshakeTimeout, this bounds what strangers can make a node
	// hold. Default 64.
	MaxPendingHandshakes int

	// Logger receives the transport's log messages. Nil logs nothing.
	Logger *logging.Logger
	// StatsPeriod, if positive, makes the transport log its metrics (one
	// line per peer) every period at StatsLevel.
	StatsPeriod time.Duration
	StatsLevel  logging.Level
}

// Defaults of Options.
const (
	DefaultMaxFrameBytes        = 4 << 20
	DefaultSendQueueMessages    = 4096
	DefaultSendQueueBytes       = 16 << 20
	DefaultIncomingQueueLists   = 64
	DefaultHandshakeTimeout     = 5 * time.Second
	DefaultWriteTimeout         = 30 * time.Second
	DefaultReconnectMin         = 50 * time.Millisecond
	DefaultReconnectMax         = 2 * time.Second
	DefaultMaxPendingHandshakes = 64
)

// maxFrameBytesLimit is the largest MaxFrameBytes: the length of a body
// must fit the 32-bit header.
const maxFrameBytesLimit = 1<<31 - 1

// withDefaults returns o with each zero field set to its default.
func (o Options) withDefaults() Options {
	setDefault(&o.MaxFrameBytes, DefaultMaxFrameBytes)
	setDefault(&o.SendQueueMessages, DefaultSendQueueMessages)
	setDefault(&o.SendQueueBytes, DefaultSendQueueBytes)
	setDefault(&o.IncomingQueueLists, DefaultIncomingQueueLists)
	setDefault(&o.HandshakeTimeout, DefaultHandshakeTimeout)
	setDefault(&o.WriteTimeout, DefaultWriteTimeout)
	setDefault(&o.ReconnectMin, DefaultReconnectMin)
	setDefault(&o.ReconnectMax, DefaultReconnectMax)
	setDefault(&o.MaxPendingHandshakes, DefaultMaxPendingHandshakes)
	return o
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v == 0 {
		*v = def
	}
}

// validate reports the fields out of range, after defaults are applied.
func (o Options) validate() error {
	var errs []error
	nonNegative := func(name string, v int64) {
		if v < 0 {
			errs = append(errs, fmt.Errorf("%s is %d; it must not be negative", name, v))
		}
	}
	nonNegative("SendQueueMessages", int64(o.SendQueueMessages))
	nonNegative("SendQueueBytes", int64(o.SendQueueBytes))
	nonNegative("IncomingQueueLists", int64(o.IncomingQueueLists))
	nonNegative("MaxPendingHandshakes", int64(o.MaxPendingHandshakes))
	nonNegative("HandshakeTimeout", int64(o.HandshakeTimeout))
	nonNegative("WriteTimeout", int64(o.WriteTimeout))
	nonNegative("ReconnectMin", int64(o.ReconnectMin))
	nonNegative("StatsPeriod", int64(o.StatsPeriod))
	if o.MaxFrameBytes < 16 || o.MaxFrameBytes > maxFrameBytesLimit {
		errs = append(errs, fmt.Errorf("MaxFrameBytes is %d; it must be between 16 and %d", o.MaxFrameBytes, maxFrameBytesLimit))
	}
	if o.ReconnectMax < o.ReconnectMin {
		errs = append(errs, fmt.Errorf("ReconnectMax (%v) is below ReconnectMin (%v)", o.ReconnectMax, o.ReconnectMin))
	}
	return errors.Join(errs...)
}
