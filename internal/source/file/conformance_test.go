package file

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sourcetest"
)

// TestConformance runs the source suite over one followed file: Feed
// appends lines, bad input is a line over max_line_bytes, and the
// checkpoint is the file's committed offset in checkpoints.json.
func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{Type: "file", Replay: true, Setup: func(t testing.TB, dir string) *sourcetest.Fixture {
		path := filepath.Join(dir, "app.log")
		cfg := &Config{}
		cfg.Defaults()
		cfg.Include = []string{filepath.Join(dir, "*.log")}
		cfg.ReadFrom = "beginning"
		cfg.GlobInterval = cfgDur(20 * time.Millisecond)
		cfg.PollInterval = cfgDur(10 * time.Millisecond)
		cfg.CheckpointInterval = cfgDur(10 * time.Millisecond)
		cfg.MaxLineBytes = 200
		var (
			mu      sync.Mutex
			ends    []int64 // where each fed message's line ends
			size    int64
			dataDir string
		)
		appendLines := func(t testing.TB, lines []string, good bool) {
			mu.Lock()
			defer mu.Unlock()
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			for _, l := range lines {
				if _, err := f.WriteString(l + "\n"); err != nil {
					t.Fatal(err)
				}
				size += int64(len(l) + 1)
				if good {
					ends = append(ends, size)
				}
			}
		}
		return &sourcetest.Fixture{
			New: func(t testing.TB, deps component.Deps) component.Source {
				dataDir = deps.DataDir
				s, err := New(testutil.Validated(t, cfg), deps)
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			Feed: func(t testing.TB, msgs []string) error {
				appendLines(t, msgs, true)
				return nil
			},
			Bad:       func(t testing.TB) { appendLines(t, []string{strings.Repeat("x", 300)}, false) },
			BadMetric: "sluice_file_long_lines_total",
			Committed: func(t testing.TB) int {
				off := committedOffset(t, dataDir, path)
				mu.Lock()
				defer mu.Unlock()
				n := 0
				for n < len(ends) && ends[n] <= off {
					n++
				}
				return n
			},
		}
	}})
}

// committedOffset reads the committed offset of path from the checkpoint
// in dataDir; 0 when there is none yet.
func committedOffset(t testing.TB, dataDir, path string) int64 {
	data, err := os.ReadFile(filepath.Join(dataDir, checkpointFile))
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	var st state
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("decoding checkpoint: %v", err)
	}
	for _, e := range st.Files {
		if e.Path == path {
			return e.Offset
		}
	}
	return 0
}
