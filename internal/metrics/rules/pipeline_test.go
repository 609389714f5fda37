package rules_test

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/logging"
	"github.com/sluice-log/sluice/internal/metrics/prom"
	"github.com/sluice-log/sluice/internal/metrics/rules"
	"github.com/sluice-log/sluice/internal/metrics/store"
	"github.com/sluice-log/sluice/internal/pipeline"
	_ "github.com/sluice-log/sluice/internal/source/file"
	"github.com/sluice-log/sluice/internal/telemetry"
	"github.com/sluice-log/sluice/internal/testutil"
	_ "github.com/sluice-log/sluice/internal/transform/parse"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const accessLog = `10.0.0.1 - - [06/Dec/2026:03:00:00 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8"
10.0.0.2 - - [06/Dec/2026:03:00:01 +0000] "GET /x HTTP/1.1" 404 153 "-" "curl/8"
10.0.0.1 - - [06/Dec/2026:03:00:02 +0000] "POST /api HTTP/1.1" 200 20 "-" "curl/8"
10.0.0.3 - - [06/Dec/2026:03:00:03 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8"
not an access log line
`

// TestPipeline runs a file source, the nginx_combined parser and two rules
// through the real pipeline, once, and scrapes the result.
func TestPipeline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	if err := os.WriteFile(log, []byte(accessLog), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("m.yaml", []byte(`
sources:
  nginx: { type: file, include: [ `+log+` ], read_from: beginning }
transforms:
  access: { type: parse, inputs: [ nginx ], format: nginx_combined }
metrics:
  rules:
    - name: http_requests_total
      type: counter
      inputs: [ access ]
      labels: { code: "{{ .status }}", method: "{{ .method }}" }
    - name: http_response_bytes
      type: histogram
      inputs: [ "*" ]
      condition: 'status != nil'
      value: body_bytes_sent
      linear_buckets: { start: 100, width: 500, count: 2 }
`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = dir
	h := &harness{reg: prometheus.NewRegistry(), store: store.New(0, nil, nil)}
	h.reg.MustRegister(prom.New(h.store))
	p := pipeline.New(pipeline.Options{Logger: logging.New(io.Discard, 0, false, 0),
		Metrics: telemetry.New(h.reg), Once: true, MetricsStore: h.store})
	if err := p.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	p.Wait()
	p.Stop(10 * time.Second)
	testutil.Diff(t, []string{
		`http_requests_total{code="",method=""} 1`, // the line that is not an access log
		`http_requests_total{code="200",method="GET"} 2`,
		`http_requests_total{code="200",method="POST"} 1`,
		`http_requests_total{code="404",method="GET"} 1`,
		// "*" reads both the source and the parser: the raw lines have no status.
		`http_response_bytes_bucket{le="100"} 1`,
		`http_response_bytes_bucket{le="600"} 2`,
		`http_response_bytes_bucket{le="+Inf"} 4`,
		`http_response_bytes_sum 1397`,
		`http_response_bytes_count 4`,
	}, h.scrape(t, "", "http_"))
	testutil.Diff(t, true, strings.Contains(strings.Join(h.scrape(t, "", "sluice_metrics_rule_skipped_total"), "\n"),
		`rule="http_response_bytes"} 6`))
}

// TestReload applies a second config to a running pipeline: the unchanged
// rule keeps its series, the changed one starts over, the removed one's go.
func TestReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	log := filepath.Join(dir, "app.log")
	if err := os.WriteFile(log, []byte("x\ny\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	parse := func(rules string) *config.Config {
		cfg, err := config.Parse("m.yaml", []byte(`
sources:
  app: { type: file, include: [ `+log+` ], read_from: beginning }
metrics:
  rules:
`+rules), noEnv)
		if err != nil {
			t.Fatal(err)
		}
		cfg.DataDir = dir
		return cfg
	}
	same := "    - { name: same_total, type: counter, inputs: [ app ] }\n"
	h := &harness{reg: prometheus.NewRegistry(), store: store.New(0, nil, nil)}
	h.reg.MustRegister(prom.New(h.store))
	p := pipeline.New(pipeline.Options{Logger: logging.New(io.Discard, 0, false, 0), Metrics: telemetry.New(h.reg), MetricsStore: h.store})
	defer p.Stop(10 * time.Second)
	apply := func(cfg *config.Config) {
		if err := p.Apply(cfg); err != nil {
			t.Fatal(err)
		}
		rules.Retain(h.store, cfg)
	}
	apply(parse(same +
		"    - { name: changed_total, type: counter, inputs: [ app ] }\n" +
		"    - { name: removed_total, type: counter, inputs: [ app ] }\n"))
	want := []string{"changed_total 2", "removed_total 2", "same_total 2"}
	h.waitFor(t, want, "same", "changed", "removed")
	apply(parse(same + "    - { name: changed_total, type: counter, inputs: [ app ], help: now with help }\n"))
	testutil.Diff(t, []string{"same_total 2"}, h.scrape(t, "", "same", "changed", "removed"))
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("z\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	h.waitFor(t, []string{"changed_total 1", "same_total 3"}, "same", "changed", "removed")
}

// waitFor scrapes until the lines with prefixes are want, for up to 10s.
func (h *harness) waitFor(t *testing.T, want []string, prefixes ...string) {
	t.Helper()
	var got []string
	if !testutil.Eventually(10*time.Second, func() bool {
		got = h.scrape(t, "", prefixes...)
		return slices.Equal(got, want)
	}) {
		testutil.Diff(t, want, got)
		t.FailNow()
	}
}
