package client

import (
	"net"
	"testing"
	"time"
)

// TestStolenClientsCountOnce: connections that claim the same client IDs
// (a client that reconnected, or a hostile one) speak for them one at a
// time, so that the clients of all connections, each of which lets its
// connection queue MaxReplyQueue more replies, stay within MaxClients.
func TestStolenClientsCountOnce(t *testing.T) {
	s, err := NewServer("127.0.0.1:0", ServerOptions{MaxClientsPerConn: 2, MaxClients: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	for i := range 3 {
		nc, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		var frames []byte
		for _, id := range []string{"x", "y"} {
			frames = appendFrame(frames, kindSubmit, id, uint64(i), []byte("tx"))
		}
		if _, err := nc.Write(frames); err != nil {
			t.Fatal(err)
		}
		// Wait until the server read them.
		for deadline := time.Now().Add(20 * time.Second); s.Metrics().Txs < uint64(2*(i+1)); {
			if time.Now().After(deadline) {
				t.Fatalf("server read %d transactions, want %d", s.Metrics().Txs, 2*(i+1))
			}
			time.Sleep(time.Millisecond)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0
	for c := range s.conns {
		total += len(c.clients)
		if n := c.nClients.Load(); n != int64(len(c.clients)) {
			t.Errorf("a connection counts %d clients, speaks for %d", n, len(c.clients))
		}
	}
	if total > s.opts.MaxClients {
		t.Fatalf("connections speak for %d clients in all, MaxClients is %d", total, s.opts.MaxClients)
	}
	if m := s.Metrics(); m.TooManyClients != 0 {
		t.Fatalf("%d connections closed for too many clients, want none", m.TooManyClients)
	}
}
