package exec

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds every wait on a real process.
const wait = 10 * time.Second

func newConfig(command ...string) *Config {
	c := &Config{Command: command}
	c.Defaults()
	c.Restart = RestartNever
	c.RestartBackoff = config.Duration(time.Millisecond)
	c.MaxBackoff = config.Duration(2 * time.Millisecond)
	c.StopTimeout = config.Duration(300 * time.Millisecond)
	return c
}

// syncBuffer is a bytes.Buffer safe for a logger used from goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is an exec source running in the background.
type running struct {
	src    *Source
	deps   component.Deps
	c      *testutil.Collector
	log    *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, cfg *Config, once bool) *running {
	t.Helper()
	r := &running{c: &testutil.Collector{}, log: &syncBuffer{}, done: make(chan error, 1)}
	r.deps = testutil.Deps(t, "cmd")
	r.deps.Once = once
	r.deps.Logger = slog.New(slog.NewTextHandler(r.log, nil))
	src, err := New(testutil.Validated(t, cfg), r.deps)
	if err != nil {
		t.Fatal(err)
	}
	r.src = src.(*Source)
	ctx, cancel := context.WithCancel(t.Context())
	r.cancel = cancel
	go func() { r.done <- src.Run(ctx, r.c.Emit) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-r.done:
			r.done <- err
		case <-time.After(wait):
			t.Error("Run did not return after cancel")
		}
	})
	return r
}

// result waits for Run to return by itself.
func (r *running) result(t *testing.T) error {
	t.Helper()
	select {
	case err := <-r.done:
		r.done <- err
		return err
	case <-time.After(wait):
		t.Fatal("Run did not return")
		return nil
	}
}

// stop cancels Run and returns its result and how long it took.
func (r *running) stop(t *testing.T) (time.Duration, error) {
	t.Helper()
	begin := time.Now()
	r.cancel()
	err := r.result(t)
	return time.Since(begin), err
}

// waitMessages waits until at least n messages arrived.
func (r *running) waitMessages(t *testing.T, n int) []string {
	t.Helper()
	if !testutil.Eventually(wait, func() bool { return len(r.c.Messages()) >= n }) {
		t.Fatalf("timed out waiting for %d messages, have %q", n, r.c.Messages())
	}
	return r.c.Messages()
}

func (r *running) counter(t *testing.T, name string, labels []string, values ...string) int {
	t.Helper()
	return counterValue(t, r.deps.Metrics.Counter(name, "", labels, values...))
}

func counterValue(t *testing.T, c prometheus.Counter) int {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return int(m.GetCounter().GetValue())
}

func TestOutput(t *testing.T) {
	dir := t.TempDir()
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		cfg        *Config
		want       []string
		wantStream string
	}{
		{"printf via sh", newConfig("sh", "-c", `printf 'a\nb\n'`), []string{"a", "b"}, "sh"},
		{"partial last line, no shell", newConfig("printf", `x\ny`), []string{"x", "y"}, "printf"},
		{"absolute path", newConfig("/bin/echo", "hi"), []string{"hi"}, "echo"},
		{"custom stream", func() *Config {
			c := newConfig("echo", "z")
			c.Stream = "app"
			return c
		}(), []string{"z"}, "app"},
		{"env and working_dir", func() *Config {
			c := newConfig("sh", "-c", `echo "$FOO"; echo "$HOME"; pwd`)
			c.Env = map[string]config.Secret{"FOO": "bar", "HOME": "/overridden"}
			c.WorkingDir = dir
			return c
		}(), []string{"bar", "/overridden", realDir}, "sh"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := start(t, tc.cfg, false)
			if err := r.result(t); err != nil {
				t.Fatalf("Run: %v", err)
			}
			testutil.Diff(t, tc.want, r.c.Messages())
			for _, e := range r.c.Events() {
				if e.Stream != tc.wantStream || e.Host == "" && hostname() != "" {
					t.Errorf("event stream %q host %q", e.Stream, e.Host)
				}
			}
			if n := r.counter(t, "exec_exits_total", []string{"status"}, "0"); n != 1 {
				t.Errorf("exec_exits_total{status=0} = %d, want 1", n)
			}
		})
	}
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

func TestRestartAlways(t *testing.T) {
	cfg := newConfig("echo", "x")
	cfg.Restart = RestartAlways
	r := start(t, cfg, false)
	r.waitMessages(t, 4)
	if _, err := r.stop(t); err != nil {
		t.Errorf("Run: %v", err)
	}
	msgs := r.c.Messages()
	restarts := counterValue(t, r.src.restarts)
	if restarts < 3 || restarts > len(msgs) {
		t.Errorf("%d restarts for %d runs", restarts, len(msgs))
	}
	for _, m := range msgs {
		if m != "x" {
			t.Errorf("unexpected message %q", m)
		}
	}
}

