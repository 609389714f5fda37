package mtail

import (
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// Collector exposes programs' metrics to Prometheus the way mtail does:
// `-` in names becomes `_`, a `prog` label (unless EmitProgLabel is off),
// HELP "defined at FILE:LINE:COL", timers as gauges, text metrics left out.
// It is unchecked (it describes nothing up front): programs declare their
// metrics and may be reloaded.
type Collector struct {
	Programs      func() []*Program
	EmitProgLabel bool
	// EmitTimestamp attaches each value's update time (mtail's
	// --emit_metric_timestamp).
	EmitTimestamp bool
}

// Describe sends nothing: the collector is unchecked.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect sends one const metric per label set of every exported metric.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.Programs() {
		p.mu.Lock()
		for _, m := range p.metrics {
			if !m.Hidden && m.Kind != Text {
				c.collect(ch, m)
			}
		}
		p.mu.Unlock()
	}
}

func (c *Collector) collect(ch chan<- prometheus.Metric, m *metric) {
	keys := m.Keys
	var constLabels prometheus.Labels
	if c.EmitProgLabel {
		constLabels = prometheus.Labels{"prog": m.Program}
	}
	desc := prometheus.NewDesc(strings.ReplaceAll(m.Name, "-", "_"), "defined at "+m.Source, keys, constLabels)
	for _, ls := range m.sets() {
		d := &ls.d
		labels := ls.labels
		if !allValidUTF8(labels) { // Prometheus refuses the metric otherwise
			labels = make([]string, len(ls.labels))
			for i, l := range ls.labels {
				labels[i] = strings.ToValidUTF8(l, "\uFFFD")
			}
		}
		var pm prometheus.Metric
		var err error
		switch {
		case m.Kind == Histogram:
			buckets := make(map[float64]uint64, len(m.Bounds))
			var cum uint64
			for i, b := range m.Bounds {
				cum += d.counts[i]
				buckets[b] = cum
			}
			pm, err = prometheus.NewConstHistogram(desc, d.count, d.sum, buckets, labels...)
		default:
			v := float64(d.i)
			if m.Type == Float {
				v = d.f
			}
			vt := prometheus.GaugeValue
			if m.Kind == Counter {
				vt = prometheus.CounterValue
			}
			pm, err = prometheus.NewConstMetric(desc, vt, v, labels...)
		}
		if err != nil {
			pm = prometheus.NewInvalidMetric(desc, err)
		} else if c.EmitTimestamp && d.time != 0 {
			pm = prometheus.NewMetricWithTimestamp(time.Unix(0, d.time), pm)
		}
		ch <- pm
	}
}

// WritePrometheus writes progs' metrics in the Prometheus text format
// (mtail's --one_shot_format=prometheus).
func WritePrometheus(w io.Writer, progs []*Program, emitProgLabel, emitTimestamp bool) error {
	reg := prometheus.NewRegistry()
	if err := reg.Register(&Collector{Programs: func() []*Program { return progs }, EmitProgLabel: emitProgLabel,
		EmitTimestamp: emitTimestamp}); err != nil {
		return err
	}
	mfs, err := reg.Gather()
	if err != nil {
		return err
	}
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(w, mf); err != nil {
			return err
		}
	}
	return nil
}

var _ prometheus.Collector = (*Collector)(nil)

func allValidUTF8(ss []string) bool {
	for _, s := range ss {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}
