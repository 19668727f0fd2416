package issnode_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mirframework/mir/pkg/crypto"
	"github.com/mirframework/mir/pkg/crypto/runner"
	"github.com/mirframework/mir/pkg/deploytest"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/iss/issnode"
	"github.com/mirframework/mir/pkg/iss/isstest"
	"github.com/mirframework/mir/pkg/membership"
	"github.com/mirframework/mir/pkg/modules"
	"github.com/mirframework/mir/stdtypes"
)

// BenchmarkSimulation10k: 4 simulated nodes order 10,000 requests (from
// 16 clients, at 5,000 per second of simulated time, over links of 1 to
// 5 ms, with WALs), in wall time and bytes allocated per run.
func BenchmarkSimulation10k(b *testing.B) {
	b.ReportAllocs()
	for i := range b.N {
		c := newCluster(b, uint64(i)+1, clusterOptions{n: 4})
		dr := c.run(b, isstest.Load{Clients: 16, Requests: 10_000, Rate: 5000, PayloadBytes: 32, Start: time.Millisecond}, time.Minute)
		if i == 0 {
			b.ReportMetric(c.d.Now().Seconds(), "sim-s/op")
			l := dr.Latency(c.checker, c.voters)
			b.ReportMetric(float64(l.Median.Microseconds())/1000, "sim-p50-ms")
			b.ReportMetric(float64(l.P99.Microseconds())/1000, "sim-p99-ms")
		}
		if err := c.d.Stop(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReal4Nodes: four nodes in one process over the in-process
// transport, with real Ed25519 signatures (a crypto pool each), WALs on
// disk, and a closed loop of clients, each with one request in flight: a
// client submits its next request to every node once its previous one is
// executed at a strong quorum. b.N is the number of requests. It reports
// requests ordered per second and the latency from submission to
// execution at a strong quorum.
func BenchmarkReal4Nodes(b *testing.B) {
	for _, clients := range []int{16, 256} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchReal(b, clients) })
	}
}

func benchReal(b *testing.B, clients int) {
	nodes := stdtypes.NumberedNodeIDs(4)
	voters := membership.EqualVoters(nodes...)
	keys, pubs, err := crypto.NodeKeysFromSeed(crypto.Ed25519, keySeed, nodes)
	if err != nil {
		b.Fatal(err)
	}
	params := iss.DefaultParams(voters)

	// The closed loop: the Apps report executions (on the nodes'
	// goroutines); a request counts when a strong quorum executed it.
	type key struct {
		client string
		seq    uint64
	}
	var (
		mu        sync.Mutex
		executed  = make(map[key]int)
		submitted = make(map[key]time.Time)
		latencies []time.Duration
		next      = make(chan int, clients) // clients whose request is done
	)
	observe := func(r isstest.Report) {
		if r.Kind != isstest.Delivered {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, req := range r.Executed {
			k := key{req.Client, req.Seq}
			executed[k]++
			if executed[k] == 3 { // a strong quorum of 4 equal voters
				latencies = append(latencies, time.Since(submitted[k]))
				delete(submitted, k)
				var ci int
				fmt.Sscanf(req.Client, "c%d", &ci)
				next <- ci
			}
			if executed[k] == 4 {
				delete(executed, k)
			}
		}
	}
	d, err := deploytest.NewReal(deploytest.Config{
		Nodes: nodes,
		WAL:   true,
		Build: func(info deploytest.NodeInfo) (modules.Modules, error) {
			mods, err := issnode.NewModules(info.ID, issnode.Config{
				Params: params, Transport: info.Transport, Timer: info.Timer, WAL: info.WAL,
				Crypto: "crypto", App: isstest.DefaultID, Incarnation: uint64(time.Now().UnixNano()),
			})
			if err != nil {
				return nil, err
			}
			nc, err := crypto.New(keys[slices.Index(nodes, info.ID)], pubs)
			if err != nil {
				return nil, err
			}
			if mods["crypto"], err = crypto.NewPool(nc, runner.DefaultPoolParams()); err != nil {
				return nil, err
			}
			ap := isstest.DefaultParams(info.ID)
			ap.NumBuckets, ap.ConfigOffset = params.NumBuckets, params.ConfigOffset
			ap.MaxPending = max(ap.MaxPending, 2*clients)
			ap.Observer = observe
			app, err := isstest.New(ap)
			if err != nil {
				return nil, err
			}
			mods[isstest.DefaultID] = app
			return mods, nil
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

	seqs := make([]uint64, clients)
	submit := func(ci int) {
		client := isstest.ClientName(ci)
		k := key{client, seqs[ci]}
		mu.Lock()
		submitted[k] = time.Now()
		mu.Unlock()
		payload := make([]byte, 32)
		for _, id := range nodes {
			if err := d.Submit(id, isstest.NewSubmit(isstest.DefaultID, client, seqs[ci], payload)); err != nil {
				b.Error(err)
			}
		}
		seqs[ci]++
	}
	b.ResetTimer()
	start := time.Now()
	inFlight := 0
	for ci := range min(clients, b.N) {
		submit(ci)
		inFlight++
	}
	done := 0
	for done < b.N {
		select {
		case ci := <-next:
			done++
			inFlight--
			if done+inFlight < b.N {
				submit(ci)
				inFlight++
			}
		case <-time.After(30 * time.Second):
			b.Fatalf("no request executed for 30 s; %d of %d done", done, b.N)
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
	b.ReportMetric(float64(done)/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.5), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
}