func TestRestartPolicy(t *testing.T) {
	for _, tc := range []struct {
		name     string
		restart  string
		once     bool
		failures int // runs that fail before one succeeds
		wantRuns int
		wantErr  string
	}{
		{"never after failure", RestartNever, false, 5, 1, "exit status 3"},
		{"never after success", RestartNever, false, 0, 1, ""},
		{"on_failure retries until success", RestartOnFailure, false, 2, 3, ""},
		{"on_failure stops on success", RestartOnFailure, false, 0, 1, ""},
		{"once mode overrides always", RestartAlways, true, 0, 1, ""},
		{"once mode reports failure", RestartAlways, true, 5, 1, "exit status 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runs := filepath.Join(t.TempDir(), "runs")
			// Each run appends a line to runs, prints its number, and fails
			// while fewer than tc.failures runs came before it.
			script := `n=$(cat "$RUNS" 2>/dev/null | wc -l); echo run >> "$RUNS"; echo "run $n"; [ "$n" -ge "$FAILURES" ] || exit 3`
			cfg := newConfig("sh", "-c", script)
			cfg.Restart = tc.restart
			cfg.Env = map[string]config.Secret{"RUNS": config.Secret(runs), "FAILURES": config.Secret(strconv.Itoa(tc.failures))}
			r := start(t, cfg, tc.once)
			err := r.result(t)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Run = %v, want error %q", err, tc.wantErr)
			}
			var want []string
			for i := range tc.wantRuns {
				want = append(want, "run "+strconv.Itoa(i))
			}
			testutil.Diff(t, want, r.c.Messages())
			if got := counterValue(t, r.src.restarts); got != tc.wantRuns-1 {
				t.Errorf("exec_restarts_total = %d, want %d", got, tc.wantRuns-1)
			}
			failed := min(tc.failures, tc.wantRuns)
			if got := r.counter(t, "exec_exits_total", []string{"status"}, "3"); got != failed {
				t.Errorf("exec_exits_total{status=3} = %d, want %d", got, failed)
			}
		})
	}
}

func TestStderr(t *testing.T) {
	for _, tc := range []struct {
		name       string
		mode       string
		wantEvents []string
		wantLog    bool
	}{
		{"emit", StderrEmit, []string{"stdout:out", "stderr:err"}, false},
		{"log", StderrLog, []string{"stdout:out"}, true},
		{"discard", StderrDiscard, []string{"stdout:out"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := newConfig("sh", "-c", `echo err >&2; echo out`)
			cfg.Stderr = tc.mode
			r := start(t, cfg, false)
			if err := r.result(t); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range r.c.Events() {
				fd := "stdout"
				if v, ok := e.Fields.Get("fd"); ok {
					fd = v.Str()
				}
				got = append(got, fd+":"+string(e.Message))
			}
			testutil.Diff(t, tc.wantEvents, sortedStdoutLast(got))
			logged := strings.Contains(r.log.String(), `msg="command stderr" line=err`)
			if logged != tc.wantLog {
				t.Errorf("stderr logged = %v, want %v; log:\n%s", logged, tc.wantLog, r.log.String())
			}
		})
	}
}

// sortedStdoutLast orders stdout events before stderr ones: the two pipes
// are read concurrently, so only the order within each is defined.
func sortedStdoutLast(evs []string) []string {
	var out, errs []string
	for _, e := range evs {
		if strings.HasPrefix(e, "stderr:") {
			errs = append(errs, e)
		} else {
			out = append(out, e)
		}
	}
	return append(out, errs...)
}

func TestStderrLogRateLimit(t *testing.T) {
	cfg := newConfig("sh", "-c", `i=0; while [ $i -lt 200 ]; do echo "line $i" >&2; i=$((i+1)); done`)
	cfg.Stderr = StderrLog
	r := start(t, cfg, false)
	if err := r.result(t); err != nil {
		t.Fatal(err)
	}
	log := r.log.String()
	n := strings.Count(log, `msg="command stderr"`)
	if n < stderrBurst || n > stderrBurst+30 {
		t.Errorf("%d stderr lines logged out of 200, want about %d", n, stderrBurst)
	}
	if !strings.Contains(log, `msg="command stderr lines suppressed" suppressed=`) {
		t.Errorf("suppressed count not logged:\n%s", log)
	}
	if !strings.Contains(log, `line="line 0"`) {
		t.Errorf("first line not logged:\n%s", log)
	}
}

func TestStartFailure(t *testing.T) {
	cfg := newConfig("/nonexistent/program")
	r := start(t, cfg, false)
	err := r.result(t)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Run = %v, want a not-exist error", err)
	}
	if n := r.counter(t, "exec_exits_total", []string{"status"}, "start_failed"); n != 1 {
		t.Errorf("exec_exits_total{status=start_failed} = %d", n)
	}

	cfg = newConfig("no-such-program-in-path")
	cfg.Restart = RestartAlways
	r = start(t, cfg, false)
	testutil.Eventually(wait, func() bool { return counterValue(t, r.src.restarts) >= 3 })
	if _, err := r.stop(t); err != nil {
		t.Errorf("Run after cancel: %v", err)
	}
	if n := counterValue(t, r.src.restarts); n < 3 {
		t.Errorf("a command that cannot start was restarted %d times, want it retried", n)
	}
}
