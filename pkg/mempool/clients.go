package mempool

// client is what the mempool knows of one client.
type client struct {
	id string
	// low is the client's low watermark: its lowest transaction number
	// not known to be executed.
	low uint64
	// done marks the transactions executed above low, one bit per number
	// of the window [low, low+ClientWindow), bit TxNo mod ClientWindow;
	// nil until one is executed out of order.
	done []uint64
	// held are the client's transactions the mempool holds, by number.
	held map[uint64]*entry
	// While the client holds nothing, it is in the idle list (idle),
	// whose oldest client makes room for a new one.
	idleLinks links[client]
	idle      bool
}

func (c *client) links() *links[client] { return &c.idleLinks }

// executed tells whether transaction txNo, at or above low and within the
// window, was executed.
func (c *client) executed(txNo, window uint64) bool {
	if c.done == nil {
		return false
	}
	i := txNo % window
	return c.done[i/64]&(1<<(i%64)) != 0
}

// markExecuted records that txNo, at or above low and within the window,
// was executed, and moves low past the executed numbers.
func (c *client) markExecuted(txNo, window uint64) {
	if txNo == c.low && c.done == nil {
		c.low++
		return
	}
	if c.done == nil {
		c.done = make([]uint64, (window+63)/64)
	}
	i := txNo % window
	c.done[i/64] |= 1 << (i % 64)
	for c.executed(c.low, window) {
		i := c.low % window
		c.done[i/64] &^= 1 << (i % 64)
		c.low++
	}
}

// raiseLow moves low up to the given watermark, above which nothing is
// known executed yet but what the window records, and past the numbers
// executed above it.
func (c *client) raiseLow(low, window uint64) {
	if c.done == nil || low-c.low >= window {
		// The window records [c.low, c.low+window) only: all of it is
		// below the new watermark.
		c.done, c.low = nil, low
		return
	}
	for ; c.low < low; c.low++ {
		i := c.low % window
		c.done[i/64] &^= 1 << (i % 64)
	}
	for c.executed(c.low, window) {
		i := c.low % window
		c.done[i/64] &^= 1 << (i % 64)
		c.low++
	}
}

// idleList links the clients that hold no transaction, the one idle the
// longest (or whose transactions were executed the longest ago) first.
type idleList struct {
	list[client, *client]
}

// add appends c, which is in no list.
func (l *idleList) add(c *client) {
	l.pushBack(c)
	c.idle = true
}

// drop unlinks c, which is in the list.
func (l *idleList) drop(c *client) {
	l.remove(c)
	c.idle = false
}
