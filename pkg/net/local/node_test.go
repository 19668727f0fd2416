package local_test

import (
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/net"
	"github.com/mirframework/mir/pkg/net/local"
	"github.com/mirframework/mir/pkg/net/nettest"
	"github.com/mirframework/mir/stdtypes"
)

// TestNodes runs three nodes, each with an echo module and a transport, and
// checks that every node gets a reply from every node, that the
// transports' counters agree with each other, and that each transport
// stops with its node.
func TestNodes(t *testing.T) {
	const n = 3
	_, ts := startedNetwork(t, n, local.Options{})
	transports := make([]net.Transport, n)
	for i, tr := range ts {
		transports[i] = tr
	}
	nettest.EchoNodes(t, stdtypes.NumberedNodeIDs(n), transports, 30*time.Second)
}

// TestStrayMessages: node 1 sends a message to every module of node 0
// that takes none (the transport, the timer, crypto, a router's and a
// factory's, null modules). Node 0 drops and counts each, and keeps
// running.
func TestStrayMessages(t *testing.T) {
	_, ts := startedNetwork(t, 2, local.Options{})
	nettest.StrayNodes(t, "0", ts[0], ts[1], 30*time.Second)
}

func TestTransportDropsMessages(t *testing.T) {
	_, ts := startedNetwork(t, 1, local.Options{})
	nettest.TransportDropsMessages(t, ts[0])
}
