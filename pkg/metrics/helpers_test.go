package metrics

import (
	"fmt"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// samples returns each sample of families by its name and labels, sorted
// by label name as the text format writes them (`name{a="x",b="y"}`).
// Histograms and summaries give their _count and _sum.
func samples(families []*dto.MetricFamily) map[string]float64 {
	out := make(map[string]float64)
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			labels := make([]string, 0, len(m.GetLabel()))
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			slices.Sort(labels)
			key := mf.GetName()
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[key] = m.GetGauge().GetValue()
			case dto.MetricType_UNTYPED:
				out[key] = m.GetUntyped().GetValue()
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				out[strings.Replace(key, mf.GetName(), mf.GetName()+"_count", 1)] = float64(h.GetSampleCount())
				out[strings.Replace(key, mf.GetName(), mf.GetName()+"_sum", 1)] = h.GetSampleSum()
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				out[strings.Replace(key, mf.GetName(), mf.GetName()+"_count", 1)] = float64(s.GetSampleCount())
				out[strings.Replace(key, mf.GetName(), mf.GetName()+"_sum", 1)] = s.GetSampleSum()
			}
		}
	}
	return out
}
