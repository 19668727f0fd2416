package trantor_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/net/sim"
	"github.com/mirframework/mir/pkg/testsim"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/stdtypes"
)

// lanLinks are links of a local network: reliable, 0.1 to 2 ms.
var lanLinks = sim.Options{Link: sim.LinkConfig{Latency: testsim.Uniform(100*time.Microsecond, 2*time.Millisecond)}}

// TestClosedLoop: clients that each submit their next transaction to every
// node once f+1 nodes executed the previous one, and never retry: every
// transaction a client submits must execute.
func TestClosedLoop(t *testing.T) {
	testsim.RunSeeds(t, func(t *testing.T, seed uint64) {
		c := newCluster(t, seed, clusterOptions{n: 4, network: lanLinks})
		const clients, total = 64, 1500
		next := make([]uint64, clients)
		count := map[mempool.TxID]int{}
		submitted, done := 0, 0
		submit := func(ci int) {
			tx := mempool.Tx{TxID: mempool.TxID{ClientID: fmt.Sprintf("c%d", ci), TxNo: next[ci]}, Data: []byte("x")}
			next[ci]++
			submitted++
			for _, id := range c.Nodes() {
				_ = c.Submit(id, &mempool.NewTxs{Header: stdtypes.NewHeader(trantor.MempoolID), Txs: []mempool.Tx{tx}})
			}
		}
		c.Observe(func(o *testsim.Observation) {
			ex, ok := o.Event.(*trantor.Executed)
			if !ok {
				return
			}
			for _, tx := range ex.Txs {
				count[tx.TxID]++
				if count[tx.TxID] == 2 {
					done++
					if submitted < total {
						var ci int
						fmt.Sscanf(tx.ClientID, "c%d", &ci)
						c.Sim().At(c.Now(), func() { submit(ci) })
					}
				}
			}
		})
		c.Sim().At(time.Millisecond, func() {
			for ci := range clients {
				submit(ci)
			}
		})
		if err := c.WaitFor(func() bool { return done >= total }, 30*time.Second); err != nil {
			var missing []string
			for ci := range clients {
				if next[ci] > 0 {
					id := mempool.TxID{ClientID: fmt.Sprintf("c%d", ci), TxNo: next[ci] - 1}
					if count[id] < 2 {
						missing = append(missing, fmt.Sprintf("%v (bucket %d)", id, mempool.BucketOf(id, 64)))
					}
				}
			}
			t.Fatalf("%v: %d of %d done; stuck: %v; %+v", err, done, total, missing, c.ISS("0").Stats())
		}
	})
}
