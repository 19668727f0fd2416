package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// txOverheadBytes is what a buffered transaction costs besides its payload
// and client ID (its slice headers), counted against MaxBufferedBytes.
const txOverheadBytes = 64

// Server is the active module that takes clients' transactions over TCP
// and hands them to the mempool (mempool.NewTxs), and sends the results
// of executed transactions back (Reply). Make one with NewServer, start it
// with Start; it stops when the node's context ends, or with Stop.
type Server struct {
	opts    ServerOptions
	addr    string
	logger  *logging.Logger
	out     chan *stdtypes.EventList
	warns   warnLimiter
	cache   *replyCache
	stray   modules.StrayMessages
	metrics serverCounters

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// watching is set once ApplyEvents has started watching the node's
	// context.
	watching atomic.Bool

	mu       sync.Mutex
	started  bool
	stopped  bool
	listener net.Listener
	conns    map[*conn]struct{}
	// byClient routes replies: the connection that last submitted a
	// transaction of the client. At most MaxClientsPerConn entries per
	// connection, the clients it speaks for.
	byClient map[string]*conn
	// pending are the transactions read and not yet emitted, of
	// pendingBytes (see txOverheadBytes).
	pending      []mempool.Tx
	pendingBytes int
	// room is closed when pending is taken: readers waiting for room wait
	// on it.
	room chan struct{}
	// ready wakes the emitter.
	ready chan struct{}
}

var _ modules.ActiveModule = (*Server)(nil)

// ErrStarted is returned by Start on a server started before.
var ErrStarted = errors.New("server started before")

// ErrTooManyClients: a connection's frame names a client over
// ServerOptions.MaxClientsPerConn or MaxClients; the server closes the
// connection and counts it (ServerMetrics.TooManyClients).
var ErrTooManyClients = errors.New("too many clients")

// NewServer returns a server that will listen on addr (host:port), or on
// opts.Listener if set, once started.
func NewServer(addr string, opts ServerOptions) (*Server, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("client server options: %w", err)
	}
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		opts:     opts,
		addr:     addr,
		logger:   opts.Logger,
		out:      make(chan *stdtypes.EventList),
		warns:    warnLimiter{now: time.Now},
		cache:    newReplyCache(opts.MaxCachedReplies, opts.MaxCachedReplyBytes),
		ctx:      ctx,
		cancel:   cancel,
		conns:    make(map[*conn]struct{}),
		byClient: make(map[string]*conn),
		room:     make(chan struct{}),
		ready:    make(chan struct{}, 1),
	}, nil
}

// Start listens and starts accepting clients.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.stopped {
		return ErrStarted
	}
	l := s.opts.Listener
	if l == nil {
		var err error
		if l, err = net.Listen("tcp", s.addr); err != nil {
			return fmt.Errorf("client server: %w", err)
		}
	}
	s.started, s.listener = true, l
	s.wg.Add(2)
	go s.acceptLoop(l)
	go s.emitLoop()
	return nil
}

// Addr returns the address the server listens on, nil before Start.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return nil
	}
	return s.listener.Addr()
}

// Stop closes the listener and every connection and waits for the
// server's goroutines to end. Transactions read and not yet emitted are
// dropped (their clients resend them). It may be called more than once.
func (s *Server) Stop() {
	s.shutdown()
	s.wg.Wait()
}

// shutdown tells the server's goroutines to end: it closes the listener
// and the connections.
func (s *Server) shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	s.cancel()
	if s.listener != nil {
		s.listener.Close()
	}
	for c := range s.conns {
		c.nc.Close()
	}
}

// EventsOut returns the channel the server emits mempool.NewTxs on.
func (s *Server) EventsOut() <-chan *stdtypes.EventList { return s.out }

