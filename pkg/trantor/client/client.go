package client

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
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
	opts Options
	f    int
	pool *Pool
	// ownPool: the client made its pool (Dial) and closes it with itself.
	ownPool bool

	ctx    context.Context
	cancel context.CancelFunc
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
	// links[i] is the client's part of its connection to node i.
	links []linkState
}

// linkState is a client's part of its connection to one node, guarded by
// Client.mu: whether the connection is up, and the calls submitted since
// the node's writer last took them (bounded by MaxOutstanding: a call is
// queued once per connection).
type linkState struct {
	connected bool
	queue     []*Call
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
// of which at most f are faulty (len(nodes) > 2f, so that f+1 agree), with
// connections of its own: it connects in the background, redialing a node
// whenever its connection drops. Many clients in one process share
// connections through a Pool instead.
func Dial(nodes []string, f int, opts Options) (*Client, error) {
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("client options: %w", err)
	}
	p, err := NewPool(nodes, f, opts.PoolOptions)
	if err != nil {
		return nil, err
	}
	c, err := p.NewClient(opts)
	if err != nil {
		p.Close()
		return nil, err
	}
	c.ownPool = true
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
	call := &Call{TxNo: c.nextNo, data: data, done: make(chan struct{}), votes: make([][]byte, len(c.links))}
	c.nextNo++
	c.pending[call.TxNo] = call
	var wasIdle [maxPoolNodes]bool
	for i := range c.links {
		l := &c.links[i]
		if l.connected {
			wasIdle[i] = len(l.queue) == 0
			l.queue = append(l.queue, call)
		}
	}
	c.mu.Unlock()
	// A client is on a writer's list once while its queue is not empty:
	// the writer takes the list before the queues.
	for i, n := range c.pool.links {
		if wasIdle[i] {
			n.queued(c)
		}
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

// Close closes the client's connections (those of its own pool, from
// Dial) and waits for their goroutines to end. Outstanding calls complete
// with ErrClosed.
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
	for i := range c.links {
		c.links[i] = linkState{}
	}
	c.mu.Unlock()
	c.cancel()
	c.pool.remove(c)
	if c.ownPool {
		c.pool.Close()
	}
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

// appendFrames appends to dst the frames of the calls to send to node
// idx: on a new connection, every pending call it has not answered, in
// order, and from then on the calls submitted since the last time
// (SubmitAsync queues them while the node is connected, so the queue is
// bounded by MaxOutstanding). It encodes them under c.mu and skips those
// completed: once a call completed, its caller may change its payload.
func (c *Client) appendFrames(dst []byte, idx int, newConn bool) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return dst
	}
	l := &c.links[idx]
	if !newConn {
		for _, call := range l.queue {
			if c.pending[call.TxNo] == call {
				dst = appendFrame(dst, kindSubmit, c.opts.ClientID, call.TxNo, call.data)
			}
		}
		l.queue = nil
		return dst
	}
	l.connected, l.queue = true, nil
	var calls []*Call
	for _, call := range c.pending {
		if call.votes[idx] == nil {
			calls = append(calls, call)
		}
	}
	slices.SortFunc(calls, func(a, b *Call) int { return cmp.Compare(a.TxNo, b.TxNo) })
	for _, call := range calls {
		dst = appendFrame(dst, kindSubmit, c.opts.ClientID, call.TxNo, call.data)
	}
	return dst
}

// disconnected stops queueing calls for node idx until it connects again.
func (c *Client) disconnected(idx int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.links[idx] = linkState{}
}
