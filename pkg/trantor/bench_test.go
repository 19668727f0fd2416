package trantor_test

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime/pprof"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/eventlog"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/pkg/trantor"
	"github.com/mirframework/mir/stdtypes"
)

// benchPayloadBytes is the size of a benchmark transaction's payload.
const benchPayloadBytes = 512

// resultSink is the benchmarks' client server: a passive module that
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

// realBench is four Trantor nodes in one process over the in-process
// transport, with real Ed25519 signatures (a crypto pool each), WALs on
// disk and the logApp. A transaction counts as done once f+1 = 2 nodes
// executed it: what a client waits for (f+1 matching results).
type realBench struct {
	d         *deploytest.Real
	mu        sync.Mutex
	executed  map[mempool.TxID]int
	submitted map[mempool.TxID]time.Time
	latencies []time.Duration
	// done receives each transaction once it is done.
	done chan mempool.TxID
	// mods are the nodes' modules, for their statistics.
	mods sync.Map
}

// startReal starts the deployment; record records every event of every
// node with the stream recorder, in a temporary directory. Its results
// channel holds up to inFlight transactions.
func startReal(b *testing.B, inFlight int, record bool) *realBench {
	nodes := stdtypes.NumberedNodeIDs(4)
	params := trantor.DefaultParams(membership.EqualVoters(nodes...))
	r := &realBench{
		executed: make(map[mempool.TxID]int), submitted: make(map[mempool.TxID]time.Time),
		done: make(chan mempool.TxID, inFlight),
	}
	sink := resultSink{r.observe}
	var opts deploytest.RealOptions
	if record {
		dir := b.TempDir()
		opts.Interceptor = func(id stdtypes.NodeID) eventlog.Interceptor {
			rec, err := eventlog.NewStreamRecorder(dir, id, eventlog.StreamOptions{}, eventlog.RecorderOptions{})
			if err != nil {
				b.Fatal(err)
			}
			return rec
		}
	}
	d, err := deploytest.NewReal(deploytest.Config{
		Nodes: nodes,
		WAL:   true,
		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
			mods, err := buildNode(info, params, &logApp{}, uint64(time.Now().UnixNano()), sink, func(nc *crypto.NodeCrypto) (modules.Module, error) {
				return crypto.NewPool(nc, runner.DefaultPoolParams())
			})
			r.mods.Store(info.ID, mods)
			return mods, err
		},
	}, opts)
	if err != nil {
		b.Fatal(err)
	}
	if err := d.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := d.Stop(); err != nil {
			b.Error(err)
		}
	})
	r.d = d
	return r
}

// observe takes an Executed of some node.
func (r *realBench) observe(ev *trantor.Executed) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, tx := range ev.Txs {
		r.executed[tx.TxID]++
		switch r.executed[tx.TxID] {
		case 2: // f+1 of 4 nodes
			r.latencies = append(r.latencies, time.Since(r.submitted[tx.TxID]))
			delete(r.submitted, tx.TxID)
			r.done <- tx.TxID
		case 4:
			delete(r.executed, tx.TxID)
		}
	}
}

// submit sends txs to every node, in one NewTxs per node.
func (r *realBench) submit(b *testing.B, txs []mempool.Tx) {
	now := time.Now()
	r.mu.Lock()
	for _, tx := range txs {
		r.submitted[tx.TxID] = now
	}
	r.mu.Unlock()
	for _, id := range r.d.Nodes() {
		if err := r.d.Submit(id, &mempool.NewTxs{Header: stdtypes.NewHeader(trantor.MempoolID), Txs: txs}); err != nil {
			b.Error(err)
		}
	}
}

