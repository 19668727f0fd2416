// Package loopback finds free TCP addresses on 127.0.0.1, for programs
// and tests that start several nodes on one machine.
package loopback

import "net"

// FreeAddrs returns n distinct addresses of 127.0.0.1 that are free when
// it returns. It holds all n listeners at once, so that the system hands
// out n different ports, and closes them before it returns: a node
// listens on its port only once it starts, so another program could take
// the port meanwhile, which is unlikely (ports are handed out in turn).
func FreeAddrs(n int) ([]string, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close() // Free again for the node.
		}
	}()
	addrs := make([]string, n)
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		addrs[i] = l.Addr().String()
	}
	return addrs, nil
}
