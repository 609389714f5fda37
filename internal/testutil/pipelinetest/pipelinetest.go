// Package pipelinetest runs a config through the real pipeline once, the
// way `sluice run --once` does, for tests of components that need the
// whole path (source → transforms → sink, acknowledgements included). It
// is a package of its own because it imports pipeline, which testutil's
// users include.
package pipelinetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/logging"
	"github.com/sluice-log/sluice/internal/pipeline"
	"github.com/sluice-log/sluice/internal/telemetry"
	"github.com/sluice-log/sluice/internal/testutil"
)

// RunOnce applies yaml (with dir/data as the data dir) to a once-pipeline
// and waits, boundedly, for the run to end: the sources return only once
// every event they read is acknowledged, so the run ending in time shows
// that nothing was held. It returns the registry the pipeline's metrics
// went to. The caller registers the components yaml uses (blank imports).
func RunOnce(t *testing.T, dir, yaml string) *prometheus.Registry {
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

// Lines returns the lines of the file at path (a text file sink's output),
// without the final newline.
func Lines(t *testing.T, path string) []string {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
}
