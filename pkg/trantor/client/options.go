package client

import (
	"errors"
	"fmt"
	"net"
	"time"
	"unicode/utf8"

	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/stdtypes"
)

// DefaultModuleID is the server module's ID in a Trantor node.
const DefaultModuleID stdtypes.ModuleID = "clients"

// ServerOptions configure a Server. Zero fields take the defaults of
// DefaultServerOptions.
type ServerOptions struct {
	// Listener, if not nil, is used instead of listening on the address
	// given to NewServer. The server closes it when it stops.
	Listener net.Listener
	// Mempool is the module the server hands transactions to.
	Mempool stdtypes.ModuleID
	// MaxConns bounds the open client connections; one more is closed at
	// once. Each costs two goroutines, a read buffer (32 KiB), a frame
	// buffer (up to MaxTxBytes), and the transactions its reader holds
	// before it counts them in MaxBufferedBytes (up to MaxTxBytes and
	// 32 KiB of payloads: those of the frames read from one buffer).
	MaxConns int
	// MaxClientsPerConn bounds the clients a connection speaks for (a
	// Pool's clients share one), and MaxClients those of all connections
	// together: a frame of one more closes its connection. A client is
	// spoken for by one connection at a time, the last that sent one of
	// its frames. They bound the table replies are routed by (an entry
	// holds a client ID), and the reply queues (MaxReplyQueue).
	MaxClientsPerConn, MaxClients int
	// MaxTxBytes bounds a transaction's payload; a frame with a larger one
	// closes its connection. It bounds what one frame can make the server
	// buffer.
	MaxTxBytes int
	// FramesPerSecond bounds the frames read from one connection per
	// second and client it speaks for, with bursts of as many: a faster
	// client is slowed down (the server stops reading, and TCP pushes
	// back), not disconnected, so that one connection cannot take the
	// mempool for itself.
	FramesPerSecond int
	// MaxBufferedBytes bounds the transactions (payloads and client IDs)
	// read and not yet handed to the node; readers wait while it is full.
	// With the one list on its way to the node, the server holds at most
	// twice as much.
	MaxBufferedBytes int
	// MaxReplyQueue bounds the replies waiting to be written to one
	// connection, per client it speaks for (at most MaxClients times as
	// many in all); more are dropped and counted (the client resends them
	// when it reconnects). A client has at most its window (128 by
	// default) transactions in flight, but the replies of several slots
	// come at once after a stall. A reply from the cache (a transaction
	// submitted again) shares its result with the cache and costs a
	// frame's head, so that frames of a few bytes, unread, cannot make
	// the server hold a copy of a result each.
	MaxReplyQueue int
	// MaxReplyQueueBytes bounds the bytes of the replies waiting to be
	// written to one connection (cached results shared with the cache
	// count too); more are dropped and counted, like those past
	// MaxReplyQueue. MaxReplyQueue alone bounds frames, not bytes: a
	// connection that reads nothing while its clients' transactions
	// execute with large results would make the server hold them until
	// WriteTimeout cuts it off. With MaxConns, the replies queued in all
	// are at most MaxConns times this. A single reply larger than this is
	// never written: keep it above the largest result the application
	// returns.
	MaxReplyQueueBytes int
	// MaxCachedReplies and MaxCachedReplyBytes bound the replies the
	// server remembers, to answer a transaction submitted again after its
	// reply was lost (the mempool drops it as executed); the oldest are
	// forgotten first. A client whose transaction was executed longer ago
	// than that gets no reply from this node for it.
	MaxCachedReplies    int
	MaxCachedReplyBytes int
	// IdleTimeout closes a connection that sends nothing for that long.
	// A client reconnects when it has something to send.
	IdleTimeout time.Duration
	// FrameTimeout closes a connection that takes longer than this to send
	// a frame once it began (slowloris).
	FrameTimeout time.Duration
	// WriteTimeout closes a connection a reply cannot be written to within
	// that time (a client that stopped reading).
	WriteTimeout time.Duration
	// Logger, nil for none.
	Logger *logging.Logger
}

