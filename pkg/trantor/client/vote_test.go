package client

import (
	"testing"
)

// TestVoteCountsNodeOnce: a node that answers a transaction twice, with
// different results, counts once, with its first answer; a result
// completes the call only once f+1 distinct nodes sent it.
func TestVoteCountsNodeOnce(t *testing.T) {
	c := &Client{f: 1, slots: make(chan struct{}, 2), pending: make(map[uint64]*Call)}
	call := &Call{TxNo: 4, done: make(chan struct{}), votes: make([][]byte, 3)}
	c.pending[4] = call
	c.slots <- struct{}{}
	done := func() bool {
		select {
		case <-call.done:
			return true
		default:
			return false
		}
	}
	c.vote(0, 4, []byte("bad"))
	c.vote(0, 4, []byte("good")) // Ignored: node 0 answered.
	c.vote(1, 4, []byte("good"))
	if done() {
		t.Fatal("completed with one node's result")
	}
	c.vote(1, 4, []byte("bad")) // Ignored: node 1 answered.
	if done() {
		t.Fatal("completed with a node's second answer")
	}
	c.vote(2, 9, []byte("good")) // Not pending: ignored.
	c.vote(2, 4, []byte{})       // An empty result is a vote too.
	if done() {
		t.Fatal("completed without f+1 matching results")
	}
	call2 := &Call{TxNo: 5, done: make(chan struct{}), votes: make([][]byte, 3)}
	c.pending[5] = call2
	c.slots <- struct{}{}
	c.vote(0, 5, []byte("r"))
	c.vote(2, 5, []byte("r"))
	select {
	case <-call2.done:
	default:
		t.Fatal("two matching results did not complete the call")
	}
	if res, err := call2.Result(); err != nil || string(res) != "r" {
		t.Fatalf("result %q, %v", res, err)
	}
	if len(c.slots) != 1 {
		t.Fatalf("%d slots taken, want 1", len(c.slots))
	}
}
