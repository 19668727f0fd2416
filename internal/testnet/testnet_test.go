package testnet_test

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mirframework/mir/internal/testnet"
	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/membership"
)

// TestDeployment: the membership has n nodes on distinct ports of
// 127.0.0.1, and each key file holds the private key of its node's public
// key.
func TestDeployment(t *testing.T) {
	dir := t.TempDir()
	m, err := membership.Load(testnet.Deployment(t, dir, 3))
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 3 {
		t.Fatalf("%d nodes, want 3", m.Len())
	}
	for i, n := range m.Nodes() {
		if string(n.ID) != fmt.Sprint(i) || !strings.HasPrefix(n.Addr, "127.0.0.1:") || strings.HasSuffix(n.Addr, ":0") {
			t.Errorf("node %d is %s at %s", i, n.ID, n.Addr)
		}
		key, err := crypto.LoadPrivateKey(testnet.KeyFile(dir, i))
		if err != nil || !key.Public().Equal(n.PublicKey) {
			t.Errorf("node %d: key file %v, or not the node's key", i, err)
		}
	}
}

// TestOutput: WaitFor returns once a concurrent writer has written what it
// waits for, in pieces.
func TestOutput(t *testing.T) {
	var o testnet.Output
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(done)
		for _, s := range []string{"node 1 deli", "vered 0/0\n", "node 1 delivered 0/1\n"} {
			fmt.Fprint(&o, s)
		}
	})
	o.WaitFor(t, "node 1", "delivered 0/1\n", done, time.Minute)
	wg.Wait()
	if got, want := o.String(), "node 1 delivered 0/0\nnode 1 delivered 0/1\n"; got != want {
		t.Errorf("output %q, want %q", got, want)
	}
}

// TestFreeAddrs: distinct addresses of 127.0.0.1, each free to listen on.
func TestFreeAddrs(t *testing.T) {
	addrs := testnet.FreeAddrs(t, 8)
	seen := map[string]bool{}
	for _, a := range addrs {
		if seen[a] || !strings.HasPrefix(a, "127.0.0.1:") {
			t.Fatalf("addresses %v", addrs)
		}
		seen[a] = true
		l, err := net.Listen("tcp", a)
		if err != nil {
			t.Fatal(err)
		}
		l.Close()
	}
}
