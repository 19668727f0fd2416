package loopback

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
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

// TestFreeAddrsOutsideEphemeralRange: where the system tells its range of
// ports for outgoing connections, FreeAddrs hands out none of them, so
// that a restarted node's port cannot have gone to a connection.
func TestFreeAddrsOutsideEphemeralRange(t *testing.T) {
	low, high, ok := stablePorts()
	if !ok {
		t.Skip("the system does not tell its ephemeral ports, or leaves too few beside them")
	}
	addrs, err := FreeAddrs(16)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		_, p, err := net.SplitHostPort(a)
		if err != nil {
			t.Fatal(err)
		}
		port, _ := strconv.Atoi(p)
		if port < low || port > high {
			t.Errorf("port %d is outside %d–%d, the ports no outgoing connection is given", port, low, high)
		}
	}
}

func TestStablePorts(t *testing.T) {
	dir := t.TempDir()
	defer func(f string) { portRangeFile = f }(portRangeFile)
	for _, tc := range []struct {
		content   string
		low, high int
		ok        bool
	}{
		{"32768\t60999\n", minStablePort, 32767, true},
		{"1024 60999", 61000, 65535, true},
		{"1024 65000", 0, 0, false},
		{"32768", 0, 0, false},
		{"x 60999", 0, 0, false},
		{"60999 32768", 0, 0, false},
	} {
		portRangeFile = filepath.Join(dir, "range")
		if err := os.WriteFile(portRangeFile, []byte(tc.content), 0o644); err != nil {
			t.Fatal(err)
		}
		low, high, ok := stablePorts()
		if low != tc.low || high != tc.high || ok != tc.ok {
			t.Errorf("range %q: got %d, %d, %v; want %d, %d, %v", tc.content, low, high, ok, tc.low, tc.high, tc.ok)
		}
	}
	portRangeFile = filepath.Join(dir, "missing")
	if _, _, ok := stablePorts(); ok {
		t.Error("a missing range file gave a range")
	}
	// Without a range, FreeAddrs still hands out free ports.
	if addrs, err := FreeAddrs(3); err != nil || len(addrs) != 3 {
		t.Errorf("FreeAddrs without a range: %v, %v", addrs, err)
	}
}
