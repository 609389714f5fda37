package fifo

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sourcetest"
)

// TestConformance runs the source suite over a named pipe: each Feed is
// one writer, and bad input is a line over max_line_bytes.
func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{Type: "fifo", Setup: func(t testing.TB, dir string) *sourcetest.Fixture {
		path := filepath.Join(dir, "pipe")
		cfg := newConfig(path)
		cfg.MaxLineBytes = 200
		return &sourcetest.Fixture{
			New: func(t testing.TB, deps component.Deps) component.Source {
				s, err := New(testutil.Validated(t, cfg), deps)
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			Feed:      func(_ testing.TB, msgs []string) error { return sourcetest.WriteFIFO(path, msgs, wait) },
			Bad:       func(t testing.TB) { _ = sourcetest.WriteFIFO(path, []string{strings.Repeat("x", 300)}, wait) },
			BadMetric: "sluice_long_lines_total",
		}
	}})
}