// ApplyEvents sends the results of Reply and Executed events to their
// clients. Init is
// ignored; a message from another node is dropped and counted (a peer
// chose the destination); any other event is an error, which stops the
// node. It never blocks: replies go to bounded queues.
func (s *Server) ApplyEvents(ctx context.Context, events *stdtypes.EventList) error {
	if s.watching.CompareAndSwap(false, true) {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			select {
			case <-ctx.Done():
				s.shutdown()
			case <-s.ctx.Done():
			}
		}()
	}
	for ev := range events.All() {
		if s.stray.Drop(ev) {
			continue
		}
		switch ev := ev.(type) {
		case *stdevents.Init:
		case *Reply:
			var rs replies
			rs.add(ev.ClientID, ev.TxNo, ev.Result)
			rs.send(s)
		case *Executed:
			if len(ev.Results) != len(ev.Txs) {
				return fmt.Errorf("client server: Executed of slot %d with %d results for %d transactions",
					ev.SeqNr, len(ev.Results), len(ev.Txs))
			}
			var rs replies
			for i, tx := range ev.Txs {
				rs.add(tx.ClientID, tx.TxNo, ev.Results[i])
			}
			rs.send(s)
		default:
			return fmt.Errorf("client server: unexpected event %T", ev)
		}
	}
	return nil
}

// replies are the results of one event, sent by connection, so that the
// server takes its locks once per event and each connection's frames are
// queued (and its writer woken) once.
type replies struct {
	keys    []cacheKey
	results [][]byte
}

func (rs *replies) add(clientID string, txNo uint64, result []byte) {
	rs.keys = append(rs.keys, cacheKey{clientID, txNo})
	rs.results = append(rs.results, result)
}

// send caches the results and queues their frames to their clients'
// connections; a result of a client with no connection, or whose
// connection's queue is full, is counted as dropped.
func (rs *replies) send(s *Server) {
	s.cache.putAll(rs.keys, rs.results)
	conns := make([]*conn, len(rs.keys))
	s.mu.Lock()
	for i, k := range rs.keys {
		conns[i] = s.byClient[k.clientID]
	}
	s.mu.Unlock()
	// An event's transactions come from few connections: a linear
	// search beats a map.
	var (
		to     []*conn
		frames [][]byte
		n      []int
	)
	for i, c := range conns {
		if c == nil {
			s.metrics.repliesDropped.Add(1)
			continue
		}
		j := slices.Index(to, c)
		if j < 0 {
			j = len(to)
			to, frames, n = append(to, c), append(frames, nil), append(n, 0)
		}
		frames[j] = appendFrame(frames[j], kindReply, rs.keys[i].clientID, rs.keys[i].txNo, rs.results[i])
		n[j]++
	}
	for j, c := range to {
		if c.queue(n[j], s.opts.MaxReplyQueue, s.opts.MaxReplyQueueBytes, frames[j]) {
			s.metrics.replies.Add(uint64(n[j]))
		} else {
			s.metrics.repliesDropped.Add(uint64(n[j]))
		}
	}
}

// acceptLoop accepts connections until the listener is closed.
func (s *Server) acceptLoop(l net.Listener) {
	defer s.wg.Done()
	delay := 5 * time.Millisecond // After an accept error, such as running out of descriptors.
	for {
		nc, err := l.Accept()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			s.warn(causeAccept, "accept failed", slog.String("error", err.Error()))
			select {
			case <-time.After(delay):
				delay = min(2*delay, time.Second)
			case <-s.ctx.Done():
				return
			}
			continue
		}
		delay = 5 * time.Millisecond
		c := s.add(nc)
		if c == nil {
			nc.Close()
			continue
		}
		s.wg.Add(2)
		go s.readLoop(c)
		go s.writeLoop(c)
	}
}

// add registers a new connection, or returns nil if there are too many
// or the server is stopping.
func (s *Server) add(nc net.Conn) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	if len(s.conns) >= s.opts.MaxConns {
		s.metrics.refused.Add(1)
		s.warn(causeConns, "too many client connections, refusing one",
			slog.String("remote", nc.RemoteAddr().String()), slog.Int("max", s.opts.MaxConns))
		return nil
	}
	s.metrics.accepted.Add(1)
	c := &conn{nc: nc, done: make(chan struct{}), wake: make(chan struct{}, 1), clients: make(map[string]struct{})}
	s.conns[c] = struct{}{}
	return c
}

// drop closes c and forgets it.
func (s *Server) drop(c *conn) {
	c.closeOnce.Do(func() {
		// Forget its clients first: once the peer sees the connection
		// closed, they count no more against MaxClients.
		s.mu.Lock()
		delete(s.conns, c)
		for id := range c.clients {
			if s.byClient[id] == c {
				delete(s.byClient, id)
			}
		}
		s.mu.Unlock()
		close(c.done)
		c.nc.Close()
	})
}

