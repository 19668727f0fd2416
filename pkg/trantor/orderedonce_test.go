package trantor_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/pkg/trantor/trantortest"
	"github.com/mirframework/mir/pkg/wal"
)

// TestOrderedOnce: no transaction is ordered twice, though every client
// submits to every node, so that every node's mempool holds every
// transaction. A bucket changes leader at each epoch; before the mempool
// waited for the earlier epochs to be executed (mempool.EpochExecuted), the
// leader of a bucket in epoch e+1 proposed what the bucket's leader of
// epoch e had ordered in a slot its batch fetcher had not handed on yet:
// without faults, 1.4 to 4.7 % of the ordered transactions were dropped by
// the batch fetcher as executed already (issue #16); with lossy links and
// clients that retry after 30 ms, 21 %. Neither retries nor view
// changes (a slot that ends ⊥, its batch handed back) order anything twice.
func TestOrderedOnce(t *testing.T) {
	t.Run("no faults", func(t *testing.T) {
		testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
			c := newCluster(t, seed, clusterOptions{n: 4, network: lanLinks})
			run(t, c, seed, load{Clients: 32, Txs: 1500, PayloadBytes: 16, Rate: 5000, Start: time.Millisecond})
			checkOrderedOnce(t, c)
		})
	})
	// The faults' scenarios run one seed each, to keep the test short;
	// before the fix, each ordered transactions twice.
	t.Run("lossy links, retries", func(t *testing.T) {
		const seed = 1
		c := newCluster(t, seed, clusterOptions{n: 4, network: sim.Options{Link: isstest.LossyLinks()}})
		run(t, c, seed, load{Clients: 32, Txs: 1500, PayloadBytes: 16, Rate: 3000, Start: time.Millisecond, Retry: 30 * time.Millisecond})
		checkOrderedOnce(t, c)
	})
	t.Run("view changes", func(t *testing.T) {
		const seed = 1
		c := newCluster(t, seed, clusterOptions{
			n:      4,
			params: func(p *trantor.Params) { *p = trantor.DefaultParams(p.ISS.Voters) },
			wal:    &wal.SimOptions{SyncLatency: syncStalls{base: wal.DefaultSyncLatency, oneIn: 300, stall: 500 * time.Millisecond}},
		})
		run(t, c, seed, load{Clients: 64, Txs: 1500, PayloadBytes: 16, Rate: 1000, Start: time.Millisecond, Retry: 200 * time.Millisecond})
		var aborted uint64
		for _, id := range c.Nodes() {
			aborted += c.ISS(id).Stats().Aborted
		}
		if aborted == 0 {
			t.Error("no slot ended ⊥: the scenario changes no view")
		}
		checkOrderedOnce(t, c)
	})
}

// checkOrderedOnce fails the test if a node's batch fetcher dropped an
// ordered transaction as executed already.
func checkOrderedOnce(t *testing.T, c *trantortest.System) {
	t.Helper()
	for _, id := range c.Nodes() {
		s := c.BatchFetcher(id).Stats()
		if d := s.Dropped[batchfetcher.DropExecuted]; d > 0 {
			t.Errorf("node %s: %d of %d ordered transactions dropped as executed already; mempool %+v",
				id, d, s.Executed+s.DroppedTotal(), c.Mempool(id).Stats())
		}
	}
}

// BenchmarkOrderedOnce4Nodes: the four real nodes of BenchmarkReal4Nodes
// (in one process, real Ed25519, WALs on disk), loaded in waves: each of
// the clients submits a transaction to every node, and the next wave
// starts once f+1 nodes executed the whole wave. Besides the throughput it
// reports the share of ordered transactions that the batch fetchers
// dropped as executed already (ordered twice), summed over the nodes.
func BenchmarkOrderedOnce4Nodes(b *testing.B) {
	for _, clients := range []int{256, 2048} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			r := startReal(b, clients, false)
			payload := make([]byte, benchPayloadBytes)
			b.ResetTimer()
			start := time.Now()
			done := 0
			for wave := uint64(0); done < b.N; wave++ {
				txs := make([]mempool.Tx, min(clients, b.N-done))
				for ci := range txs {
					txs[ci] = mempool.Tx{TxID: mempool.TxID{ClientID: fmt.Sprintf("c%d", ci), TxNo: wave}, Data: payload}
				}
				r.submit(b, txs)
				for range txs {
					r.wait(b)
				}
				done += len(txs)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			r.report(b, done, elapsed)
			var ordered, twice uint64
			r.mods.Range(func(_, mods any) bool {
				s := mods.(modules.Modules)[trantor.BatchFetcherID].(*batchfetcher.Module).Stats()
				ordered += s.Executed + s.DroppedTotal()
				twice += s.Dropped[batchfetcher.DropExecuted]
				return true
			})
			b.ReportMetric(100*float64(twice)/float64(max(ordered, 1)), "ordered-twice-%")
		})
	}
}
