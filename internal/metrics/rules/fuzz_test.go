package rules_test

import (
	"math"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sluice-log/sluice/internal/event"
)

// FuzzEvaluate feeds rules random messages and field values: evaluation
// never panics and the exposition stays valid (a scrape that fails would
// fail /metrics as a whole).
func FuzzEvaluate(f *testing.F) {
	for _, s := range [][3]string{
		{`took=0.5 user="a\"b" path=/x`, "GET", "200"},
		{"took=- user= path=", "", "-"},
		{"took=1e309 user=\xff\xfe path=\n", "G\x00T", "NaN"},
		{"", "__overflow__", "+Inf"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, msg, method, status string) {
		h := newHarness(t, `  max_series: 20
  rules:
    - name: took_seconds
      type: histogram
      inputs: [in]
      regex: 'took=(?P<took>\S*) user=(?P<user>\S*)'
      value: took
      labels: { user: user, method: method }
      max_series: 5
    - { name: requests_total, type: counter, inputs: [in], labels: { code: "{{ .status }}", m: "{{ .method | lower }}" } }
    - { name: level, type: gauge, inputs: [in], value: status, operation: add, labels: { msg: message } }
    - { name: since_total, type: counter, inputs: [in], condition: 'status startsWith "2"', reset_on_scrape: true }
`)
		e := event.Event{Message: []byte(msg)}
		e.Fields.Set("method", event.String(method))
		e.Fields.Set("status", event.String(status))
		h.write(t, e, e)
		h.scrape(t, "")
		h.scrape(t, "application/openmetrics-text; version=1.0.0")
	})
}

// FuzzExposition writes random label values, exemplars and numbers through
// rules and reads the Prometheus text exposition back with expfmt's
// parser: every series must come back with the value and the label value
// it was given (invalid UTF-8 replaced by U+FFFD, byte by byte), and the
// OpenMetrics and protobuf scrapes must succeed.
func FuzzExposition(f *testing.F) {
	for _, s := range []struct {
		label, trace string
		v            float64
	}{
		{`a"b\c`, "abc", 1.5},
		{"line\nbreak", "", -3},
		{"\xff\xfe\xef\xbf\xbd", "\xff", 1e300},
		{"", "{}# ", 0},
		{`\n\"`, strings.Repeat("x", 130), 5e-324},
	} {
		f.Add(s.label, s.trace, s.v)
	}
	f.Fuzz(func(t *testing.T, label, trace string, v float64) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return // not a number a rule counts
		}
		h := newHarness(t, `  rules:
    - { name: g, type: gauge, inputs: [in], value: v, labels: { l: l }, timestamp: true }
    - { name: c_total, type: counter, inputs: [in], labels: { l: l }, exemplar: { trace_id: trace } }
    - { name: h, type: histogram, inputs: [in], value: v, labels: { l: l }, native: true, buckets: [0, 1], exemplar: { trace_id: trace } }
`)
		e := ev("", "l", label, "v", v, "trace", trace)
		h.write(t, e)
		want := strings.Map(func(r rune) rune { return r }, label) // invalid bytes -> U+FFFD
		p := expfmt.NewTextParser(model.UTF8Validation)
		mfs, err := p.TextToMetricFamilies(strings.NewReader(scrapeAll(t, h, "text/plain")))
		if err != nil {
			t.Fatalf("text exposition does not parse: %v", err)
		}
		for name, get := range map[string]func(*dto.Metric) float64{
			"g":       func(m *dto.Metric) float64 { return m.GetGauge().GetValue() },
			"c_total": func(m *dto.Metric) float64 { return m.GetCounter().GetValue() },
			"h":       func(m *dto.Metric) float64 { return m.GetHistogram().GetSampleSum() },
		} {
			mf := mfs[name]
			if mf == nil || len(mf.Metric) != 1 || len(mf.Metric[0].Label) != 1 {
				t.Fatalf("%s: %v", name, mf)
			}
			m := mf.Metric[0]
			if got := m.Label[0].GetValue(); got != want {
				t.Errorf("%s: label %q, want %q", name, got, want)
			}
			wantV := v
			if name == "c_total" {
				wantV = 1
			}
			if got := get(m); got != wantV {
				t.Errorf("%s: value %v, want %v", name, got, wantV)
			}
		}
		scrapeAll(t, h, "application/openmetrics-text; version=1.0.0")
		scrapeAll(t, h, "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited")
	})
}
