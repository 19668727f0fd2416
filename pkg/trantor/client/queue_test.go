package client

import "testing"

// TestReplyQueueBoundPerClient: a connection queues at most MaxReplyQueue
// replies per client it speaks for, counting the frames of a batch.
func TestReplyQueueBoundPerClient(t *testing.T) {
	c := &conn{wake: make(chan struct{}, 1)}
	if !c.queue(2, 2, 1<<20, []byte("ab")) || c.queue(1, 2, 1<<20, []byte("c")) {
		t.Fatal("a connection of no client yet took other than 2 replies")
	}
	c.nClients.Store(3)
	if !c.queue(4, 2, 1<<20, []byte("cdef")) || c.queue(1, 2, 1<<20, []byte("g")) {
		t.Fatal("a connection of 3 clients took other than 6 replies")
	}
	if got := len(c.take()); got != 2 {
		t.Fatalf("took %d buffers, want 2", got)
	}
	if !c.queue(1, 2, 1<<20, []byte("h")) {
		t.Fatal("a drained connection refused a reply")
	}
}

// TestReplyQueueBoundBytes: a connection queues at most MaxReplyQueueBytes
// of replies, counting every part of a frame (a result shared with the
// cache too), whatever MaxReplyQueue allows; once written, the bytes are
// free again.
func TestReplyQueueBoundBytes(t *testing.T) {
	c := &conn{wake: make(chan struct{}, 1)}
	c.nClients.Store(1)
	head, result := make([]byte, 10), make([]byte, 90)
	for i := range 2 {
		if !c.queue(1, 100, 200, head, result) {
			t.Fatalf("a connection refused reply %d, within its bytes", i)
		}
	}
	if c.queue(1, 100, 200, []byte("x")) {
		t.Fatal("a connection with its 200 bytes queued took one more")
	}
	c.take()
	if !c.queue(1, 100, 200, head, result) {
		t.Fatal("a drained connection refused a reply")
	}
}
