package sample_test

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
	reg := pipelinetest.RunOnce(t, dir, fmt.Sprintf(`
sources:
  in: { type: file, include: [ %q ], read_from: beginning }
transforms:
  tenth: { type: sample, inputs: [ in ], rate: 10 }
sinks:
  out: { type: file, inputs: [ tenth ], path: %q, encoding: text }
`, src, dst))
	testutil.Diff(t, want, pipelinetest.Lines(t, dst))
	testutil.Diff(t, 900.0, testutil.GatheredCounter(t, reg, "sluice_transform_dropped_events_total", "reason", "sampled"))
}
