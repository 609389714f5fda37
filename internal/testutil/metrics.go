package testutil

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// CounterValue returns the current value of c.
func CounterValue(t testing.TB, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatalf("reading counter: %v", err)
	}
	return m.GetCounter().GetValue()
}

// GaugeValue returns the current value of g.
func GaugeValue(t testing.TB, g prometheus.Gauge) float64 {
	t.Helper()
	var m dto.Metric
	if err := g.Write(&m); err != nil {
		t.Fatalf("reading gauge: %v", err)
	}
	return m.GetGauge().GetValue()
}

// GatheredCounter returns the value of a counter series of name gathered
// from g: the first series, or, with labelValue given as (label, value),
// the series carrying that label value. It fails t if there is none.
func GatheredCounter(t testing.TB, g prometheus.Gatherer, name string, labelValue ...string) float64 {
	t.Helper()
	if len(labelValue) != 0 && len(labelValue) != 2 {
		t.Fatalf("GatheredCounter: labelValue is (label, value), got %q", labelValue)
	}
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if len(labelValue) == 0 {
				return m.GetCounter().GetValue()
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == labelValue[0] && l.GetValue() == labelValue[1] {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no series %s%q", name, labelValue)
	return 0
}
