package client

import "testing"

// TestReplyQueueBoundPerClient: a connection queues at most MaxReplyQueue
// replies per client it speaks for, counting the frames of a batch.
func TestReplyQueueBoundPerClient(t *testing.T) {
	c := &conn{wake: make(chan struct{}, 1)}
	if !c.queue(2, 2, []byte("ab")) || c.queue(1, 2, []byte("c")) {
		t.Fatal("a connection of no client yet took other than 2 replies")
	}
	c.nClients.Store(3)
	if !c.queue(4, 2, []byte("cdef")) || c.queue(1, 2, []byte("g")) {
		t.Fatal("a connection of 3 clients took other than 6 replies")
	}
	if got := len(c.take()); got != 2 {
		t.Fatalf("took %d buffers, want 2", got)
	}
	if !c.queue(1, 2, []byte("h")) {
		t.Fatal("a drained connection refused a reply")
	}
}