// readLoop reads c's frames and buffers their transactions for the
// emitter, until c fails or the server stops.
func (s *Server) readLoop(c *conn) {
	defer s.wg.Done()
	defer s.drop(c)
	br := bufio.NewReaderSize(c.nc, serverReadBufferBytes)
	bucket := tokenBucket{rate: float64(s.opts.FramesPerSecond), burst: float64(s.opts.FramesPerSecond)}
	// ids interns the client IDs of c's frames (at most
	// MaxClientsPerConn, which bind enforces).
	ids := make(map[string]string)
	// txs are the transactions of the frames read since the reader last
	// buffered them for the emitter: it does so before it waits, and
	// every maxReadBatch frames, taking the lock once for all.
	var txs []mempool.Tx
	flush := func() bool {
		ok := s.buffer(c, txs)
		txs = txs[:0]
		return ok
	}
	defer flush() // What a client sent before a bad frame still counts.
	var buf []byte
	for {
		// Wait for a frame's first byte as long as the client may idle,
		// then for the rest of it no longer than FrameTimeout. A frame
		// already buffered whole waits for nothing: setting a deadline
		// costs more than reading it.
		if (len(txs) > 0 && !frameBuffered(br)) || len(txs) >= maxReadBatch {
			if !flush() {
				return
			}
		}
		if br.Buffered() == 0 {
			c.nc.SetReadDeadline(time.Now().Add(s.opts.IdleTimeout))
			if _, err := br.Peek(1); err != nil {
				s.readFailed(c, err)
				return
			}
		}
		if !frameBuffered(br) {
			c.nc.SetReadDeadline(time.Now().Add(s.opts.FrameTimeout))
		}
		body, err := readFrame(br, buf, s.opts.maxBody())
		if err != nil {
			s.readFailed(c, err)
			return
		}
		buf = body
		f, err := decodeFrame(body, kindSubmit)
		if err == nil && len(f.payload) > s.opts.MaxTxBytes {
			err = fmt.Errorf("%w: transaction of %d bytes, at most %d", ErrFrameTooLarge, len(f.payload), s.opts.MaxTxBytes)
		}
		clientID, known := ids[string(f.clientID)]
		if err == nil && !known {
			clientID = string(f.clientID)
		}
		if err == nil {
			err = s.bind(c, clientID, &bucket)
		}
		if err != nil {
			s.readFailed(c, err)
			return
		}
		if wait := bucket.take(time.Now()); wait > 0 {
			s.metrics.throttled.Add(1)
			if !flush() || !s.sleep(wait) {
				return
			}
		}
		if !known {
			if len(ids) >= s.opts.MaxClientsPerConn {
				// Clients that moved to another connection left
				// their IDs here: interning is worth no more memory.
				clear(ids)
			}
			ids[clientID] = clientID
		}
		if result, ok := s.cache.get(clientID, f.txNo); ok {
			// Executed: answer from the cache, which the mempool cannot.
			s.metrics.cachedReplies.Add(1)
			// The result is queued from the cache, not copied: a
			// frame of a few bytes must not cost the server a result.
			if !c.queue(1, s.opts.MaxReplyQueue, s.opts.MaxReplyQueueBytes, appendFrameHead(nil, kindReply, clientID, f.txNo, len(result)), result) {
				s.metrics.repliesDropped.Add(1)
			}
			continue
		}
		txs = append(txs, mempool.Tx{TxID: mempool.TxID{ClientID: clientID, TxNo: f.txNo}, Data: append([]byte(nil), f.payload...)})
	}
}

// serverReadBufferBytes is the size of a connection's read buffer: a
// pool's connection brings many clients' frames, read in one system call
// per buffer. It bounds the server's read buffers to MaxConns times as
// much.
const serverReadBufferBytes = 32 << 10

// maxReadBatch bounds the transactions a reader holds before it buffers
// them for the emitter (about 32 KiB of them at 512 bytes).
const maxReadBatch = 64

