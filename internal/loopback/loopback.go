// Package loopback finds free TCP addresses on 127.0.0.1, for programs
// and tests that start several nodes on one machine.
package loopback

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// FreeAddrs returns n distinct addresses of 127.0.0.1 that are free when
// it returns. It holds all n listeners at once, so that it hands out n
// different ports, and closes them before it returns: a node listens on
// its port only once it starts, so another program could take the port
// meanwhile.
//
// Where the system says which ports it picks for outgoing connections
// (Linux's ip_local_port_range), the ports are taken from outside that
// range, at a random place: a node killed and started again listens on
// its port again, and while it is down any outgoing connection of the
// machine (its peers redialing it, for one) could otherwise be given the
// port, and the restart fail with "address already in use". Elsewhere the
// system picks the ports.
func FreeAddrs(n int) ([]string, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close() // Free again for the node.
		}
	}()
	if low, high, ok := stablePorts(); ok {
		// Try each port of the range once, from a random one, so that
		// programs calling at the same time seldom try the same ports.
		size := high - low + 1
		start := rand.IntN(size)
		for i := 0; i < size && len(ls) < n; i++ {
			port := low + (start+i)%size
			if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
				ls = append(ls, l)
			}
		}
	}
	for len(ls) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
	}
	addrs := make([]string, n)
	for i, l := range ls {
		addrs[i] = l.Addr().String()
	}
	return addrs, nil
}

const (
	// minStablePort is the lowest port FreeAddrs hands out from outside
	// the ephemeral range: below it lie the ports of well-known services.
	minStablePort = 10000
	// minStableRange is the fewest ports worth choosing from; with fewer,
	// FreeAddrs leaves the choice to the system.
	minStableRange = 1000
)

// portRangeFile holds the system's range of ports for outgoing
// connections (Linux): two numbers.
var portRangeFile = "/proc/sys/net/ipv4/ip_local_port_range"

// stablePorts returns a range of ports no outgoing connection is given,
// if the system tells its ephemeral range and one of the ranges beside it
// is large enough.
func stablePorts() (low, high int, ok bool) {
	b, err := os.ReadFile(portRangeFile)
	if err != nil {
		return 0, 0, false
	}
	ephLow, ephHigh, err := parsePortRange(string(b))
	if err != nil {
		return 0, 0, false
	}
	if ephLow-minStablePort >= minStableRange {
		return minStablePort, ephLow - 1, true
	}
	if 65535-ephHigh >= minStableRange {
		return ephHigh + 1, 65535, true
	}
	return 0, 0, false
}

// parsePortRange parses ip_local_port_range: "low high".
func parsePortRange(s string) (low, high int, err error) {
	f := strings.Fields(s)
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("port range %q: want two numbers", s)
	}
	if low, err = strconv.Atoi(f[0]); err != nil {
		return 0, 0, err
	}
	if high, err = strconv.Atoi(f[1]); err != nil {
		return 0, 0, err
	}
	if low < 1 || high > 65535 || low > high {
		return 0, 0, fmt.Errorf("port range %q: not 1 ≤ low ≤ high ≤ 65535", s)
	}
	return low, high, nil
}
