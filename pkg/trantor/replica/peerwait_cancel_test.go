package replica_test

import (
	"context"
	"testing"
	"time"
)

// TestPeerWaitEndsWithContext: a replica waiting for peers that never
// come, with a PeerWait of an hour, returns from Run without error once
// its context ends.
func TestPeerWaitEndsWithContext(t *testing.T) {
	r := newDeployment(t).replica(0, time.Hour, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	time.Sleep(100 * time.Millisecond) // Into the wait; a shorter one tests the same.
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run went on waiting for its peers after its context ended")
	}
}
