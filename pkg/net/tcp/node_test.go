package tcp_test

import (
	"testing"

	"github.com/mirframework/mir/pkg/net"
	"github.com/mirframework/mir/pkg/net/nettest"
	"github.com/mirframework/mir/pkg/net/tcp"
)

// TestNodes runs three nodes, each with an echo module and a TCP
// transport, and checks that every node gets a reply from every node, that
// the transports' counters agree with each other, and that each transport
// stops with its node. The requests sent at Init may find a peer not
// connected yet: they wait in its queue.
func TestNodes(t *testing.T) {
	const n = 3
	c, ts := started(t, n, tcp.Options{})
	transports := make([]net.Transport, n)
	for i, tr := range ts {
		transports[i] = tr
	}
	nettest.EchoNodes(t, c.members.IDs(), transports, waitTimeout)
}