// DefaultServerOptions returns the defaults.
func DefaultServerOptions() ServerOptions {
	return ServerOptions{
		Mempool:             "mempool",
		MaxConns:            1024,
		MaxClientsPerConn:   4096,
		MaxClients:          16384,
		MaxTxBytes:          64 << 10,
		FramesPerSecond:     10_000,
		MaxBufferedBytes:    16 << 20,
		MaxReplyQueue:       1024,
		MaxReplyQueueBytes:  16 << 20,
		MaxCachedReplies:    1 << 16,
		MaxCachedReplyBytes: 32 << 20,
		IdleTimeout:         10 * time.Minute,
		FrameTimeout:        10 * time.Second,
		WriteTimeout:        10 * time.Second,
	}
}

// withDefaults returns o with its zero fields set to the defaults.
func (o ServerOptions) withDefaults() ServerOptions {
	d := DefaultServerOptions()
	setDefault(&o.Mempool, d.Mempool)
	setDefault(&o.MaxConns, d.MaxConns)
	setDefault(&o.MaxClientsPerConn, d.MaxClientsPerConn)
	setDefault(&o.MaxClients, d.MaxClients)
	setDefault(&o.MaxTxBytes, d.MaxTxBytes)
	setDefault(&o.FramesPerSecond, d.FramesPerSecond)
	setDefault(&o.MaxBufferedBytes, d.MaxBufferedBytes)
	setDefault(&o.MaxReplyQueue, d.MaxReplyQueue)
	setDefault(&o.MaxReplyQueueBytes, d.MaxReplyQueueBytes)
	setDefault(&o.MaxCachedReplies, d.MaxCachedReplies)
	setDefault(&o.MaxCachedReplyBytes, d.MaxCachedReplyBytes)
	setDefault(&o.IdleTimeout, d.IdleTimeout)
	setDefault(&o.FrameTimeout, d.FrameTimeout)
	setDefault(&o.WriteTimeout, d.WriteTimeout)
	return o
}

func setDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

// Validate reports whether the options (after defaults) can be used.
func (o ServerOptions) Validate() error {
	o = o.withDefaults()
	if err := o.Mempool.Validate(); err != nil {
		return fmt.Errorf("mempool module: %w", err)
	}
	if o.MaxConns < 0 || o.MaxClientsPerConn < 0 || o.MaxClients < 0 || o.MaxTxBytes < 0 || o.FramesPerSecond < 0 || o.MaxBufferedBytes < 0 || o.MaxReplyQueue < 0 ||
		o.MaxReplyQueueBytes < 0 || o.MaxCachedReplies < 0 || o.MaxCachedReplyBytes < 0 {
		return errors.New("negative limit")
	}
	if o.IdleTimeout < 0 || o.FrameTimeout < 0 || o.WriteTimeout < 0 {
		return errors.New("negative timeout")
	}
	if o.MaxBufferedBytes < o.MaxTxBytes+MaxClientIDBytes+txOverheadBytes {
		return fmt.Errorf("MaxBufferedBytes %d cannot hold one transaction of MaxTxBytes %d", o.MaxBufferedBytes, o.MaxTxBytes)
	}
	return nil
}

// maxBody is the largest frame body the server reads.
func (o ServerOptions) maxBody() int {
	return 2 + 2*maxUvarintBytes + MaxClientIDBytes + o.MaxTxBytes
}

const maxUvarintBytes = 10

