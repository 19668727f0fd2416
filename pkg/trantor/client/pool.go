package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"
)

// maxPoolNodes bounds the nodes of a pool: SubmitAsync keeps a flag per
// node on its stack, and f+1 votes among more nodes than that is not a
// Trantor system one client library serves.
const maxPoolNodes = 256

// linkBufferBytes is the size of a pool connection's read and write
// buffers: a writer that wakes after many clients submitted sends their
// frames in one system call, and a reader takes a node's replies to many
// clients in one.
const linkBufferBytes = 64 << 10

// ErrDuplicateClient: a pool has a client of that ID already.
var ErrDuplicateClient = errors.New("client ID in use in the pool")

// Pool is one connection to each node of a Trantor system, shared by many
// clients: their transactions go to a node over one connection, written
// together when they are submitted together, and the node's replies to
// all of them come back on it, so that a process with many clients pays
// the system calls of one. Each client keeps its own numbers, window and
// f+1 vote. It is safe for concurrent use.
type Pool struct {
	opts  PoolOptions
	f     int
	links []*nodeLink

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.RWMutex
	clients map[string]*Client
	closed  bool
}

// NewPool returns a pool of connections to the nodes at the given
// addresses (host:port), each once, of which at most f are faulty
// (len(nodes) > 2f, so that f+1 agree). It connects in the background, redialing a node
// whenever its connection drops.
func NewPool(nodes []string, f int, opts PoolOptions) (*Pool, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("pool options: %w", err)
	}
	if f < 0 || len(nodes) < 2*f+1 {
		return nil, fmt.Errorf("%d nodes cannot tolerate %d faulty", len(nodes), f)
	}
	if len(nodes) > maxPoolNodes {
		return nil, fmt.Errorf("%d nodes, at most %d", len(nodes), maxPoolNodes)
	}
	for i, addr := range nodes {
		if slices.Contains(nodes[:i], addr) {
			// It would vote once per entry: f+1 votes could be one node's.
			return nil, fmt.Errorf("node %s listed twice", addr)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Pool{opts: opts.withDefaults(), f: f, ctx: ctx, cancel: cancel, clients: make(map[string]*Client)}
	for i, addr := range nodes {
		p.links = append(p.links, &nodeLink{p: p, idx: i, addr: addr, wake: make(chan struct{}, 1)})
	}
	for _, n := range p.links {
		p.wg.Add(1)
		go n.run()
	}
	return p, nil
}

// NewClient returns a client on the pool's connections. Its Options'
// PoolOptions are ignored (the pool's hold); its ClientID must not be
// another client's of the pool (ErrDuplicateClient). Close it when done:
// until then the pool routes its ID's replies to it.
func (p *Pool) NewClient(opts Options) (*Client, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("client options: %w", err)
	}
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(p.ctx)
	c := &Client{
		opts:     opts,
		f:        p.f,
		pool:     p,
		ctx:      ctx,
		cancel:   cancel,
		slots:    make(chan struct{}, opts.MaxOutstanding),
		nextNo:   opts.FirstTxNo,
		pending:  make(map[uint64]*Call),
		lowNo:    opts.FirstTxNo,
		lowMoved: make(chan struct{}),
		links:    make([]linkState, len(p.links)),
	}
	p.mu.Lock()
	switch {
	case p.closed:
		p.mu.Unlock()
		cancel()
		return nil, ErrClosed
	case p.clients[opts.ClientID] != nil:
		p.mu.Unlock()
		cancel()
		return nil, fmt.Errorf("%w: %q", ErrDuplicateClient, opts.ClientID)
	}
	p.clients[opts.ClientID] = c
	p.mu.Unlock()
	// A link that connected before the client was in the map did not
	// see it: its calls go out on that connection from now on.
	for _, n := range p.links {
		n.join(c)
	}
	return c, nil
}

// Close closes the pool's clients (their outstanding calls complete with
// ErrClosed) and connections, and waits for its goroutines to end.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	clients := p.snapshotLocked()
	p.mu.Unlock()
	for _, c := range clients {
		c.Close()
	}
	p.cancel()
	p.wg.Wait()
	return nil
}

// remove forgets c, closed.
func (p *Pool) remove(c *Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.clients[c.opts.ClientID] == c {
		delete(p.clients, c.opts.ClientID)
	}
}

// client returns the client of id, nil if there is none.
func (p *Pool) client(id []byte) *Client {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.clients[string(id)]
}

// snapshot returns the pool's clients.
func (p *Pool) snapshot() []*Client {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.snapshotLocked()
}

func (p *Pool) snapshotLocked() []*Client {
	cs := make([]*Client, 0, len(p.clients))
	for _, c := range p.clients {
		cs = append(cs, c)
	}
	return cs
}

