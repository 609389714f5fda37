// Package prom exposes a metrics store to Prometheus: a Collector,
// registered on sluice's registry, turns every family of the store into a
// metric family at each scrape, so /metrics serves the rules' series beside
// sluice's own in every format promhttp negotiates (text, OpenMetrics,
// protobuf). Server is metrics.listen, a listener serving /metrics alone.
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
	own     bool // also the bookkeeping metrics
	series  *prometheus.Desc
	folded  *prometheus.Desc
	refused *prometheus.Desc
}

// New returns the collector of s.
func New(s *store.Store) *Collector {
	return &Collector{s: s, own: true,
		series:  prometheus.NewDesc("sluice_metrics_series", "Series of log-derived metrics in memory, overflow series included.", nil, nil),
		folded:  prometheus.NewDesc("sluice_metrics_series_folded_total", "Updates of a metrics rule that went to its overflow series because the rule had max_series series.", []string{"rule"}, nil),
		refused: prometheus.NewDesc("sluice_metrics_series_refused_total", "Updates that needed a new series when metrics.max_series were in memory; they were not counted.", nil, nil),
	}
}

// NewSeries returns a collector of the rules' series alone, without the
// bookkeeping metrics: what `sluice run --once` prints.
func NewSeries(s *store.Store) *Collector {
	c := New(s)
	c.own = false
	return c
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
		if c.own {
			ch <- prometheus.MustNewConstMetric(c.folded, prometheus.CounterValue, float64(f.Folded()), f.Options().Name)
		}
	}
	if !c.own {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.series, prometheus.GaugeValue, float64(c.s.Series()))
	ch <- prometheus.MustNewConstMetric(c.refused, prometheus.CounterValue, float64(c.s.Refused()))
}

func collectFamily(f *store.Family, ch chan<- prometheus.Metric) {
	o := f.Options()
	desc := prometheus.V2.NewDesc(o.Name, o.Help, prometheus.UnconstrainedLabels(o.Labels), nil, prometheus.WithUnit(o.Unit))
	vt := prometheus.CounterValue
	if o.Kind == store.Gauge || o.ResetOnScrape {
		vt = prometheus.GaugeValue
	}
	f.Collect(func(s store.Series) { ch <- newMetric(desc, &o, vt, &s) })
}

var _ prometheus.Collector = (*Collector)(nil)
