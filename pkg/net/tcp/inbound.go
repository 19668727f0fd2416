package tcp

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	gonet "net"
	"syscall"
	"time"

	"github.com/mirframework/mir/pkg/logging"
	"github.com/mirframework/mir/stdevents"
	"github.com/mirframework/mir/stdtypes"
)

// readBufferBytes is the size of a connection's read buffer: frames up to
// this size are decoded where they are, without being copied out of it.
const readBufferBytes = 64 << 10

// msgHungUp is the message of a connection closed before it was set up.
const msgHungUp = "connection closed during set-up"

// A connection hands what it read to the node in lists of at most
// maxListMessages messages and about maxListBytes of frames (a list can
// exceed it by one frame), or sooner when no whole frame is left in its
// buffer. Larger lists cost the node fewer channel operations; bounded
// ones bound what the incoming queue holds.
const (
	maxListMessages = 512
	maxListBytes    = 1 << 20
)

// acceptLoop accepts connections until the listener is closed, and serves
// each on a goroutine of its own.
func (t *Transport) acceptLoop(l gonet.Listener) {
	defer t.wg.Done()
	var b backoff // For accept errors such as running out of file descriptors.
	b.min, b.max = 5*time.Millisecond, time.Second
	for {
		raw, err := l.Accept()
		if err != nil {
			if t.isStopping() || errors.Is(err, gonet.ErrClosed) {
				return
			}
			t.logger.LogAttrs(logging.LevelWarn, "accept failed", slog.String("error", err.Error()))
			if !t.sleep(b.next()) {
				return
			}
			continue
		}
		b.reset()
		select {
		case t.handshakes <- struct{}{}:
		default:
			t.refused.Add(1)
			t.warn(t.logger, addrSource(raw.RemoteAddr()), causeSlots, "too many connections being set up, refusing one",
				slog.String("remote", raw.RemoteAddr().String()))
			raw.Close()
			continue
		}
		if !t.track(raw) {
			raw.Close()
			<-t.handshakes
			return
		}
		t.wg.Add(1)
		go t.serveInbound(raw)
	}
}

// serveInbound sets up an incoming connection and then reads it until it
// ends.
func (t *Transport) serveInbound(raw gonet.Conn) {
	defer t.wg.Done()
	defer t.untrack(raw)
	p, from, br, err := t.setUpInbound(raw)
	<-t.handshakes
	if err != nil {
		if !t.isStopping() {
			t.refused.Add(1)
			logger, source, cause := t.logger, addrSource(raw.RemoteAddr()), causeHandshake
			if from != "" {
				// The peer proved it holds a member's key: the member is
				// the source, whatever address it comes from.
				source, cause = peerSource(from), causeHello
				logger = logger.With("peer", string(from)) // Maybe this node's own key: no peer.
			}
			attrs := []slog.Attr{slog.String("remote", raw.RemoteAddr().String()), slog.String("error", err.Error())}
			if hungUp(err) {
				// Nothing was refused: the other end went away, as a peer
				// that stops while it dials does.
				t.logLimited(logging.LevelInfo, logger, source, causeHungUp, msgHungUp, attrs...)
			} else {
				t.warn(logger, source, cause, "refused a connection", attrs...)
			}
		}
		return
	}
	p.setInbound(raw)
	defer p.clearInbound(raw)
	t.readLoop(p, br)
}

// hungUp tells whether err ended a connection's set-up because the other
// end closed it: an end of file, or a reset.
func hungUp(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
}

// setUpInbound runs the TLS handshake, in which the peer proves it holds
// the key of a member, and reads the hello, in which it must claim to be
// that member and to reach this node; it then acknowledges. All within
// HandshakeTimeout. It returns the peer and the connection's reader, or
// the error and, if the handshake authenticated a member, its ID (from).
func (t *Transport) setUpInbound(raw gonet.Conn) (p *peer, from stdtypes.NodeID, br *bufio.Reader, err error) {
	if err := raw.SetDeadline(time.Now().Add(t.opts.HandshakeTimeout)); err != nil {
		return nil, "", nil, err
	}
	conn := tls.Server(raw, t.serverTLS)
	if err := conn.HandshakeContext(t.ctx); err != nil {
		return nil, "", nil, fmt.Errorf("TLS handshake: %w", err)
	}
	var rawCerts [][]byte
	for _, c := range conn.ConnectionState().PeerCertificates {
		rawCerts = append(rawCerts, c.Raw)
	}
	key, err := peerKey(rawCerts)
	if err != nil {
		return nil, "", nil, err
	}
	node, ok := t.members.NodeByKey(key)
	if !ok { // The handshake checked it; this is defence in depth.
		return nil, "", nil, fmt.Errorf("%w: key not in the membership", ErrRefused)
	}
	br, err = t.acceptHello(conn, node.ID)
	if err != nil {
		return nil, node.ID, nil, err
	}
	if err := raw.SetDeadline(time.Time{}); err != nil {
		return nil, node.ID, nil, err
	}
	return t.peers[node.ID], node.ID, br, nil
}

