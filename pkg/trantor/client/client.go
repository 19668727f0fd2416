package client

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"
)

// Errors of the client.
var (
	// ErrClosed: the client was closed before the transaction was answered.
	ErrClosed = errors.New("client closed")
	// ErrTxTooLarge: the payload is over Options.MaxTxBytes.
	ErrTxTooLarge = errors.New("transaction too large")
)

// Client submits transactions to the nodes of a Trantor system and learns
// their results: a result is accepted once f+1 nodes sent it, so that at
// least one correct node vouches for it. It is safe for concurrent use.
type Client struct {
	opts  Options
	f     int
	nodes []*nodeLink

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// slots bounds the outstanding transactions (MaxOutstanding).
	slots chan struct{}

	mu      sync.Mutex
	nextNo  uint64
	pending map[uint64]*Call
	closed  bool
	// lowNo is the lowest transaction number not completed (nextNo if
	// none is pending); lowMoved is closed when it grows, for
	// SubmitAsync waiting on Window.
	lowNo    uint64
	lowMoved chan struct{}
}

// Call is a submitted transaction. Done is closed once it completed; then
// Result and Err tell how.
type Call struct {
	// TxNo is the number the client gave the transaction.
	TxNo uint64
	data []byte
	done chan struct{}
	// votes[i] is node i's result, nil if it has not answered.
	votes  [][]byte
	result []byte
	err    error
}

// Done returns a channel closed once the call completed.
func (c *Call) Done() <-chan struct{} { return c.done }

// Result returns the result f+1 nodes agreed on, or the error the call
// ended with (ErrClosed). It may be called only after Done is closed.
func (c *Call) Result() ([]byte, error) { return c.result, c.err }

// Wait waits for the call to complete, or ctx to end, and returns its
// result. A call whose wait ends with ctx is still outstanding.
func (c *Call) Wait(ctx context.Context) ([]byte, error) {
	select {
	case <-c.done:
		return c.Result()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Dial returns a client of the nodes at the given addresses (host:port),
// of which at most f are faulty (len(nodes) > 2f, so that f+1 agree). It
// connects in the background, redialing a node whenever its connection
// drops.
func Dial(nodes []string, f int, opts Options) (*Client, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("client options: %w", err)
	}
	if f < 0 || len(nodes) < 2*f+1 {
		return nil, fmt.Errorf("%d nodes cannot tolerate %d faulty", len(nodes), f)
	}
	opts = opts.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		opts:     opts,
		f:        f,
		ctx:      ctx,
		cancel:   cancel,
		slots:    make(chan struct{}, opts.MaxOutstanding),
		nextNo:   opts.FirstTxNo,
		pending:  make(map[uint64]*Call),
		lowNo:    opts.FirstTxNo,
		lowMoved: make(chan struct{}),
	}
	for i, addr := range nodes {
		n := &nodeLink{c: c, idx: i, addr: addr, wake: make(chan struct{}, 1)}
		c.nodes = append(c.nodes, n)
	}
	for _, n := range c.nodes {
		c.wg.Add(1)
		go n.run()
	}
	return c, nil
}

// Submit submits data as the client's next transaction and waits for its
// result.
func (c *Client) Submit(ctx context.Context, data []byte) ([]byte, error) {
	call, err := c.SubmitAsync(ctx, data)
	if err != nil {
		return nil, err
	}
	return call.Wait(ctx)
}

// SubmitAsync submits data as the client's next transaction and returns
// at once, unless MaxOutstanding transactions are outstanding, or the
// oldest outstanding one is Window numbers behind: it waits then for
// transactions to complete, or ctx to end. The client keeps data until the
// transaction completes; the caller must not change it.
func (c *Client) SubmitAsync(ctx context.Context, data []byte) (*Call, error) {
	if len(data) > c.opts.MaxTxBytes {
		return nil, fmt.Errorf("%w: %d bytes, at most %d", ErrTxTooLarge, len(data), c.opts.MaxTxBytes)
	}
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.ctx.Done():
		return nil, ErrClosed
	}
	if err := c.waitWindow(ctx); err != nil {
		<-c.slots
		return nil, err
	}
	// c.mu is held.
	call := &Call{TxNo: c.nextNo, data: data, done: make(chan struct{}), votes: make([][]byte, len(c.nodes))}
	c.nextNo++
	c.pending[call.TxNo] = call
	for _, n := range c.nodes {
		if n.connected {
			n.queue = append(n.queue, call)
		}
	}
	c.mu.Unlock()
	for _, n := range c.nodes {
		n.poke()
	}
	return call, nil
}

// waitWindow waits until the next transaction number is within Window of
// the oldest outstanding one, and returns with c.mu held; or returns an
// error without it.
//
// A node drops a transaction numbered ClientWindow or more above the
// oldest of the client's it has not executed, and the client sends a
// transaction to a node once per connection: without this wait, one slow
// transaction would let the client submit later ones that every node
// drops and nobody executes.
func (c *Client) waitWindow(ctx context.Context) error {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return ErrClosed
		}
		if c.nextNo-c.lowNo < c.opts.Window {
			return nil
		}
		moved := c.lowMoved
		c.mu.Unlock()
		select {
		case <-moved:
		case <-ctx.Done():
			return ctx.Err()
		case <-c.ctx.Done():
			return ErrClosed
		}
	}
}

