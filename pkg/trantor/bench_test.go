package trantor_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/stdtypes"
)

// resultSink is the benchmark's client server: a passive module that
// hands every Executed to f, on the node's goroutine.
type resultSink struct {
	f func(ev *trantor.Executed)
}

func (s resultSink) ApplyEvents(evs *stdtypes.EventList) (*stdtypes.EventList, error) {
	for _, ev := range evs.Slice() {
		if ex, ok := ev.(*trantor.Executed); ok {
			s.f(ex)
		}
	}
	return stdtypes.EmptyList(), nil
}

// BenchmarkReal4Nodes: four Trantor nodes in one process over the
// in-process transport, with real Ed25519 signatures (a crypto pool
// each), WALs on disk, the logApp, and a closed loop of clients, each
// with one transaction of 512 bytes in flight: a client submits its next
// transaction to every node once f+1 = 2 nodes executed the previous one
// (what a client waits for: f+1 matching results). b.N is the number of
// transactions. It reports transactions executed per second and the
// latency from submission to execution at f+1 nodes.
func BenchmarkReal4Nodes(b *testing.B) {
	for _, clients := range []int{256, 1024, 4096} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchReal(b, clients) })
	}
}

func benchReal(b *testing.B, clients int) {
	const payloadBytes = 512
	nodes := stdtypes.NumberedNodeIDs(4)
	voters := membership.EqualVoters(nodes...)
	params := trantor.DefaultParams(voters)

	var (
		mu        sync.Mutex
		executed  = make(map[mempool.TxID]int)
		submitted = make(map[mempool.TxID]time.Time)
		latencies []time.Duration
		next      = make(chan int, clients) // clients whose transaction is done
	)
	sink := resultSink{func(ev *trantor.Executed) {
		mu.Lock()
		defer mu.Unlock()
		for _, tx := range ev.Txs {
			executed[tx.TxID]++
			switch executed[tx.TxID] {
			case 2: // f+1 of 4 nodes
				latencies = append(latencies, time.Since(submitted[tx.TxID]))
				delete(submitted, tx.TxID)
				var ci int
				fmt.Sscanf(tx.ClientID, "c%d", &ci)
				next <- ci
			case len(nodes):
				delete(executed, tx.TxID)
			}
		}
	}}
	d, err := deploytest.NewReal(deploytest.Config{
		Nodes: nodes,
		WAL:   true,
		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
			return buildNode(info, params, &logApp{}, uint64(time.Now().UnixNano()), sink, func(nc *crypto.NodeCrypto) (modules.Module, error) {
				return crypto.NewPool(nc, runner.DefaultPoolParams())
			})
		},
	}, deploytest.RealOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if err := d.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := d.Stop(); err != nil {
			b.Error(err)
		}
	}()

	txNos := make([]uint64, clients)
	payload := make([]byte, payloadBytes)
	// submit sends the next transaction of each of cis to every node, in
	// one NewTxs per node.
	submit := func(cis []int) {
		txs := make([]mempool.Tx, len(cis))
		now := time.Now()
		mu.Lock()
		for i, ci := range cis {
			txs[i] = mempool.Tx{TxID: mempool.TxID{ClientID: fmt.Sprintf("c%d", ci), TxNo: txNos[ci]}, Data: payload}
			txNos[ci]++
			submitted[txs[i].TxID] = now
		}
		mu.Unlock()
		for _, id := range nodes {
			if err := d.Submit(id, &mempool.NewTxs{Header: stdtypes.NewHeader(trantor.MempoolID), Txs: txs}); err != nil {
				b.Error(err)
			}
		}
	}
	b.ResetTimer()
	start := time.Now()
	first := make([]int, min(clients, b.N))
	for i := range first {
		first[i] = i
	}
	submit(first)
	inFlight, done := len(first), 0
	for done < b.N {
		var ready []int
		select {
		case ci := <-next:
			ready = append(ready, ci)
		case <-time.After(30 * time.Second):
			b.Fatalf("no transaction executed for 30 s; %d of %d done", done, b.N)
		}
		// Take every client that is ready, to submit them together.
	drain:
		for {
			select {
			case ci := <-next:
				ready = append(ready, ci)
			default:
				break drain
			}
		}
		done += len(ready)
		inFlight -= len(ready)
		ready = ready[:max(0, min(len(ready), b.N-done-inFlight))]
		if len(ready) > 0 {
			submit(ready)
			inFlight += len(ready)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[min(len(latencies)-1, int(p*float64(len(latencies))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(done)/elapsed.Seconds(), "tx/s")
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
}