// readFailed counts and logs why c's reader stopped.
func (s *Server) readFailed(c *conn, err error) {
	remote := slog.String("remote", c.nc.RemoteAddr().String())
	switch {
	case s.ctx.Err() != nil, errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
	case errors.Is(err, os.ErrDeadlineExceeded):
		s.metrics.timeouts.Add(1)
		s.logger.LogAttrs(logging.LevelDebug, "client connection timed out", remote)
	case errors.Is(err, ErrTooManyClients):
		s.metrics.tooManyClients.Add(1)
		s.warn(causeClients, "too many clients, closing a connection", remote, slog.String("error", err.Error()))
	case errors.Is(err, ErrFrameTooLarge), errors.Is(err, ErrTruncated), errors.Is(err, ErrBadFrame):
		s.metrics.badFrames.Add(1)
		s.warn(causeBadFrame, "bad frame from a client, closing its connection", remote, slog.String("error", err.Error()))
	default:
		s.logger.LogAttrs(logging.LevelDebug, "client connection failed", remote, slog.String("error", err.Error()))
	}
}

// sleep waits for d or until the server stops; it reports whether the
// server still runs.
func (s *Server) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// bind makes c the connection of clientID, the one its replies go to,
// and c a connection of that client for good. A connection speaks for at
// most MaxClientsPerConn clients; each one it speaks for adds
// FramesPerSecond to its rate, as a connection of its own would.
func (s *Server) bind(c *conn, clientID string, bucket *tokenBucket) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := c.clients[clientID]; !ok {
		if len(c.clients) >= s.opts.MaxClientsPerConn {
			return fmt.Errorf("%w: client %q on a connection of %d clients, at most %d",
				ErrTooManyClients, clientID, len(c.clients), s.opts.MaxClientsPerConn)
		}
		if _, known := s.byClient[clientID]; !known && len(s.byClient) >= s.opts.MaxClients {
			return fmt.Errorf("%w: client %q, %d clients connected, at most %d",
				ErrTooManyClients, clientID, len(s.byClient), s.opts.MaxClients)
		}
		c.clients[clientID] = struct{}{}
		c.nClients.Store(int64(len(c.clients)))
		bucket.rate = float64(s.opts.FramesPerSecond) * float64(len(c.clients))
		bucket.burst = bucket.rate
	}
	if prev := s.byClient[clientID]; prev != nil && prev != c {
		// The client moved (it reconnected, or another claims its ID):
		// the connection it left speaks for it no more, so that the
		// clients of all connections, each allowing its connection
		// MaxReplyQueue replies, are at most MaxClients.
		delete(prev.clients, clientID)
		prev.nClients.Store(int64(len(prev.clients)))
	}
	s.byClient[clientID] = c
	return nil
}

// buffer adds txs, from c, to the pending transactions, waiting while
// they are full. It reports whether the server still runs.
func (s *Server) buffer(c *conn, txs []mempool.Tx) bool {
	for len(txs) > 0 {
		s.mu.Lock()
		for len(txs) > 0 {
			cost := len(txs[0].Data) + len(txs[0].ClientID) + txOverheadBytes
			if s.pendingBytes != 0 && s.pendingBytes+cost > s.opts.MaxBufferedBytes {
				break
			}
			s.pending = append(s.pending, txs[0])
			s.pendingBytes += cost
			s.metrics.txs.Add(1)
			txs = txs[1:]
		}
		room := s.room
		s.mu.Unlock()
		select {
		case s.ready <- struct{}{}:
		default:
		}
		if len(txs) == 0 {
			break
		}
		select {
		case <-room:
		case <-s.ctx.Done():
			return false
		case <-c.done:
			return false
		}
	}
	return true
}

// emitLoop hands what the readers buffered to the node, all of it at
// once, as soon as the node takes it.
func (s *Server) emitLoop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.ready:
		case <-s.ctx.Done():
			return
		}
		s.mu.Lock()
		txs := s.pending
		s.pending, s.pendingBytes = nil, 0
		close(s.room)
		s.room = make(chan struct{})
		s.mu.Unlock()
		if len(txs) == 0 {
			continue
		}
		ev := &mempool.NewTxs{Header: stdtypes.NewHeader(s.opts.Mempool), Txs: txs}
		select {
		case s.out <- stdtypes.ListOf(ev):
		case <-s.ctx.Done():
			return
		}
	}
}

