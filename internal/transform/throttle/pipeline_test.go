package throttle_test

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
	_ "github.com/sluice-log/sluice/internal/transform/throttle"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestPipeline runs file → throttle → two file sinks through the real
// pipeline, once: the first 100 lines pass (the burst; a 24 h window adds
// none while the test runs) and the other 900 arrive, in order, at the
// sink reading the dropped output. The run ending shows every event was
// acknowledged.
func TestPipeline(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var in []string
	for i := range 1000 {
		in = append(in, fmt.Sprintf("line %d", i))
	}
	src := filepath.Join(dir, "in.log")
	kept, over := filepath.Join(dir, "kept.log"), filepath.Join(dir, "over.log")
	if err := os.WriteFile(src, []byte(strings.Join(in, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	reg := runOnce(t, dir, fmt.Sprintf(`
sources:
  in: { type: file, include: [ %q ], read_from: beginning }
transforms:
  limit: { type: throttle, inputs: [ in ], threshold: 100, window: 24h, dropped_output: true }
sinks:
  kept: { type: file, inputs: [ limit ], path: %q, encoding: text }
  over: { type: file, inputs: [ limit.dropped ], path: %q, encoding: text }
`, src, kept, over))
	testutil.Diff(t, in[:100], lines(t, kept))
	testutil.Diff(t, in[100:], lines(t, over))
	testutil.Diff(t, 900.0, metric(t, reg, "sluice_throttle_limited_events_total", "component_id", "limit"))
	testutil.Diff(t, 0.0, metric(t, reg, "sluice_transform_dropped_events_total", "reason", "throttled"))
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
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