// wait returns the next transaction done, failing the benchmark after 30
// s without one.
func (r *realBench) wait(b *testing.B) mempool.TxID {
	select {
	case id := <-r.done:
		return id
	case <-time.After(30 * time.Second):
		r.mu.Lock()
		b.Logf("%d transactions in flight", len(r.submitted))
		r.mu.Unlock()
		r.mods.Range(func(id, mods any) bool {
			for mid, m := range mods.(modules.Modules) {
				if st := reflect.ValueOf(m).MethodByName("Stats"); st.IsValid() && st.Type().NumIn() == 0 {
					b.Logf("node %v %s: %+v", id, mid, st.Call(nil)[0].Interface())
				}
			}
			return true
		})
		if f, err := os.Create(filepath.Join(os.TempDir(), "trantor-stall-goroutines.txt")); err == nil {
			_ = pprof.Lookup("goroutine").WriteTo(f, 2)
			_ = f.Close()
		}
		b.Fatal("no transaction executed for 30 s")
		return mempool.TxID{}
	}
}

// report reports the transactions done per second and their latency
// percentiles.
func (r *realBench) report(b *testing.B, done int, elapsed time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	slices.Sort(r.latencies)
	pct := func(p float64) float64 {
		return float64(r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(done)/elapsed.Seconds(), "tx/s")
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
}

// BenchmarkReal4Nodes: a closed loop of clients on four real nodes, each
// client with one transaction of 512 bytes in flight: it submits its next
// transaction to every node once the previous one is done (executed at
// f+1 nodes). b.N is the number of transactions. It reports transactions
// done per second and the latency from submission to done; with
// "recorded", every event of every node is recorded by the stream
// recorder.
func BenchmarkReal4Nodes(b *testing.B) {
	for _, clients := range []int{256, 1024, 4096} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchClosedLoop(b, clients, false) })
	}
	b.Run("clients=4096/recorded", func(b *testing.B) { benchClosedLoop(b, 4096, true) })
}

func benchClosedLoop(b *testing.B, clients int, record bool) {
	r := startReal(b, clients, record)
	payload := make([]byte, benchPayloadBytes)
	txNos := make([]uint64, clients)
	newTx := func(ci int) mempool.Tx {
		tx := mempool.Tx{TxID: mempool.TxID{ClientID: fmt.Sprintf("c%d", ci), TxNo: txNos[ci]}, Data: payload}
		txNos[ci]++
		return tx
	}
	b.ResetTimer()
	start := time.Now()
	var txs []mempool.Tx
	for ci := range min(clients, b.N) {
		txs = append(txs, newTx(ci))
	}
	r.submit(b, txs)
	inFlight, done := len(txs), 0
	for done < b.N {
		// Take every client that is ready, to submit them together.
		ready := []mempool.TxID{r.wait(b)}
		for len(r.done) > 0 {
			ready = append(ready, <-r.done)
		}
		done += len(ready)
		inFlight -= len(ready)
		// A new slice each time: a node reads a NewTxs after Submit
		// returns (InjectEvents hands the event over, it does not copy
		// it), so refilling the last one would change what the nodes
		// had not read yet: a transaction lost at every node, another
		// dropped as a duplicate.
		txs = nil
		for _, id := range ready[:max(0, min(len(ready), b.N-done-inFlight))] {
			var ci int
			fmt.Sscanf(id.ClientID, "c%d", &ci)
			txs = append(txs, newTx(ci))
		}
		if len(txs) > 0 {
			r.submit(b, txs)
			inFlight += len(txs)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	r.report(b, done, elapsed)
}

// BenchmarkReal4NodesLight: light load on four real nodes, 100
// transactions of 512 bytes per second, each from a client of its own,
// submitted at even intervals whether or not earlier ones are done (an
// open loop). b.N is the number of transactions: 100 take 1 s.
func BenchmarkReal4NodesLight(b *testing.B) {
	const rate = 100
	r := startReal(b, b.N, false)
	payload := make([]byte, benchPayloadBytes)
	b.ResetTimer()
	start := time.Now()
	tick := time.NewTicker(time.Second / rate)
	defer tick.Stop()
	for i := range b.N {
		<-tick.C
		r.submit(b, []mempool.Tx{{TxID: mempool.TxID{ClientID: fmt.Sprintf("c%d", i%1024), TxNo: uint64(i / 1024)}, Data: payload}})
	}
	for range b.N {
		r.wait(b)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	r.report(b, b.N, elapsed)
}