// acceptHello reads the hello of member id on conn, checks it and
// acknowledges it. It returns the connection's reader.
func (t *Transport) acceptHello(conn *tls.Conn, id stdtypes.NodeID) (*bufio.Reader, error) {
	br := bufio.NewReaderSize(conn, readBufferBytes)
	h, err := readHello(br)
	if err != nil {
		return nil, err
	}
	switch {
	case h.Version != protocolVersion:
		return nil, fmt.Errorf("%w: node %s speaks protocol version %d, this node %d", ErrRefused, id, h.Version, protocolVersion)
	case h.From != id:
		return nil, fmt.Errorf("%w: node %s claims to be node %q", ErrRefused, id, truncateID(h.From))
	case h.To != t.id:
		return nil, fmt.Errorf("%w: node %s means to reach node %q", ErrRefused, id, truncateID(h.To))
	case id == t.id:
		return nil, fmt.Errorf("%w: a connection from this node's own key", ErrRefused)
	}
	if _, err := conn.Write([]byte{ackByte}); err != nil {
		return nil, fmt.Errorf("acknowledge hello: %w", err)
	}
	return br, nil
}

// truncateID shortens an ID a peer sent for a log message.
func truncateID(id stdtypes.NodeID) string {
	const maxLen = 64
	if len(id) <= maxLen {
		return string(id)
	}
	return string(id[:maxLen]) + "..."
}

// setInbound makes c the peer's incoming connection, closing the previous
// one: a peer that reconnects (it restarted, or lost its connection
// without this node noticing) replaces its old connection, so each peer
// has at most one.
func (p *peer) setInbound(c gonet.Conn) {
	p.mu.Lock()
	old := p.inbound
	p.inbound = c
	p.inboundUp.Store(true)
	p.mu.Unlock()
	if old != nil {
		old.Close()
	}
}

// clearInbound forgets c if it is still the peer's incoming connection.
func (p *peer) clearInbound(c gonet.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inbound == c {
		p.inbound = nil
		p.inboundUp.Store(false)
	}
}

// readLoop reads frames from p's connection and hands them to the node as
// MessageReceived events from p, until the connection ends, a frame is
// bad, or the transport stops. The sender is the authenticated peer,
// whatever a frame says.
func (t *Transport) readLoop(p *peer, br *bufio.Reader) {
	r := newFrameReader(br, t.opts.MaxFrameBytes, t.dec)
	var list *stdtypes.EventList
	var listBytes int
	for {
		// Hand over what was read before waiting for the network.
		if list != nil && (!r.buffered() || list.Len() >= maxListMessages || listBytes >= maxListBytes) {
			if !t.emit(p, list, listBytes) {
				return
			}
			list, listBytes = nil, 0
		}
		dest, msg, size, err := r.next()
		if err != nil {
			if list != nil {
				t.emit(p, list, listBytes)
			}
			t.readError(p, err)
			return
		}
		if list == nil {
			list = stdtypes.EmptyList()
		}
		list.PushBack(stdevents.NewMessageReceived(dest, p.id, msg))
		listBytes += size
	}
}

// readError counts and logs why a connection's reader stopped.
func (t *Transport) readError(p *peer, err error) {
	switch {
	case errors.Is(err, ErrTruncated):
		// A peer that crashes or is killed in the middle of a write leaves
		// a truncated frame: counted, but nothing to warn about.
		p.badFrames.Add(1)
		p.droppedIn.Add(1)
		p.logger.LogAttrs(logging.LevelInfo, "connection from peer ended inside a frame", slog.String("error", err.Error()))
	case errors.Is(err, ErrFrameTooLarge), errors.Is(err, ErrBadFrame):
		p.badFrames.Add(1)
		p.droppedIn.Add(1)
		t.warn(p.logger, peerSource(p.id), causeBadFrame, "closing connection from peer: bad frame", slog.String("error", err.Error()))
	case err == io.EOF, t.isStopping(), errors.Is(err, gonet.ErrClosed):
		p.logger.LogAttrs(logging.LevelDebug, "connection from peer ended", slog.String("error", err.Error()))
	default:
		p.logger.LogAttrs(logging.LevelInfo, "connection from peer failed", slog.String("error", err.Error()))
	}
}

// emit hands list, read from p, to the node, waiting while the incoming
// queue is full. It returns false if the transport stopped first.
func (t *Transport) emit(p *peer, list *stdtypes.EventList, bytes int) bool {
	n := uint64(list.Len())
	// Counted before the node can see them, so that a node that has
	// processed a message finds it counted.
	p.msgsIn.Add(n)
	p.bytesIn.Add(uint64(bytes))
	select {
	case t.out <- list:
		return true
	case <-t.ctx.Done():
		p.msgsIn.Add(-n)
		p.bytesIn.Add(-uint64(bytes))
		p.droppedIn.Add(n)
		return false
	}
}
