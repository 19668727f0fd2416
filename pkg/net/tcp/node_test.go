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

// TestStrayMessages: node 1 sends a message to every module of node 0
// that takes none (the transport, the timer, crypto, a router's and a
// factory's, null modules). Node 0 drops and counts each, and keeps
// running.
func TestStrayMessages(t *testing.T) {
	_, ts := started(t, 2, tcp.Options{})
	nettest.StrayNodes(t, "0", ts[0], ts[1], waitTimeout)
}

func TestTransportDropsMessages(t *testing.T) {
	_, ts := started(t, 1, tcp.Options{})
	nettest.TransportDropsMessages(t, ts[0])
}
