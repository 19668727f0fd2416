package local_test

import (
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/net"
	"github.com/mirframework/mir/pkg/net/local"
	"github.com/mirframework/mir/pkg/net/nettest"
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
	nettest.EchoNodes(t, nodeIDs(n), transports, 30*time.Second)
}
