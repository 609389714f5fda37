package rules_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// featureRules use every exposition feature: units, exemplars, event
// timestamps, native and classic buckets, label values to escape.
const featureRules = `  rules:
    - name: http_requests_total
      type: counter
      help: 'Requests, by "code" \ path.'
      inputs: [in]
      labels: { code: code, path: path }
      exemplar: { trace_id: trace_id }
    - name: http_response_size_bytes
      type: histogram
      unit: bytes
      inputs: [in]
      value: size
      buckets: [100, 1000]
      exemplar: { trace_id: trace_id, span: "{{ .span }}" }
    - name: http_request_duration_seconds
      type: histogram
      unit: seconds
      inputs: [in]
      value: took
      native: true
      buckets: [0.1, 1]
    - name: latency_native_seconds
      type: histogram
      unit: seconds
      inputs: [in]
      value: took
      native: true
    - name: queue_depth
      type: gauge
      inputs: [in]
      value: size
      timestamp: true
`

// featureEvents are what featureRules count.
func featureEvents() []event.Event {
	at := func(e event.Event, sec int64) event.Event { e.Timestamp = time.Unix(sec, 0); return e }
	return []event.Event{
		at(ev("", "code", 200, "path", `/a"b`, "trace_id", "abc123", "size", 50, "took", 0.05), 1700000000),
		at(ev("", "code", 200, "path", "/c\\d\ne", "trace_id", "def456", "span", "s1", "size", 500, "took", 0.5), 1700000001),
		at(ev("", "code", 500, "path", "/x\xffy", "size", 5000, "took", 3), 1700000002),
	}
}

