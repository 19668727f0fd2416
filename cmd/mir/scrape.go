package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
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
}

// The families nodeMetrics reads.
const (
	familyHeight      = "mir_iss_next_seq_nr"
	familyEpoch       = "mir_iss_epoch"
	familyExecuted    = "mir_batchfetcher_executed_total"
	familyViewChanges = "mir_pbft_view_changes_total"
	familyTransDrops  = "mir_transport_messages_dropped_total"
	familyEventDrops  = "mir_module_dropped_events_total"
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
	return nodeMetrics{
		height:      sum(familyHeight),
		epoch:       sum(familyEpoch),
		executed:    sum(familyExecuted),
		viewChanges: sum(familyViewChanges),
		drops:       sum(familyTransDrops) + sum(familyEventDrops),
	}, nil
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
