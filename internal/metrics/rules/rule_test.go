package rules_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/logging"
	"github.com/sluice-log/sluice/internal/metrics/prom"
	"github.com/sluice-log/sluice/internal/metrics/store"
	"github.com/sluice-log/sluice/internal/telemetry"
	"github.com/sluice-log/sluice/internal/testutil"
)

// harness runs the rules of a metrics section against a fresh store and
// registry.
type harness struct {
	reg   *prometheus.Registry
	store *store.Store
	sinks []component.Sink
}

func newHarness(t testing.TB, metrics string) *harness {
	t.Helper()
	cfg, err := config.Parse("m.yaml", []byte("sources:\n  in: { type: stdin }\nmetrics:\n"+metrics), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{reg: prometheus.NewRegistry(), store: store.New(cfg.Metrics.MaxSeries, nil, nil)}
	h.reg.MustRegister(prom.New(h.store))
	tel := telemetry.New(h.reg)
	spec, _ := component.Lookup(component.KindSink, config.RuleType)
	for _, c := range cfg.Components {
		if c.Type != config.RuleType {
			continue
		}
		d := component.Deps{ID: c.ID, Logger: logging.New(io.Discard, 0, false, 0), DataDir: t.TempDir(),
			Metrics: tel.Component("sink", c.Type, c.ID), MetricsStore: h.store}
		s, err := spec.Build(c.Options, d)
		if err != nil {
			t.Fatal(err)
		}
		h.sinks = append(h.sinks, s.(component.Sink))
	}
	return h
}

func (h *harness) write(t testing.TB, evs ...event.Event) {
	t.Helper()
	for _, s := range h.sinks {
		if err := s.Write(t.Context(), &event.Batch{Events: evs}); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
}

// scrape returns the exposition's sample lines (no comments) whose metric
// name starts with one of prefixes, in exposition order; sluice's own
// series are left out where they are 0.
func (h *harness) scrape(t testing.TB, accept string, prefixes ...string) []string {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	promhttp.HandlerFor(h.reg, promhttp.HandlerOpts{EnableOpenMetrics: true}).ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	var out []string
	for _, l := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(l, "sluice_") && strings.HasSuffix(l, " 0") {
			continue
		}
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

func ev(msg string, kv ...any) event.Event {
	e := event.Event{Message: []byte(msg), Timestamp: time.Unix(0, 0)}
	for i := 0; i+1 < len(kv); i += 2 {
		e.Fields.Set(kv[i].(string), event.FromAny(kv[i+1]))
	}
	return e
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		rules  string
		events []event.Event
		want   []string
	}{
		{
			name: "counter by code and method",
			rules: `
    - name: http_requests_total
      type: counter
      inputs: [in]
      labels: { code: "{{ .status }}", method: method }`,
			events: []event.Event{ev("", "status", 200, "method", "GET"), ev("", "status", 200, "method", "GET"), ev("", "status", 404, "method", "POST")},
			want: []string{
				`http_requests_total{code="200",method="GET"} 2`,
				`http_requests_total{code="404",method="POST"} 1`,
				"sluice_metrics_series 2",
			},
		},
		{
			name: "condition and constant value",
			rules: `
    - { name: errors_total, type: counter, inputs: [in], condition: "status >= 500", value: 2 }`,
			events: []event.Event{ev("", "status", 200), ev("", "status", 503), ev("", "status", "502")},
			want:   []string{`errors_total 4`, `sluice_metrics_rule_skipped_total{component_id="metrics.errors_total",component_kind="sink",component_type="metrics_rule",rule="errors_total"} 1`, "sluice_metrics_series 1"},
		},
		{
			name: "gauge set",
			rules: `
    - { name: queue, type: gauge, inputs: [in], value: depth, labels: { q: name } }`,
			events: []event.Event{ev("", "name", "a", "depth", 5), ev("", "name", "a", "depth", "7.5"), ev("", "name", "b", "depth", 1)},
			want:   []string{`queue{q="a"} 7.5`, `queue{q="b"} 1`, "sluice_metrics_series 2"},
		},
		{
			name: "gauge add and sub",
			rules: `
    - { name: conns_up, type: gauge, inputs: [in], value: "1", operation: add, condition: 'op == "open"' }
    - { name: conns_down, type: gauge, inputs: [in], value: n, operation: sub, condition: 'op == "close"' }`,
			events: []event.Event{ev("", "op", "open"), ev("", "op", "open"), ev("", "op", "close", "n", 3)},
			want:   []string{`conns_down -3`, `conns_up 2`, `sluice_metrics_rule_skipped_total{component_id="metrics.conns_down",component_kind="sink",component_type="metrics_rule",rule="conns_down"} 2`, `sluice_metrics_rule_skipped_total{component_id="metrics.conns_up",component_kind="sink",component_type="metrics_rule",rule="conns_up"} 1`, "sluice_metrics_series 2"},
		},
		{
			name: "histogram from a regex capture",
			rules: `
    - name: took_seconds
      type: histogram
      inputs: [in]
      regex: 'took=(?P<took>\S+) path=(?P<path>\S+)'
      value: took
      labels: { path: path }
      buckets: [0.1, 1]`,
			events: []event.Event{ev("took=0.05 path=/a"), ev("took=0.1 path=/a"), ev("took=3 path=/a"), ev("no match")},
			want: []string{
				`sluice_metrics_rule_skipped_total{component_id="metrics.took_seconds",component_kind="sink",component_type="metrics_rule",rule="took_seconds"} 1`,
				"sluice_metrics_series 1",
				`took_seconds_bucket{path="/a",le="0.1"} 2`,
				`took_seconds_bucket{path="/a",le="1"} 2`,
				`took_seconds_bucket{path="/a",le="+Inf"} 3`,
				`took_seconds_sum{path="/a"} 3.15`,
				`took_seconds_count{path="/a"} 3`,
			},
		},
		{
			name: "linear buckets on a field",
			rules: `
    - { name: size, type: histogram, inputs: [in], value: bytes, linear_buckets: { start: 100, width: 100, count: 2 } }`,
			events: []event.Event{ev("", "bytes", 150), ev("", "bytes", 250)},
			want:   []string{`size_bucket{le="100"} 0`, `size_bucket{le="200"} 1`, `size_bucket{le="+Inf"} 2`, `size_sum 400`, `size_count 2`, "sluice_metrics_series 1"},
		},
		{
			name: "regex on another field, capture as label",
			rules: `
    - { name: logins_total, type: counter, inputs: [in], field: text, regex: 'from (?P<ip>[0-9.]+)', labels: { ip: ip, host: host } }`,
			events: []event.Event{func() event.Event { e := ev("", "text", "failed from 10.0.0.1"); e.Host = "h1"; return e }()},
			want:   []string{`logins_total{host="h1",ip="10.0.0.1"} 1`, "sluice_metrics_series 1"},
		},
		{
			name: "bad values are counted, not fatal",
			rules: `
    - { name: bytes_total, type: counter, inputs: [in], value: bytes, labels: { m: method } }`,
			events: []event.Event{ev("", "bytes", "-", "method", "GET"), ev("", "method", "GET"), ev("", "bytes", 10), ev("", "bytes", "abc", "method", "GET"), ev("", "bytes", 5, "method", "GET"),
				ev("", "bytes", "NaN", "method", "GET"), ev("", "bytes", "+Inf", "method", "GET"), ev("", "bytes", -3, "method", "GET"), ev("", "bytes", true, "method", "GET")},
			want: []string{
				`bytes_total{m="GET"} 5`,
				`sluice_metrics_rule_errors_total{component_id="metrics.bytes_total",component_kind="sink",component_type="metrics_rule",rule="bytes_total"} 8`,
				"sluice_metrics_series 1",
			},
		},
		{
			name: "allow and deny lists",
			rules: `
    - name: req_total
      type: counter
      inputs: [in]
      labels: { method: method, user: user }
      allow: { method: [GET, POST] }
      deny: { user: [root, "a\\xffb"] }`,
			events: []event.Event{ev("", "method", "GET", "user", "bob"), ev("", "method", "BREW", "user", "root"),
				ev("", "method", "", "user", "a\xffb"), ev("", "method", "POST", "user", "root")},
			want: []string{
				`req_total{method="GET",user="bob"} 1`,
				`req_total{method="POST",user="__other__"} 1`,
				`req_total{method="__other__",user="__other__"} 1`,
				"req_total{method=\"__other__\",user=\"a\ufffdb\"} 1", // invalid UTF-8 replaced, then not denied
				"sluice_metrics_series 4",
			},
		},
		{
			name: "max_series folds into the overflow series",
			rules: `
    - { name: failed_logins_total, type: counter, inputs: [in], labels: { ip: ip }, max_series: 2 }`,
			events: []event.Event{ev("", "ip", "a"), ev("", "ip", "b"), ev("", "ip", "c"), ev("", "ip", "d"), ev("", "ip", "a")},
			want: []string{
				`failed_logins_total{ip="__overflow__"} 2`,
				`failed_logins_total{ip="a"} 2`,
				`failed_logins_total{ip="b"} 1`,
				`sluice_metrics_series 3`,
				`sluice_metrics_series_folded_total{rule="failed_logins_total"} 2`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "  rules:"+tc.rules+"\n")
			h.write(t, tc.events...)
			got := h.scrape(t, "", "sluice_metrics_rule_errors", "sluice_metrics_rule_skipped", "sluice_metrics_series", "http_", "errors_", "queue", "conns", "took", "size", "logins", "bytes", "failed", "req_")
			testutil.Diff(t, tc.want, got)
		})
	}
}

func TestGlobalBudgetCountsRuleErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `  max_series: 2
  rules:
    - { name: a_total, type: counter, inputs: [in], labels: { k: k } }
`)
	h.write(t, ev("", "k", "1"), ev("", "k", "2"), ev("", "k", "3"), ev("", "k", "1"))
	testutil.Diff(t, []string{
		`a_total{k="1"} 2`,
		`a_total{k="2"} 1`,
		`sluice_metrics_rule_errors_total{component_id="metrics.a_total",component_kind="sink",component_type="metrics_rule",rule="a_total"} 1`,
		`sluice_metrics_series 2`,
		`sluice_metrics_series_refused_total 1`,
	}, h.scrape(t, "", "a_total", "sluice_metrics_rule_errors", "sluice_metrics_series"))
}

func TestResetOnScrape(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `  rules:
    - { name: reaction_match_count, type: counter, inputs: [in], labels: { ip: ip }, reset_on_scrape: true }
`)
	h.write(t, ev("", "ip", "1.2.3.4"), ev("", "ip", "1.2.3.4"))
	testutil.Diff(t, []string{`reaction_match_count{ip="1.2.3.4"} 2`}, h.scrape(t, "", "reaction"))
	testutil.Diff(t, []string{`reaction_match_count{ip="1.2.3.4"} 0`}, h.scrape(t, "", "reaction"))
	h.write(t, ev("", "ip", "1.2.3.4"))
	testutil.Diff(t, []string{`reaction_match_count{ip="1.2.3.4"} 1`}, h.scrape(t, "", "reaction"))
}
