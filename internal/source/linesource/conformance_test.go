package linesource

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sourcetest"
)

// pipeSource is the smallest source on a Pump: one reader, interrupted by
// closing it, as stdin, exec and fifo use the package.
type pipeSource struct {
	r    *io.PipeReader
	opts Options
}

func (s *pipeSource) Run(ctx context.Context, emit component.Emit) error {
	err := Pump(ctx, Input{R: s.r, Interrupt: func() { _ = s.r.Close() }}, emit, &s.opts)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// TestConformance runs the source suite over Pump itself (the batcher,
// the arena per batch, the long-line policy and the metrics it counts),
// fed through a new pipe per instance; bad input is a line over
// max_line_bytes.
func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{Type: "lines", Setup: func(t testing.TB, _ string) *sourcetest.Fixture {
		cfg := testutil.NewConfig(t, func(c *Config) { c.MaxLineBytes = 200 })
		var (
			mu sync.Mutex
			w  *io.PipeWriter
		)
		write := func(lines []string) error {
			mu.Lock()
			defer mu.Unlock()
			_, err := io.WriteString(w, strings.Join(lines, "\n")+"\n")
			return err
		}
		return &sourcetest.Fixture{
			New: func(t testing.TB, deps component.Deps) component.Source {
				r, pw := io.Pipe()
				mu.Lock()
				w = pw
				mu.Unlock()
				return &pipeSource{r: r, opts: cfg.Options(deps, "pipe")}
			},
			Feed:      func(_ testing.TB, msgs []string) error { return write(msgs) },
			Bad:       func(testing.TB) { _ = write([]string{strings.Repeat("x", 300)}) },
			BadMetric: "sluice_long_lines_total",
		}
	}})
}
