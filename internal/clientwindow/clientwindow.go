// Package clientwindow keeps which requests of each client a replicated
// application has executed, so that a request a client sends again (or two
// leaders propose) executes once: per client, a low watermark below which
// every request was executed, and the requests executed above it, which
// happen out of order because a client's requests fall in different
// buckets, ordered by different leaders. The caller bounds how far above
// the watermark a request may execute (InWindow), which bounds the rest.
// The clients are part of replicated snapshots: Append encodes them
// canonically, and Decode decodes them from untrusted data, within
// Limits.
package clientwindow

// Client is what is kept of one client: every request numbered below Low
// was executed, and so was each in Above (all above Low).
type Client struct {
	Low   uint64
	Above map[uint64]struct{}
}

// NewClient returns a client with watermark low and nothing executed
// above it.
func NewClient(low uint64) *Client { return &Client{Low: low, Above: make(map[uint64]struct{})} }

// Clients are the clients with an executed request, by ID.
type Clients map[string]*Client

// Executed reports whether request no of client was executed.
func (cs Clients) Executed(client string, no uint64) bool {
	c := cs[client]
	if c == nil {
		return false
	}
	if no < c.Low {
		return true
	}
	_, ok := c.Above[no]
	return ok
}

// InWindow reports whether request no of client is below the client's
// watermark plus window: one that may execute now.
func (cs Clients) InWindow(client string, no, window uint64) bool {
	low := uint64(0)
	if c := cs[client]; c != nil {
		low = c.Low
	}
	return no < low || no-low < window
}

// Execute records request no of client as executed. The caller checked
// that it was not, and that it is in the window.
func (cs Clients) Execute(client string, no uint64) {
	c := cs[client]
	if c == nil {
		c = NewClient(0)
		cs[client] = c
	}
	if no != c.Low {
		c.Above[no] = struct{}{}
		return
	}
	c.Low++
	for {
		if _, ok := c.Above[c.Low]; !ok {
			return
		}
		delete(c.Above, c.Low)
		c.Low++
	}
}
