package client

import "testing"

// TestReplyQueueBoundPerClient: a connection queues at most MaxReplyQueue
// replies per client it speaks for, counting the frames of a batch.
func TestReplyQueueBoundPerClient(t *testing.T) {
	c := &conn{wake: make(chan struct{}, 1)}
	if !c.queue([]byte("ab"), 2, 2) || c.queue([]byte("c"), 1, 2) {
		t.Fatal("a connection of no client yet took other than 2 replies")
	}
	c.nClients.Store(3)
	if !c.queue([]byte("cdef"), 4, 2) || c.queue([]byte("g"), 1, 2) {
		t.Fatal("a connection of 3 clients took other than 6 replies")
	}
	if got := len(c.take()); got != 2 {
		t.Fatalf("took %d buffers, want 2", got)
	}
	if !c.queue([]byte("h"), 1, 2) {
		t.Fatal("a drained connection refused a reply")
	}
}
