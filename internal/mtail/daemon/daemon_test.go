package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
)

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func get(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestFollowServeReload: lines appended after start are counted (what was
// there before is skipped, as mtail starts at the end), a rotated file is
// read from its start, a partial line waits for its newline, /metrics and
// /json serve the values, and a reload with a changed program starts it
// afresh while a program that no longer compiles keeps running.
func TestFollowServeReload(t *testing.T) {
	dir := t.TempDir()
	progs, logs := filepath.Join(dir, "progs"), filepath.Join(dir, "logs")
	for _, d := range []string{progs, logs} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	prog := filepath.Join(progs, "count.mtail")
	if err := os.WriteFile(prog, []byte("counter hits by code\n/ (\\d{3}) / {\n  hits[$1]++\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(logs, "access.log")
	appendFile(t, log, "old 200 line\n")
	ctx, cancel := context.WithCancel(t.Context())
	addr := make(chan net.Addr, 1)
	reload := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Progs: progs, Logs: []string{filepath.Join(logs, "*.log")}, Address: "127.0.0.1",
			Port: "0", EmitProgLabel: true, PollInterval: 10 * time.Millisecond, ExpiredMetricsGCInterval: time.Hour,
			Logger: slog.New(slog.NewTextHandler(t.Output(), nil)), Reload: reload,
			Listening: func(a net.Addr) { addr <- a }})
	}()
	base := "http://" + (<-addr).String()
	metrics := func() string { return get(base + "/metrics") }
	appendFile(t, log, "a 200 x\nb 404 y\nc 200 z\npartial 500")
	testutil.WaitFor(t, 5*time.Second, "two 200s counted", func() bool {
		return strings.Contains(metrics(), `hits{code="200",prog="count.mtail"} 2`)
	})
	if m := metrics(); strings.Contains(m, `code="500"`) || !strings.Contains(m, `hits{code="404",prog="count.mtail"} 1`) {
		t.Errorf("partial line counted or 404 missing:\n%s", m)
	}
	appendFile(t, log, " end\n")
	testutil.WaitFor(t, 5*time.Second, "the completed line", func() bool {
		return strings.Contains(metrics(), `hits{code="500",prog="count.mtail"} 1`)
	})
	// Rotation: rename, new file at the same path, read from its start.
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, log, "d 200 new\n")
	testutil.WaitFor(t, 5*time.Second, "the rotated file's line", func() bool {
		return strings.Contains(metrics(), `hits{code="200",prog="count.mtail"} 3`)
	})
	if m := metrics(); !strings.Contains(m, fmt.Sprintf("log_rotations_total{logfile=%q} 1\n", log)) ||
		!strings.Contains(m, `mtail_vm_line_processing_duration_seconds_count{prog="count.mtail"}`) {
		t.Errorf("no rotation or processing time counted:\n%s", m)
	}
	if !strings.Contains(get(base+"/json"), `"Program": "count.mtail"`) {
		t.Errorf("/json: %s", get(base+"/json"))
	}
	// A broken program keeps the old one running.
	if err := os.WriteFile(prog, []byte("counter hits\n/x/ {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	reload <- struct{}{}
	appendFile(t, log, "e 200 after broken reload\n")
	testutil.WaitFor(t, 5*time.Second, "old program still counting", func() bool {
		return strings.Contains(metrics(), `hits{code="200",prog="count.mtail"} 4`)
	})
	// A changed program starts afresh.
	if err := os.WriteFile(prog, []byte("counter lines\n/$/ {\n  lines++\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	reload <- struct{}{}
	testutil.WaitFor(t, 5*time.Second, "new program loaded", func() bool {
		return strings.Contains(metrics(), `lines{prog="count.mtail"} 0`)
	})
	appendFile(t, log, "f\n")
	testutil.WaitFor(t, 5*time.Second, "new program counting", func() bool {
		return strings.Contains(metrics(), `lines{prog="count.mtail"} 1`)
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