// Options configure a Client. Zero fields take the defaults of
// DefaultOptions, but ClientID, which is required.
type Options struct {
	// ClientID names the client; the nodes execute each of its
	// transaction numbers at most once. Two clients must not share one.
	ClientID string
	// FirstTxNo is the number of the first transaction: a client that
	// restarts continues from where it stopped (transaction numbers below
	// the nodes' low watermark for it are dropped as executed).
	FirstTxNo uint64
	// MaxOutstanding bounds the transactions submitted and not yet
	// answered; SubmitAsync waits for one to complete past it. The nodes'
	// mempool holds at most its client window per client anyway.
	MaxOutstanding int
	// Window bounds how far ahead of its oldest outstanding transaction
	// the client numbers a new one: SubmitAsync waits past it. It must be
	// at most the nodes' client window (trantor.Params: the mempool's and
	// the batch fetcher's ClientWindow, 128 by default), which drop a
	// transaction numbered that far above the oldest they have not
	// executed.
	Window uint64
	// MaxTxBytes bounds a transaction's payload: SubmitAsync refuses a
	// larger one (ErrTxTooLarge), which the nodes would refuse anyway
	// (ServerOptions.MaxTxBytes; keep the two equal).
	MaxTxBytes int
	// PoolOptions are those of the connections, which a Pool's clients
	// share.
	PoolOptions
}

// PoolOptions configure the connections of a Pool (or of a Client made by
// Dial). Zero fields take the defaults of DefaultPoolOptions.
type PoolOptions struct {
	// MaxResultBytes bounds a result; a node that sends a larger reply is
	// disconnected (and reconnected to).
	MaxResultBytes int
	// ReconnectMin and ReconnectMax bound the backoff between dials of a
	// node: it doubles from the first up to the second, with jitter.
	ReconnectMin, ReconnectMax time.Duration
	// DialTimeout bounds one dial; WriteTimeout one write.
	DialTimeout, WriteTimeout time.Duration
}

// DefaultPoolOptions returns the defaults.
func DefaultPoolOptions() PoolOptions {
	return PoolOptions{
		MaxResultBytes: 1 << 20,
		ReconnectMin:   20 * time.Millisecond,
		ReconnectMax:   2 * time.Second,
		DialTimeout:    5 * time.Second,
		WriteTimeout:   10 * time.Second,
	}
}

func (o PoolOptions) withDefaults() PoolOptions {
	d := DefaultPoolOptions()
	setDefault(&o.MaxResultBytes, d.MaxResultBytes)
	setDefault(&o.ReconnectMin, d.ReconnectMin)
	setDefault(&o.ReconnectMax, d.ReconnectMax)
	setDefault(&o.DialTimeout, d.DialTimeout)
	setDefault(&o.WriteTimeout, d.WriteTimeout)
	return o
}

// Validate reports whether the options (after defaults) can be used.
func (o PoolOptions) Validate() error {
	o = o.withDefaults()
	if o.MaxResultBytes < 0 {
		return errors.New("negative limit")
	}
	if o.ReconnectMin < 0 || o.ReconnectMax < o.ReconnectMin || o.DialTimeout < 0 || o.WriteTimeout < 0 {
		return errors.New("bad durations")
	}
	return nil
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options {
	return Options{
		MaxOutstanding: 256,
		Window:         128,
		MaxTxBytes:     DefaultServerOptions().MaxTxBytes,
		PoolOptions:    DefaultPoolOptions(),
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	setDefault(&o.MaxOutstanding, d.MaxOutstanding)
	setDefault(&o.Window, d.Window)
	setDefault(&o.MaxTxBytes, d.MaxTxBytes)
	o.PoolOptions = o.PoolOptions.withDefaults()
	return o
}

// Validate reports whether the options (after defaults) can be used.
func (o Options) Validate() error {
	o = o.withDefaults()
	if o.ClientID == "" || len(o.ClientID) > MaxClientIDBytes || !utf8.ValidString(o.ClientID) {
		return fmt.Errorf("client ID of %d bytes, want 1 to %d of UTF-8", len(o.ClientID), MaxClientIDBytes)
	}
	if o.MaxOutstanding < 0 || o.MaxTxBytes < 0 {
		return errors.New("negative limit")
	}
	return o.PoolOptions.Validate()
}