// nodeLink is the pool's connection to one node: one goroutine dials it,
// with backoff, and writes; another reads the replies.
type nodeLink struct {
	p    *Pool
	idx  int
	addr string
	wake chan struct{}

	mu sync.Mutex
	// connected: the node has a connection, on which every client sent
	// what the node has not answered (or is about to).
	connected bool
	// dirty are the clients with calls queued for the node, each once
	// while its queue is not empty.
	dirty []*Client
}

// queued tells the writer that c queued calls for the node.
func (n *nodeLink) queued(c *Client) {
	n.mu.Lock()
	n.dirty = append(n.dirty, c)
	n.mu.Unlock()
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// join marks a new client connected to the node if the node is.
func (n *nodeLink) join(c *Client) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.connected {
		c.mu.Lock()
		if !c.closed {
			c.links[n.idx].connected = true
		}
		c.mu.Unlock()
	}
}

// take returns the clients with calls to send: on a new connection,
// every client (each sends every call it has outstanding and the node did
// not answer); and from then on those that queued calls since the last
// time.
func (n *nodeLink) take(newConn bool) []*Client {
	n.mu.Lock()
	clients := n.dirty
	n.dirty = nil
	if newConn {
		n.connected = true
	}
	n.mu.Unlock()
	if newConn {
		clients = n.p.snapshot()
	}
	return clients
}

// disconnected stops the clients queueing calls for the node until it
// connects again.
func (n *nodeLink) disconnected() {
	n.mu.Lock()
	n.connected, n.dirty = false, nil
	n.mu.Unlock()
	for _, c := range n.p.snapshot() {
		c.disconnected(n.idx)
	}
}

// run connects to the node and serves the connection until the pool
// closes, redialing whenever it drops.
func (n *nodeLink) run() {
	defer n.p.wg.Done()
	opts := &n.p.opts
	delay := opts.ReconnectMin
	for n.p.ctx.Err() == nil {
		nc, err := (&net.Dialer{Timeout: opts.DialTimeout}).DialContext(n.p.ctx, "tcp", n.addr)
		if err == nil {
			start := time.Now()
			n.serve(nc)
			if time.Since(start) > opts.ReconnectMax {
				delay = opts.ReconnectMin // It was up for a while: a new failure.
			}
		}
		// Jitter spreads the clients that lost the same node.
		wait := delay/2 + rand.N(delay/2+1)
		delay = min(2*delay, opts.ReconnectMax)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-n.p.ctx.Done():
			t.Stop()
		}
	}
}

// serve sends the unanswered transactions on nc, and then each new one,
// while a reader goroutine takes the replies, until either fails or the
// pool closes.
func (n *nodeLink) serve(nc net.Conn) {
	failed := make(chan struct{})
	var once sync.Once
	fail := func() { once.Do(func() { close(failed); nc.Close() }) }
	// Closing the pool closes the connection: a writer blocked on a node
	// that reads nothing would otherwise hold Close for WriteTimeout.
	defer context.AfterFunc(n.p.ctx, fail)()
	n.p.wg.Add(1)
	go func() {
		defer n.p.wg.Done()
		defer fail()
		n.read(nc)
	}()
	defer fail()
	defer n.disconnected()
	bw := bufio.NewWriterSize(nc, linkBufferBytes)
	var buf []byte
	for newConn := true; ; newConn = false {
		clients := n.take(newConn)
		if len(clients) > 0 {
			nc.SetWriteDeadline(time.Now().Add(n.p.opts.WriteTimeout))
		}
		for _, c := range clients {
			buf = c.appendFrames(buf[:0], n.idx, newConn)
			if _, err := bw.Write(buf); err != nil {
				return
			}
			if cap(buf) > linkBufferBytes {
				buf = nil // One client's batch, up to MaxOutstanding frames: not kept.
			}
		}
		if err := bw.Flush(); err != nil {
			return
		}
		select {
		case <-n.wake:
		case <-failed:
			return
		case <-n.p.ctx.Done():
			return
		}
	}
}

// read reads replies from nc until it fails. A reply to a client the
// pool does not have (one that closed) is ignored.
func (n *nodeLink) read(nc net.Conn) {
	br := bufio.NewReaderSize(nc, linkBufferBytes)
	maxBody := 2 + 2*maxUvarintBytes + MaxClientIDBytes + n.p.opts.MaxResultBytes
	var buf []byte
	for {
		body, err := readFrame(br, buf, maxBody)
		if err != nil {
			return
		}
		buf = body
		f, err := decodeFrame(body, kindReply)
		if err != nil {
			return // A bad node: reconnect, and resend what it did not answer.
		}
		if c := n.p.client(f.clientID); c != nil {
			c.vote(n.idx, f.txNo, append([]byte{}, f.payload...))
		}
	}
}
