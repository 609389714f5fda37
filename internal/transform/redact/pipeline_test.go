package redact_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/logging"
	"github.com/sluice-log/sluice/internal/pipeline"
	_ "github.com/sluice-log/sluice/internal/sink/file"
	_ "github.com/sluice-log/sluice/internal/source/file"
	"github.com/sluice-log/sluice/internal/telemetry"
	"github.com/sluice-log/sluice/internal/testutil"
	_ "github.com/sluice-log/sluice/internal/transform/parse"
	_ "github.com/sluice-log/sluice/internal/transform/redact"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestPipeline runs file → parse (logfmt) → redact → file through the real
// pipeline, once, redacting the message and a parsed field, and checks the
// JSON lines written exactly.
func TestPipeline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "in.log"), filepath.Join(dir, "out.log")
	in := `user=jane@example.com ip=10.0.0.1 msg="paid with 4111 1111 1111 1111"
user=bob ip=::1 msg="Authorization: Bearer abcdefgh12345678"
user=none msg="order 4111111111111112 is not a card"
`
	if err := os.WriteFile(src, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := runOnce(t, dir, fmt.Sprintf(`
sources:
  in: { type: file, include: [ %q ], read_from: beginning }
transforms:
  kv: { type: parse, inputs: [ in ], format: logfmt }
  scrub:
    type: redact
    inputs: [ kv ]
    fields: [ message, user, msg ]
    replacement: "<{pattern}>"
sinks:
  out: { type: file, inputs: [ scrub ], path: %q, encoding: text }
`, src, dst))
	got, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, `user=<email> ip=<ipv4> msg="paid with <credit_card>"
user=bob ip=<ipv6> msg="Authorization: Bearer <bearer_token>"
user=none msg="order 4111111111111112 is not a card"
`, string(got))
	// Once in the message, once in the msg field.
	testutil.Diff(t, 2.0, metric(t, reg, "sluice_redact_redactions_total", "pattern", "credit_card"))
}

// runOnce applies yaml and waits, boundedly, for the once-run to end.
func runOnce(t *testing.T, dir, yaml string) *prometheus.Registry {
	t.Helper()
	cfg, err := config.Parse(t.Name(), []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	cfg.DataDir = filepath.Join(dir, "data")
	reg := prometheus.NewRegistry()
	p := pipeline.New(pipeline.Options{Logger: logging.New(t.Output(), 0, false, 0), Metrics: telemetry.New(reg), Once: true})
	if err := p.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { p.Wait(); close(done) }()
	testutil.WaitFor(t, time.Minute, "the once-run to end with every event acknowledged", func() bool {
		select {
		case <-done:
			return true
		default:
			return false
		}
	})
	p.Stop(10 * time.Second)
	return reg
}

// metric returns the value of the series of name with label = value.
func metric(t *testing.T, reg *prometheus.Registry, name, label, value string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no series %s{%s=%q}", name, label, value)
	return 0
}