// completed forgets call, completed, and moves lowNo past the completed
// calls. c.mu must be held.
func (c *Client) completed(call *Call) {
	close(call.done)
	delete(c.pending, call.TxNo)
	if call.TxNo != c.lowNo {
		return
	}
	for c.lowNo < c.nextNo && c.pending[c.lowNo] == nil {
		c.lowNo++
	}
	close(c.lowMoved)
	c.lowMoved = make(chan struct{})
}

// NextTxNo returns the number the next transaction will get: a client that
// restarts passes it as Options.FirstTxNo.
func (c *Client) NextTxNo() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nextNo
}

// Close closes the connections and waits for the client's goroutines to
// end. Outstanding calls complete with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	for no, call := range c.pending {
		call.err = ErrClosed
		close(call.done)
		delete(c.pending, no)
	}
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	return nil
}

// vote records node's result for txNo; the first reply of a node for a
// transaction counts, later ones are ignored. It completes the call once
// f+1 nodes sent the same result.
func (c *Client) vote(node int, txNo uint64, result []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	call := c.pending[txNo]
	if call == nil || call.votes[node] != nil {
		return
	}
	call.votes[node] = result
	same := 0
	for _, v := range call.votes {
		if v != nil && bytes.Equal(v, result) {
			same++
		}
	}
	if same < c.f+1 {
		return
	}
	call.result = result
	c.completed(call)
	<-c.slots
}

// toSend returns the calls to send to node: on a new connection, every
// pending call it has not answered, in order, and from then on the calls
// submitted since the last time (SubmitAsync queues them while the node
// is connected, so the queue is bounded by MaxOutstanding).
func (c *Client) toSend(node *nodeLink, newConn bool) []*Call {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !newConn {
		q := node.queue
		node.queue = nil
		return q
	}
	node.connected, node.queue = true, nil
	var calls []*Call
	for _, call := range c.pending {
		if call.votes[node.idx] == nil {
			calls = append(calls, call)
		}
	}
	slices.SortFunc(calls, func(a, b *Call) int { return cmp.Compare(a.TxNo, b.TxNo) })
	return calls
}

// disconnected stops queueing calls for node until it connects again.
func (c *Client) disconnected(node *nodeLink) {
	c.mu.Lock()
	defer c.mu.Unlock()
	node.connected, node.queue = false, nil
}

// nodeLink is the client's connection to one node: one goroutine dials
// it, with backoff, and writes; another reads the replies.
type nodeLink struct {
	c    *Client
	idx  int
	addr string
	wake chan struct{}
	// connected and queue, guarded by Client.mu: whether the node has a
	// connection, and the calls submitted since the writer last looked.
	connected bool
	queue     []*Call
}

func (n *nodeLink) poke() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// run connects to the node and serves the connection until the client
// closes, redialing whenever it drops.
func (n *nodeLink) run() {
	defer n.c.wg.Done()
	delay := n.c.opts.ReconnectMin
	for n.c.ctx.Err() == nil {
		nc, err := (&net.Dialer{Timeout: n.c.opts.DialTimeout}).DialContext(n.c.ctx, "tcp", n.addr)
		if err == nil {
			start := time.Now()
			n.serve(nc)
			if time.Since(start) > n.c.opts.ReconnectMax {
				delay = n.c.opts.ReconnectMin // It was up for a while: a new failure.
			}
		}
		// Jitter spreads the clients that lost the same node.
		wait := delay/2 + rand.N(delay/2+1)
		delay = min(2*delay, n.c.opts.ReconnectMax)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-n.c.ctx.Done():
			t.Stop()
		}
	}
}

// serve sends the unanswered transactions on nc, and then each new one,
// while a reader goroutine takes the replies, until either fails or the
// client closes.
func (n *nodeLink) serve(nc net.Conn) {
	failed := make(chan struct{})
	var once sync.Once
	fail := func() { once.Do(func() { close(failed); nc.Close() }) }
	n.c.wg.Add(1)
	go func() {
		defer n.c.wg.Done()
		defer fail()
		n.read(nc)
	}()
	defer fail()
	defer n.c.disconnected(n)
	bw := bufio.NewWriterSize(nc, readChunkBytes)
	var buf []byte
	for newConn := true; ; newConn = false {
		for _, call := range n.c.toSend(n, newConn) {
			buf = appendFrame(buf[:0], kindSubmit, n.c.opts.ClientID, call.TxNo, call.data)
			nc.SetWriteDeadline(time.Now().Add(n.c.opts.WriteTimeout))
			if _, err := bw.Write(buf); err != nil {
				return
			}
		}
		if err := bw.Flush(); err != nil {
			return
		}
		select {
		case <-n.wake:
		case <-failed:
			return
		case <-n.c.ctx.Done():
			return
		}
	}
}

// read reads replies from nc until it fails.
func (n *nodeLink) read(nc net.Conn) {
	br := bufio.NewReaderSize(nc, readChunkBytes)
	maxBody := 2 + 2*maxUvarintBytes + MaxClientIDBytes + n.c.opts.MaxResultBytes
	var buf []byte
	for {
		body, err := readFrame(br, buf, maxBody)
		if err != nil {
			return
		}
		buf = body
		f, err := decodeFrame(body, kindReply)
		if err != nil || f.clientID != n.c.opts.ClientID {
			return // A bad node: reconnect, and resend what it did not answer.
		}
		n.c.vote(n.idx, f.txNo, append([]byte{}, f.payload...))
	}
}
