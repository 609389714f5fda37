// Package prom exposes a metrics store to Prometheus: a Collector,
// registered on sluice's registry, turns every family of the store into a
// metric family at each scrape, so /metrics serves the rules' series beside
// sluice's own in every format promhttp negotiates.
//
// Collecting is also when idle series expire and when reset_on_scrape
// families are zeroed: every scrape, by any scraper, resets them.
package prom

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/metrics/store"
)

// Collector collects a store's series and its bookkeeping metrics:
// sluice_metrics_series, sluice_metrics_series_folded_total{rule} and
// sluice_metrics_series_refused_total.
type Collector struct {
	s       *store.Store
	series  *prometheus.Desc
	folded  *prometheus.Desc
	refused *prometheus.Desc
}

// New returns the collector of s.
func New(s *store.Store) *Collector {
	return &Collector{s: s,
		series:  prometheus.NewDesc("sluice_metrics_series", "Series of log-derived metrics in memory, overflow series included.", nil, nil),
		folded:  prometheus.NewDesc("sluice_metrics_series_folded_total", "Updates of a metrics rule that went to its overflow series because the rule had max_series series.", []string{"rule"}, nil),
		refused: prometheus.NewDesc("sluice_metrics_series_refused_total", "Updates that needed a new series when metrics.max_series were in memory; they were not counted.", nil, nil),
	}
}

// Describe implements prometheus.Collector. It describes nothing: the
// rules' families change with the config, and client_golang wants a
// collector whose metrics it cannot all describe up front to be unchecked.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	fams := c.s.Families()
	sort.Slice(fams, func(i, j int) bool { return fams[i].Options().Name < fams[j].Options().Name })
	for _, f := range fams {
		collectFamily(f, ch)
		ch <- prometheus.MustNewConstMetric(c.folded, prometheus.CounterValue, float64(f.Folded()), f.Options().Name)
	}
	ch <- prometheus.MustNewConstMetric(c.series, prometheus.GaugeValue, float64(c.s.Series()))
	ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(c.s.Refused()))
}

func collectFamily(f *store.Family, ch chan<- prometheus.Metric) {
	o := f.Options()
	desc := prometheus.NewDesc(o.Name, o.Help, o.Labels, nil)
	vt := prometheus.CounterValue
	switch {
	case o.Kind == store.Gauge || o.ResetOnScrape:
		vt = prometheus.GaugeValue
	}
	f.Collect(func(s store.Series) {
		var m prometheus.Metric
		var err error
		if o.Kind == store.Histogram {
			m, err = prometheus.NewConstHistogram(desc, s.Count, s.Sum, cumulative(o.Buckets, s.Counts), s.Labels...)
		} else {
			m, err = prometheus.NewConstMetric(desc, vt, s.Value, s.Labels...)
		}
		if err != nil {
			m = prometheus.NewInvalidMetric(desc, err)
		}
		ch <- m
	})
}

// cumulative turns per-bucket counts into the cumulative counts
// Prometheus wants, keyed by upper bound (+Inf is implied by the count).
func cumulative(bounds []float64, counts []uint64) map[float64]uint64 {
	out := make(map[float64]uint64, len(bounds))
	var n uint64
	for i, b := range bounds {
		n += counts[i]
		out[b] = n
	}
	return out
}

var _ prometheus.Collector = (*Collector)(nil)
