package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/mirframework/mir/stdtypes"
)

// nodeMetrics are the figures of one replica that the view shows, read
// from its metrics (docs/metrics.md).
type nodeMetrics struct {
	// height is the next slot the node delivers (mir_iss_next_seq_nr):
	// how far it executed the log.
	height uint64
	// epoch is the node's ISS epoch (mir_iss_epoch).
	epoch uint64
	// executed counts the transactions the node executed since it started
	// (mir_batchfetcher_executed_total).
	executed uint64
	// viewChanges counts PBFT view changes since it started
	// (mir_pbft_view_changes_total).
	viewChanges uint64
	// drops counts messages the transport dropped, in and out
	// (mir_transport_messages_dropped_total), and events the node dropped
	// (mir_module_dropped_events_total), since it started.
	drops uint64
	// leaders are the leaders of its epoch (mir_iss_leader), sorted.
	leaders []stdtypes.NodeID
	// latency is the time from a transaction's arrival at the node to its
	// execution there, since it started
	// (mir_client_server_latency_seconds).
	latency histogram
}

// histogram is a Prometheus histogram: cumulative counts at ascending
// upper bounds, in seconds, and the count of all values (those above
// every bound too).
type histogram struct {
	bounds []float64
	counts []uint64
	count  uint64
}

// since returns the histogram of the values h has and earlier, a
// histogram of the same series from before, had not: the window between
// them. If earlier is not an earlier state of h (its bounds differ, or a
// count went down: the series restarted), it returns h.
func (h histogram) since(earlier histogram) histogram {
	if !slices.Equal(h.bounds, earlier.bounds) || earlier.count > h.count {
		return h
	}
	w := histogram{bounds: h.bounds, counts: make([]uint64, len(h.counts)), count: h.count - earlier.count}
	for i := range h.counts {
		if earlier.counts[i] > h.counts[i] {
			return h
		}
		w.counts[i] = h.counts[i] - earlier.counts[i]
	}
	return w
}

// quantile returns the q-quantile (0 < q < 1) of the values of h,
// interpolated linearly within its bucket, as Prometheus's
// histogram_quantile does: a quantile above every bound is the last
// bound. ok is false if h has no values.
func (h histogram) quantile(q float64) (d time.Duration, ok bool) {
	if h.count == 0 || len(h.bounds) == 0 {
		return 0, false
	}
	rank := q * float64(h.count)
	lower, below := 0.0, uint64(0)
	for i, upper := range h.bounds {
		if float64(h.counts[i]) >= rank {
			in := h.counts[i] - below
			frac := 1.0
			if in > 0 {
				frac = (rank - float64(below)) / float64(in)
			}
			return seconds(lower + (upper-lower)*frac), true
		}
		lower, below = upper, h.counts[i]
	}
	return seconds(h.bounds[len(h.bounds)-1]), true
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// The families nodeMetrics reads.
const (
	familyHeight      = "mir_iss_next_seq_nr"
	familyEpoch       = "mir_iss_epoch"
	familyExecuted    = "mir_batchfetcher_executed_total"
	familyViewChanges = "mir_pbft_view_changes_total"
	familyTransDrops  = "mir_transport_messages_dropped_total"
	familyEventDrops  = "mir_module_dropped_events_total"
	familyLeader      = "mir_iss_leader"
	familyLatency     = "mir_client_server_latency_seconds"
)

// maxMetricsBytes bounds the metrics page read from a replica: it is a
// few tens of KiB.
const maxMetricsBytes = 4 << 20

// scrapeTimeout bounds one scrape: a replica answers in milliseconds, and
// the view refreshes every second.
const scrapeTimeout = 500 * time.Millisecond

// scrape reads the metrics of the replica serving them at addr.
func scrape(ctx context.Context, hc *http.Client, addr string) (nodeMetrics, error) {
	ctx, cancel := context.WithTimeout(ctx, scrapeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nodeMetrics{}, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nodeMetrics{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nodeMetrics{}, fmt.Errorf("metrics: %s", resp.Status)
	}
	return parseMetrics(io.LimitReader(resp.Body, maxMetricsBytes))
}

// parseMetrics reads nodeMetrics from a page of metrics in Prometheus's
// text format. A family the page lacks counts 0.
func parseMetrics(r io.Reader) (nodeMetrics, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nodeMetrics{}, fmt.Errorf("metrics: %w", err)
	}
	sum := func(name string) uint64 {
		var total float64
		for _, m := range fams[name].GetMetric() {
			total += metricValue(m)
		}
		return uint64(total)
	}
	nm := nodeMetrics{
		height:      sum(familyHeight),
		epoch:       sum(familyEpoch),
		executed:    sum(familyExecuted),
		viewChanges: sum(familyViewChanges),
		drops:       sum(familyTransDrops) + sum(familyEventDrops),
	}
	for _, m := range fams[familyLeader].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "leader" && metricValue(m) == 1 {
				nm.leaders = append(nm.leaders, stdtypes.NodeID(l.GetValue()))
			}
		}
	}
	slices.Sort(nm.leaders)
	if ms := fams[familyLatency].GetMetric(); len(ms) == 1 && ms[0].Histogram != nil {
		nm.latency = histogramOf(ms[0].Histogram)
	}
	return nm, nil
}

// histogramOf returns h's finite buckets and count.
func histogramOf(h *dto.Histogram) histogram {
	out := histogram{count: h.GetSampleCount()}
	for _, b := range h.GetBucket() {
		if math.IsInf(b.GetUpperBound(), +1) {
			continue
		}
		out.bounds = append(out.bounds, b.GetUpperBound())
		out.counts = append(out.counts, b.GetCumulativeCount())
	}
	return out
}

// metricValue returns a counter's or a gauge's value (0 for other kinds).
func metricValue(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return 0
}
