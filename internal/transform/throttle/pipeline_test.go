package throttle_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	_ "github.com/sluice-log/sluice/internal/sink/file"
	_ "github.com/sluice-log/sluice/internal/source/file"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/pipelinetest"
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
	reg := pipelinetest.RunOnce(t, dir, fmt.Sprintf(`
sources:
  in: { type: file, include: [ %q ], read_from: beginning }
transforms:
  limit: { type: throttle, inputs: [ in ], threshold: 100, window: 24h, dropped_output: true }
sinks:
  kept: { type: file, inputs: [ limit ], path: %q, encoding: text }
  over: { type: file, inputs: [ limit.dropped ], path: %q, encoding: text }
`, src, kept, over))
	testutil.Diff(t, in[:100], pipelinetest.Lines(t, kept))
	testutil.Diff(t, in[100:], pipelinetest.Lines(t, over))
	testutil.Diff(t, 900.0, testutil.GatheredCounter(t, reg, "sluice_throttle_limited_events_total", "component_id", "limit"))
	testutil.Diff(t, 0.0, testutil.GatheredCounter(t, reg, "sluice_transform_dropped_events_total", "reason", "throttled"))
}
