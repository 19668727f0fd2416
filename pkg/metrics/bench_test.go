package metrics

import (
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/mirframework/mir"
	"github.com/mirframework/mir/pkg/availability"
	"github.com/mirframework/mir/pkg/batchfetcher"
	"github.com/mirframework/mir/pkg/checkpoint"
	"github.com/mirframework/mir/pkg/iss"
	"github.com/mirframework/mir/pkg/mempool"
	"github.com/mirframework/mir/pkg/net/tcp"
	"github.com/mirframework/mir/pkg/orderers/pbft"
	"github.com/mirframework/mir/pkg/reliablenet"
	"github.com/mirframework/mir/pkg/wal"
	"github.com/mirframework/mir/stdtypes"
)

// trantorNodeStats returns the statistics of a Trantor node of four, with
// the modules and reports trantor.New and its caller give it.
func trantorNodeStats() mir.NodeStats {
	s := mir.NodeStats{Modules: make(map[stdtypes.ModuleID]mir.ModuleStats), Reports: map[stdtypes.ModuleID]any{
		"iss": iss.Stats{}, "ordering": pbft.Stats{}, "checkpoint": checkpoint.Stats{}, "rnet": reliablenet.Stats{},
		"mempool": mempool.Stats{}, "availability": availability.Stats{}, "batchfetcher": batchfetcher.Stats{},
		"wal": wal.ModuleStats{},
	}}
	for _, id := range []stdtypes.ModuleID{"iss", "ordering", "checkpoint", "rnet", "hasher", "mempool", "availability",
		"batchfetcher", "app", "clients", "crypto", "net", "timer", "wal"} {
		s.Modules[id] = mir.ModuleStats{EventsIn: 1}
	}
	peers := make(map[stdtypes.NodeID]tcp.PeerMetrics)
	for _, id := range stdtypes.NumberedNodeIDs(4) {
		peers[id] = tcp.PeerMetrics{MessagesOut: 1}
	}
	s.Reports["net"] = tcp.Metrics{Peers: peers}
	return s
}

// BenchmarkScrape measures what one scrape of a Trantor node costs the
// process: reading its statistics, gathering and writing the text format.
func BenchmarkScrape(b *testing.B) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector("0", &fixedSource{s: trantorNodeStats()}))
	b.ReportAllocs()
	for b.Loop() {
		families, err := reg.Gather()
		if err != nil {
			b.Fatal(err)
		}
		enc := expfmt.NewEncoder(io.Discard, expfmt.NewFormat(expfmt.TypeTextPlain))
		for _, f := range families {
			if err := enc.Encode(f); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkTxTimer is what a ClientServer adds per transaction: its
// arrival noted, then its result, in batches of 256 (one NewTxs, one
// Executed), with about 4,096 transactions in flight.
func BenchmarkTxTimer(b *testing.B) {
	const batch, inFlight = 256, 16
	var tm txTimer
	now := time.Now()
	tm.reset(now)
	batches := make([][]mempool.Tx, inFlight)
	for i := range batches {
		for j := range batch {
			batches[i] = append(batches[i], mempool.Tx{TxID: mempool.TxID{ClientID: "client-" + strconv.Itoa(j%16), TxNo: uint64(i*batch + j)}})
		}
	}
	for _, txs := range batches[1:] {
		tm.arrived(now, txs)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for n := 0; b.Loop(); n++ {
		txs := batches[n%inFlight]
		tm.arrived(now, txs)
		done := batches[(n+1)%inFlight]
		tm.done(now, len(done), func(i int) mempool.TxID { return done[i].TxID })
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/tx")
}