// writeLoop writes the replies queued for c.
func (s *Server) writeLoop(c *conn) {
	defer s.wg.Done()
	defer s.drop(c)
	bw := bufio.NewWriterSize(c.nc, readChunkBytes)
	for {
		select {
		case <-c.wake:
		case <-c.done:
			return
		case <-s.ctx.Done():
			return
		}
		frames := c.take()
		c.nc.SetWriteDeadline(time.Now().Add(s.opts.WriteTimeout))
		for _, f := range frames {
			if _, err := bw.Write(f); err != nil {
				s.writeFailed(c, err)
				return
			}
		}
		if err := bw.Flush(); err != nil {
			s.writeFailed(c, err)
			return
		}
	}
}

// writeFailed counts and logs a write that timed out (a client that
// stopped reading); other failures are those of a connection closed.
func (s *Server) writeFailed(c *conn, err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		s.metrics.timeouts.Add(1)
		s.logger.LogAttrs(logging.LevelDebug, "client connection timed out writing", slog.String("remote", c.nc.RemoteAddr().String()))
	}
}

// conn is a client's connection.
type conn struct {
	nc        net.Conn
	done      chan struct{} // Closed when the connection is dropped.
	closeOnce sync.Once
	// clients are those the connection speaks for, set by their first
	// frame on it, until another connection sends one of theirs; written
	// and read under Server.mu.
	clients map[string]struct{}
	// nClients is len(clients), for queue, which does not hold
	// Server.mu.
	nClients atomic.Int64

	mu      sync.Mutex
	frames  [][]byte // Replies to write, each one or more frames, or part of one.
	nFrames int      // The frames in frames.
	nBytes  int      // The bytes in frames.
	wake    chan struct{}
}

// queue adds n reply frames, written in the parts f, unless more than
// perClient per client of the connection, or more than maxBytes, would be
// queued then.
func (c *conn) queue(n, perClient, maxBytes int, f ...[]byte) bool {
	limit := int64(perClient) * max(1, c.nClients.Load())
	size := 0
	for _, part := range f {
		size += len(part)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if int64(c.nFrames+n) > limit || c.nBytes+size > maxBytes {
		return false
	}
	c.frames = append(c.frames, f...)
	c.nFrames += n
	c.nBytes += size
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return true
}

func (c *conn) take() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.frames
	c.frames, c.nFrames, c.nBytes = nil, 0, 0
	return f
}

// tokenBucket limits a rate of events, allowing bursts.
type tokenBucket struct {
	rate, burst float64
	tokens      float64
	last        time.Time
}

// take takes a token at now and returns how long to wait before the event
// (zero: at once).
func (b *tokenBucket) take(now time.Time) time.Duration {
	if b.last.IsZero() {
		b.tokens = b.burst
	} else {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

// ServerMetrics are the server's counters since it was made.
type ServerMetrics struct {
	Accepted, Refused uint64 // Connections accepted, and refused for MaxConns.
	TooManyClients    uint64 // Connections closed for MaxClientsPerConn or MaxClients.
	BadFrames         uint64 // Connections closed for a bad frame.
	Timeouts          uint64 // Connections closed for IdleTimeout, FrameTimeout or WriteTimeout.
	Throttled         uint64 // Frames delayed by FramesPerSecond.
	Txs               uint64 // Transactions read.
	Replies           uint64 // Replies queued to a connection.
	RepliesDropped    uint64 // Replies with no connection, or a full queue.
	CachedReplies     uint64 // Transactions submitted again and answered from the cache.
	StrayMessages     uint64 // Messages from other nodes, dropped.
}

type serverCounters struct {
	accepted, refused, tooManyClients, badFrames, timeouts, throttled, txs, replies, repliesDropped, cachedReplies atomic.Uint64
}

// Metrics returns the server's counters.
func (s *Server) Metrics() ServerMetrics {
	m := &s.metrics
	return ServerMetrics{
		Accepted: m.accepted.Load(), Refused: m.refused.Load(), TooManyClients: m.tooManyClients.Load(), BadFrames: m.badFrames.Load(),
		Timeouts: m.timeouts.Load(), Throttled: m.throttled.Load(), Txs: m.txs.Load(),
		Replies: m.replies.Load(), RepliesDropped: m.repliesDropped.Load(), CachedReplies: m.cachedReplies.Load(),
		StrayMessages: s.stray.Count(),
	}
}
