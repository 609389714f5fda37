package stdin

import (
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sourcetest"
)

// TestConformance runs the source suite over a pipe standing in for
// standard input, a new one for each instance (a restarted sluice gets
// new input); bad input is a line over max_line_bytes.
func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{Type: "stdin", Setup: func(t testing.TB, _ string) *sourcetest.Fixture {
		cfg := newConfig()
		cfg.MaxLineBytes = 200
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
				s, err := NewFromReader(testutil.Validated(t, cfg), deps, r)
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			Feed:      func(_ testing.TB, msgs []string) error { return write(msgs) },
			Bad:       func(testing.TB) { _ = write([]string{strings.Repeat("x", 300)}) },
			BadMetric: "sluice_long_lines_total",
		}
	}})
}
