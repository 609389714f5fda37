package journald

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sourcetest"
)

// fakeJournalctl stands in for journalctl: the journal is a file of JSON
// entries whose cursor is "c" and the line number, printed from after
// --after-cursor, and followed with tail -f under --follow.
const fakeJournalctl = `#!/bin/sh
after=0
follow=
for a in "$@"; do
	case "$a" in
	--after-cursor=c*) after=${a#--after-cursor=c} ;;
	--follow) follow=-f ;;
	esac
done
exec tail -n +$((after + 1)) $follow %q
`

// TestConformance runs the source suite over the fake journalctl: Feed
// appends entries, bad input is a line that is not JSON, and the
// checkpoint is the cursor file.
func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{Type: "journald", Replay: true, Setup: func(t testing.TB, dir string) *sourcetest.Fixture {
		journal := filepath.Join(dir, "journal.jsonl")
		script := filepath.Join(dir, "journalctl")
		if err := os.WriteFile(journal, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(script, fmt.Appendf(nil, fakeJournalctl, journal), 0o755); err != nil {
			t.Fatal(err)
		}
		cfg := &Config{}
		cfg.Defaults()
		cfg.Journalctl = script
		cfg.ReadFrom = "beginning"
		var (
			mu      sync.Mutex
			lines   int   // lines in the journal
			good    []int // line numbers of the fed entries
			dataDir string
		)
		appendLines := func(t testing.TB, msgs []string, bad bool) {
			mu.Lock()
			defer mu.Unlock()
			var b strings.Builder
			for _, m := range msgs {
				lines++
				if bad {
					b.WriteString(m + "\n")
					continue
				}
				good = append(good, lines)
				entry, err := json.Marshal(map[string]string{"__CURSOR": "c" + strconv.Itoa(lines),
					"__REALTIME_TIMESTAMP": "1700000000000000", "MESSAGE": m, "_SYSTEMD_UNIT": "app.service"})
				if err != nil {
					t.Fatal(err)
				}
				b.Write(append(entry, '\n'))
			}
			f, err := os.OpenFile(journal, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteString(b.String()); err != nil {
				t.Fatal(err)
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
				appendLines(t, msgs, false)
				return nil
			},
			Bad:       func(t testing.TB) { appendLines(t, []string{"this is not JSON"}, true) },
			BadMetric: "sluice_component_errors_total",
			Committed: func(t testing.TB) int {
				data, err := os.ReadFile(filepath.Join(dataDir, "cursor"))
				if os.IsNotExist(err) {
					return 0
				}
				if err != nil {
					t.Fatal(err)
				}
				line, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(string(data)), "c"))
				if err != nil {
					t.Fatalf("cursor %q: %v", data, err)
				}
				mu.Lock()
				defer mu.Unlock()
				n := 0
				for n < len(good) && good[n] <= line {
					n++
				}
				return n
			},
		}
	}})
}
