package metrics

import (
	"io"
	"testing"

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
