package loopback

import (
	"net"
	"testing"
)

func TestFreeAddrs(t *testing.T) {
	addrs, err := FreeAddrs(5)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool)
	for _, a := range addrs {
		if seen[a] {
			t.Errorf("address %s returned twice: %v", a, addrs)
		}
		seen[a] = true
		// Free when returned: a node can listen on it.
		l, err := net.Listen("tcp", a)
		if err != nil {
			t.Errorf("address %s is not free: %v", a, err)
			continue
		}
		l.Close()
	}
}
