package exec

import (
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sourcetest"
)

// TestConformance runs the source suite over a command that copies what
// is written into a named pipe to its output, writer after writer; bad
// input is a line over max_line_bytes. cat holds the pipe open read-write
// for its whole life: a `while cat` loop lost a writer that opened the pipe
// between one cat's end of file and its exit, since the kernel discards a
// pipe's data when its last reader closes.
func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{Type: "exec", Setup: func(t testing.TB, dir string) *sourcetest.Fixture {
		path := filepath.Join(dir, "input")
		if err := unix.Mkfifo(path, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := newConfig("sh", "-c", `exec cat <>"$0"`, path)
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
			Bad:       func(testing.TB) { _ = sourcetest.WriteFIFO(path, []string{strings.Repeat("x", 300)}, wait) },
			BadMetric: "sluice_long_lines_total",
		}
	}})
}
