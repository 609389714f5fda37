package prom_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluice-log/sluice/internal/metrics/prom"
	"github.com/sluice-log/sluice/internal/metrics/store"
	"github.com/sluice-log/sluice/internal/testutil"
)

// TestCollector gathers a store through a pedantic registry, which checks
// every collected metric for consistency.
func TestCollector(t *testing.T) {
	t.Parallel()
	s := store.New(0, nil, nil)
	h := s.Family(store.Options{Name: "lat", Help: "Latency.", Kind: store.Histogram, Labels: []string{"p"}, Buckets: []float64{1, 2}})
	h.Observe(store.AppendKeyString(nil, "/"), 0.5)
	h.Observe(store.AppendKeyString(nil, "/"), 1.5)
	h.Observe(store.AppendKeyString(nil, "/"), 9)
	g := s.Family(store.Options{Name: "temp", Help: "Temperature.", Kind: store.Gauge})
	g.Set(nil, -4.5)
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(prom.New(s))
	want := `# HELP lat Latency.
# TYPE lat histogram
lat_bucket{p="/",le="1"} 1
lat_bucket{p="/",le="2"} 2
lat_bucket{p="/",le="+Inf"} 3
lat_sum{p="/"} 11
lat_count{p="/"} 3
# HELP sluice_metrics_series Series of log-derived metrics in memory, overflow series included.
# TYPE sluice_metrics_series gauge
sluice_metrics_series 2
# HELP temp Temperature.
# TYPE temp gauge
temp -4.5
`
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	var got strings.Builder
	for _, l := range strings.SplitAfter(rec.Body.String(), "\n") {
		if !strings.Contains(l, "folded") && !strings.Contains(l, "refused") {
			got.WriteString(l)
		}
	}
	testutil.Diff(t, want, got.String())
}
