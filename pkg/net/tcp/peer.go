package tcp

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	gonet "net"
	"sync"
	"time"

	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/stdtypes"
)

// writeBufferBytes is the size of the buffer through which a connection's
// writer batches frames into few large writes.
const writeBufferBytes = 64 << 10

// peer is what a transport keeps for another member: the queue of frames
// for it and the goroutine that dials it and writes them, the peer's
// incoming connection, and the counters.
type peer struct {
	counters
	t         *Transport
	id        stdtypes.NodeID
	addr      string
	clientTLS *tls.Config
	logger    *logging.Logger

	// signal wakes the writer when the queue gets a frame. One pending
	// signal is enough, so its capacity is 1 and sending never blocks.
	signal chan struct{}

	mu sync.Mutex // Guards what follows.
	// queue holds the frames waiting to be written, oldest first, at most
	// SendQueueMessages of them and SendQueueBytes in all.
	queue      []frame
	queueBytes int
	// closed is set when the transport stops: nothing is queued any more.
	closed bool
	// inbound is the peer's current connection to this node, if any.
	inbound gonet.Conn

	// spare is the writer's second queue slice: take swaps the two, so
	// that taking the queue allocates nothing. Only the writer uses it.
	spare []frame
}

func newPeer(t *Transport, n membership.Node, clientTLS *tls.Config) *peer {
	return &peer{
		t:         t,
		id:        n.ID,
		addr:      n.Addr,
		clientTLS: clientTLS,
		logger:    t.logger.With("peer", string(n.ID)),
		signal:    make(chan struct{}, 1),
	}
}

// enqueue adds f to the queue, with a reference of its own, or drops it if
// the queue is full or the transport stopped. It never blocks.
func (p *peer) enqueue(f frame) {
	p.mu.Lock()
	if p.closed || len(p.queue) >= p.t.opts.SendQueueMessages || p.queueBytes+len(f.b) > p.t.opts.SendQueueBytes {
		p.mu.Unlock()
		p.droppedOut.Add(1)
		p.logger.LogAttrs(logging.LevelDebug, "send queue full, dropping message")
		return
	}
	f.acquire()
	wasEmpty := len(p.queue) == 0
	p.queue = append(p.queue, f)
	p.queueBytes += len(f.b)
	p.mu.Unlock()
	if wasEmpty {
		select {
		case p.signal <- struct{}{}:
		default:
		}
	}
}

// take returns the queued frames and empties the queue. The caller gives
// the slice back with recycle once it is done with it.
func (p *peer) take() []frame {
	p.mu.Lock()
	defer p.mu.Unlock()
	batch := p.queue
	p.queue, p.spare = p.spare[:0], nil
	p.queueBytes = 0
	return batch
}

// recycle releases the frames of batch from i on (the writer released
// the others as it wrote them) and keeps batch's storage for the next
// take.
func (p *peer) recycle(batch []frame, i int) {
	for _, f := range batch[i:] {
		f.release()
	}
	clear(batch)
	p.mu.Lock()
	p.spare = batch[:0]
	p.mu.Unlock()
}

// queueLen returns the length of the queue, in frames and bytes.
func (p *peer) queueLen() (int, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.queue), p.queueBytes
}

// close drops the queue, counting it, and makes enqueue drop from now on.
func (p *peer) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.droppedOut.Add(uint64(len(p.queue)))
	for _, f := range p.queue {
		f.release()
	}
	p.queue, p.spare, p.queueBytes = nil, nil, 0
}

// run keeps a connection to the peer, dialing it with backoff whenever
// there is none, and writes the queue to it, until the transport stops.
func (p *peer) run() {
	defer p.t.wg.Done()
	b := backoff{min: p.t.opts.ReconnectMin, max: p.t.opts.ReconnectMax}
	// downSince is when the peer was last known up, or when dialing
	// began: since then every dial has failed.
	downSince := p.t.warnings.clock()
	for {
		conn, err := p.dial()
		if err != nil {
			if p.t.isStopping() {
				return
			}
			p.dialFailures.Add(1)
			p.dialFailed(err, downSince)
			if !p.t.sleep(b.next()) {
				return
			}
			continue
		}
		if p.connects.Add(1) > 1 {
			p.logger.LogAttrs(logging.LevelInfo, "reconnected", slog.String("addr", p.addr))
		}
		p.connected.Store(true)
		start := time.Now()
		err = p.serve(conn)
		p.connected.Store(false)
		if p.t.isStopping() {
			return
		}
		downSince = p.t.warnings.clock()
		p.logger.LogAttrs(logging.LevelInfo, "connection to peer lost", slog.String("error", err.Error()))
		// A connection that worked for a while resets the backoff: the
		// peer is not failing, it just went away.
		if time.Since(start) >= p.t.opts.ReconnectMax {
			b.reset()
		}
		if !p.t.sleep(b.next()) {
			return
		}
	}
}

// unreachableWarnAfter is how long a peer must have been unreachable
// before a failed dial is a warning. A peer that stops in order looks on
// the wire like one that crashed, so a lost connection alone is no
// warning: every orderly shutdown of a deployment would raise some. A
// peer that stays away this long, or never came up, is one: longer than
// a restart takes, short enough for an operator to learn of it soon.
const unreachableWarnAfter = 10 * time.Second