// scrapeAll scrapes h as sluice's /metrics handlers do (with _created
// lines in OpenMetrics), leaving out sluice's own series and _created
// lines (their values are the wall clock's).
func scrapeAll(t testing.TB, h *harness, accept string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", accept)
	promhttp.HandlerFor(h.reg, promhttp.HandlerOpts{EnableOpenMetrics: true, EnableOpenMetricsTextCreatedSamples: true}).ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func ruleLines(text string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(text, "\n") {
		if !strings.Contains(l, "sluice_") && !strings.Contains(l, "_created") {
			b.WriteString(l)
		}
	}
	return b.String()
}

// TestFeatureExposition checks the OpenMetrics exposition of every
// feature exactly: # UNIT, exemplars per bucket (a missing exemplar field
// gives none, an empty template value leaves its label out), sample
// timestamps, escaped label values and HELP.
func TestFeatureExposition(t *testing.T) {
	t.Parallel()
	h := newHarness(t, featureRules)
	h.write(t, featureEvents()...)
	om := scrapeAll(t, h, "application/openmetrics-text; version=1.0.0")
	testutil.Diff(t, `# HELP http_request_duration_seconds log-derived metric from rule http_request_duration_seconds
# TYPE http_request_duration_seconds histogram
# UNIT http_request_duration_seconds seconds
http_request_duration_seconds_bucket{le="0.1"} 1
http_request_duration_seconds_bucket{le="1.0"} 2
http_request_duration_seconds_bucket{le="+Inf"} 3
http_request_duration_seconds_sum 3.55
http_request_duration_seconds_count 3
# HELP http_requests Requests, by \"code\" \\ path.
# TYPE http_requests counter
http_requests_total{code="200",path="/a\"b"} 1.0 # {trace_id="abc123"} 1.0 1.7e+09
http_requests_total{code="200",path="/c\\d\ne"} 1.0 # {trace_id="def456"} 1.0 1.700000001e+09
http_requests_total{code="500",path="/x`+"\ufffd"+`y"} 1.0
# HELP http_response_size_bytes log-derived metric from rule http_response_size_bytes
# TYPE http_response_size_bytes histogram
# UNIT http_response_size_bytes bytes
http_response_size_bytes_bucket{le="100.0"} 1 # {trace_id="abc123"} 50.0 1.7e+09
http_response_size_bytes_bucket{le="1000.0"} 2 # {span="s1",trace_id="def456"} 500.0 1.700000001e+09
http_response_size_bytes_bucket{le="+Inf"} 3
http_response_size_bytes_sum 5550.0
http_response_size_bytes_count 3
# HELP latency_native_seconds log-derived metric from rule latency_native_seconds
# TYPE latency_native_seconds histogram
# UNIT latency_native_seconds seconds
latency_native_seconds_bucket{le="+Inf"} 3
latency_native_seconds_sum 3.55
latency_native_seconds_count 3
# HELP queue_depth log-derived metric from rule queue_depth
# TYPE queue_depth gauge
queue_depth 5000.0 1.700000002e+09
# EOF
`, ruleLines(om))
	if n := strings.Count(om, "http_requests_created{"); n != 3 {
		t.Errorf("%d http_requests_created lines, want 3:\n%s", n, om)
	}
	// Every format parses back: text with Go's own parser, protobuf below
	// (promtool and Prometheus check the rest in the integration tests).
	p := expfmt.NewTextParser(model.UTF8Validation)
	if _, err := p.TextToMetricFamilies(strings.NewReader(scrapeAll(t, h, "text/plain"))); err != nil {
		t.Errorf("text exposition does not parse: %v", err)
	}
}

func TestFeatureConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, rule, want string }{
		{"unit not in name", "{ name: took, type: histogram, value: v, unit: seconds, inputs: [in] }",
			`unit: OpenMetrics wants the name to end with the unit: "took" does not end with "_seconds" (e.g. name: took_seconds)`},
		{"counter unit before _total", "{ name: sent_total, type: counter, unit: bytes, inputs: [in] }",
			`(e.g. name: sent_bytes_total)`},
		{"bad unit", "{ name: x_s, type: gauge, value: v, unit: 's!', inputs: [in] }", `unit: "s!" is not a valid unit`},
		{"exemplar on a gauge", "{ name: g, type: gauge, value: v, exemplar: { t: t }, inputs: [in] }", "exemplar: only counters and histograms have exemplars"},
		{"exemplar on reset_on_scrape", "{ name: c_total, type: counter, reset_on_scrape: true, exemplar: { t: t }, inputs: [in] }", "exemplar: only counters and histograms"},
		{"bad exemplar label", "{ name: c_total, type: counter, exemplar: { __t: t }, inputs: [in] }", `exemplar: "__t" is not a valid label name`},
		{"bad exemplar template", "{ name: c_total, type: counter, exemplar: { t: '{{ .x ' }, inputs: [in] }", "exemplar: t:"},
		{"timestamp with reset_on_scrape", "{ name: c_total, type: counter, reset_on_scrape: true, timestamp: true, inputs: [in] }", "timestamp: a reset_on_scrape rule cannot have timestamps"},
		{"native counter", "{ name: c_total, type: counter, native: true, inputs: [in] }", "native: only histograms can be native"},
		{"native factor alone", "{ name: h, type: histogram, value: v, native_factor: 1.5, inputs: [in] }", "native_factor, native_max_buckets: set native: true too"},
		{"native factor 1", "{ name: h, type: histogram, value: v, native: true, native_factor: 1, inputs: [in] }", "native_factor: must be > 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parse(t, "  rules:\n    - "+tc.rule)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	for _, ok := range []string{
		"{ name: sent_bytes_total, type: counter, unit: bytes, inputs: [in] }",
		"{ name: sent_bytes, type: counter, unit: bytes, inputs: [in] }",
		"{ name: h, type: histogram, value: v, native: true, native_factor: 2, native_max_buckets: 50, inputs: [in] }",
	} {
		if _, err := parse(t, "  rules:\n    - "+ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
}

// TestExemplarTooLong: an exemplar longer than OpenMetrics allows (here 8
// + 121 > 128 characters) is not
// kept (it would fail the whole scrape), and is counted; the event counts.
func TestExemplarTooLong(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `  rules:
    - { name: c_total, type: counter, inputs: [in], exemplar: { trace_id: t } }
`)
	h.write(t, ev("", "t", strings.Repeat("x", 121)))
	got := h.scrape(t, "application/openmetrics-text; version=1.0.0", "c_total", "sluice_metrics_rule_exemplars_dropped_total")
	testutil.Diff(t, []string{"c_total 1.0", `sluice_metrics_rule_exemplars_dropped_total{component_id="metrics.c_total",component_kind="sink",component_type="metrics_rule",rule="c_total"} 1.0`}, got)
}

// TestNoAllocsWithExemplars: a rule with exemplars and timestamps also
// counts into existing series without allocating.
func TestNoAllocsWithExemplars(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	h := newHarness(t, `  rules:
    - { name: a_total, type: counter, inputs: [in], labels: { code: status }, exemplar: { path: path, m: "{{ .method }}" }, timestamp: true }
    - { name: b, type: histogram, inputs: [in], value: body_bytes_sent, native: true, buckets: [10, 100], exemplar: { p: path } }
`)
	bt := &event.Batch{Events: accessEvents()}
	h.write(t, bt.Events...)
	allocs := testing.AllocsPerRun(100, func() {
		for _, s := range h.sinks {
			if err := s.Write(t.Context(), bt); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per batch, want 0", allocs)
	}
}

func BenchmarkCounterExemplar(b *testing.B) {
	benchRule(b, `  rules:
    - { name: http_requests_total, type: counter, inputs: [in], labels: { code: status }, exemplar: { path: path } }
`, accessEvents())
}

func BenchmarkHistogramNative(b *testing.B) {
	benchRule(b, `  rules:
    - { name: bytes, type: histogram, inputs: [in], value: body_bytes_sent, labels: { method: method }, native: true }
`, accessEvents())
}
