package sample_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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
	_ "github.com/sluice-log/sluice/internal/transform/sample"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestPipeline runs file → sample → file through the real pipeline, the
// way `sluice run --once` does: the source returns only once every event
// it read is acknowledged, so the run ending in time shows that the 900
// sampled-away events were released, and the output is exactly every
// tenth line.
func TestPipeline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var in, want []string
	for i := range 1000 {
		in = append(in, fmt.Sprintf("line %d", i))
		if i%10 == 0 {
			want = append(want, in[i])
		}
	}
	src, dst := filepath.Join(dir, "in.log"), filepath.Join(dir, "out.log")
	if err := os.WriteFile(src, []byte(strings.Join(in, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := runOnce(t, dir, fmt.Sprintf(`
sources:
  in: { type: file, include: [ %q ], read_from: beginning }
transforms:
  tenth: { type: sample, inputs: [ in ], rate: 10 }
sinks:
  out: { type: file, inputs: [ tenth ], path: %q, encoding: text }
`, src, dst))
	got, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, want, strings.Split(strings.TrimSuffix(string(got), "\n"), "\n"))
	testutil.Diff(t, 900.0, metric(t, reg, "sluice_transform_dropped_events_total", "reason", "sampled"))
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