// dialFailed logs a failed dial: at Warn (see warnInterval) once the peer
// has been unreachable since downSince for unreachableWarnAfter, at Debug
// before.
func (p *peer) dialFailed(err error, downSince time.Time) {
	down := p.t.warnings.clock().Sub(downSince)
	if down < unreachableWarnAfter {
		p.logger.LogAttrs(logging.LevelDebug, "dial failed", slog.String("error", err.Error()))
		return
	}
	p.t.warn(p.logger, peerSource(p.id), causeUnreachable, "peer unreachable",
		slog.Duration("for", down.Round(time.Second)), slog.String("error", err.Error()))
}

// sleep waits for d, or until the transport stops; it returns false in
// the latter case.
func (t *Transport) sleep(d time.Duration) bool {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-t.ctx.Done():
		return false
	}
}

// dial sets up a connection to the peer: TCP, then TLS with both keys
// checked, then the hello, which the peer must acknowledge. All within
// HandshakeTimeout.
func (p *peer) dial() (*tls.Conn, error) {
	deadline := time.Now().Add(p.t.opts.HandshakeTimeout)
	d := gonet.Dialer{Deadline: deadline}
	raw, err := d.DialContext(p.t.ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	if !p.t.track(raw) {
		raw.Close()
		return nil, errStopping
	}
	conn, err := p.setUp(raw, deadline)
	if err != nil {
		p.t.untrack(raw)
		return nil, err
	}
	return conn, nil
}

// errStopping ends what the transport was doing when it stops.
var errStopping = errors.New("transport stopping")

// setUp runs the TLS handshake and the hello on the raw connection.
func (p *peer) setUp(raw gonet.Conn, deadline time.Time) (*tls.Conn, error) {
	if err := raw.SetDeadline(deadline); err != nil {
		return nil, err
	}
	conn := tls.Client(raw, p.clientTLS)
	if err := conn.HandshakeContext(p.t.ctx); err != nil {
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	frame, err := appendHello(nil, hello{Version: protocolVersion, From: p.t.id, To: p.id})
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write(frame); err != nil {
		return nil, fmt.Errorf("send hello: %w", err)
	}
	var ack [1]byte
	if _, err := io.ReadFull(conn, ack[:]); err != nil {
		// A listener that refuses the certificate or the hello closes the
		// connection (with a TLS alert for the certificate).
		return nil, fmt.Errorf("%w by the peer: %w", ErrRefused, err)
	}
	if ack[0] != ackByte {
		return nil, fmt.Errorf("%w: unexpected answer to hello", ErrRefused)
	}
	if err := raw.SetDeadline(time.Time{}); err != nil {
		return nil, err
	}
	return conn, nil
}

// serve writes the queue to conn until the connection fails or the
// transport stops, then closes conn. Frames go through a buffer that is
// flushed when the queue is empty, so that many queued messages go out in
// one write.
func (p *peer) serve(conn *tls.Conn) error {
	// The peer never writes after its acknowledgment, so a read returns
	// only when the connection ends: that is how a peer that closed its
	// end, or restarted, is noticed before the next write fails.
	broken := make(chan struct{})
	go func() {
		var b [1]byte
		conn.Read(b[:])
		close(broken)
	}()
	raw := conn.NetConn()
	defer func() {
		p.t.untrack(raw)
		<-broken
	}()

	w := bufio.NewWriterSize(conn, writeBufferBytes)
	var pending, pendingBytes uint64 // Written to w, not yet flushed.
	for {
		batch := p.take()
		if len(batch) == 0 {
			p.recycle(batch, 0)
			if w.Buffered() > 0 || pending > 0 {
				err := p.flush(raw, w)
				if err != nil {
					p.droppedOut.Add(pending)
					return err
				}
				p.msgsOut.Add(pending)
				p.bytesOut.Add(pendingBytes)
				pending, pendingBytes = 0, 0
				continue
			}
			select {
			case <-p.signal:
				continue
			case <-broken:
				return errors.New("connection closed by the peer")
			case <-p.t.ctx.Done():
				return errStopping
			}
		}
		if err := raw.SetWriteDeadline(time.Now().Add(p.t.opts.WriteTimeout)); err != nil {
			p.droppedOut.Add(pending + uint64(len(batch)))
			p.recycle(batch, 0)
			return err
		}
		for i, f := range batch {
			// The writer copies f or writes it out: either way f is done
			// with once Write returns.
			_, err := w.Write(f.b)
			if err != nil {
				p.droppedOut.Add(pending + uint64(len(batch)-i))
				p.recycle(batch, i)
				return err
			}
			pendingBytes += uint64(len(f.b))
			f.release()
		}
		pending += uint64(len(batch))
		p.recycle(batch, len(batch))
	}
}

// flush writes out what w buffers, within WriteTimeout.
func (p *peer) flush(raw gonet.Conn, w *bufio.Writer) error {
	if err := raw.SetWriteDeadline(time.Now().Add(p.t.opts.WriteTimeout)); err != nil {
		return err
	}
	return w.Flush()
}

// backoff is the wait before redialing: exponential, with jitter.
type backoff struct {
	min, max time.Duration
	cur      time.Duration
}

// next returns the next wait: a random duration between half and all of
// the current step, which doubles each time up to max.
func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	half := b.cur / 2
	return half + rand.N(b.cur-half+1)
}

// reset starts the steps again from min.
func (b *backoff) reset() { b.cur = 0 }
