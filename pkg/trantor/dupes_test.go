package trantor_test

import (
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
)

// TestOrderedOnce: without faults, no transaction is ordered twice, though
// every client submits to every node, so that every node's mempool holds
// every transaction. A bucket changes leader at each epoch; before the
// mempool waited for the earlier epochs to be executed (mempool.EpochExecuted),
// the leader of a bucket in epoch e+1 proposed what the bucket's leader
// of epoch e had ordered in a slot its batch fetcher had not handed on
// yet: about 3 % of the ordered transactions were dropped by the batch
// fetcher as executed already (issue #16).
func TestOrderedOnce(t *testing.T) {
	testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
		c := newCluster(t, seed, clusterOptions{n: 4, network: sim.Options{Link: sim.LinkConfig{Latency: testsim.Uniform(100*time.Microsecond, 2*time.Millisecond)}}})
		run(t, c, seed, load{Clients: 32, Txs: 1500, PayloadBytes: 16, Rate: 5000, Start: time.Millisecond})
		for _, id := range c.Nodes() {
			s := c.BatchFetcher(id).Stats()
			if d := s.Dropped[batchfetcher.DropExecuted]; d > 0 {
				t.Errorf("node %s: %d of %d ordered transactions dropped as executed already; mempool %+v",
					id, d, s.Executed+s.DroppedTotal(), c.Mempool(id).Stats())
			}
		}
	})
}
