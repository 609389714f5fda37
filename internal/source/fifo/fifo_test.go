package fifo

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds every wait on the real pipe.
const wait = 5 * time.Second

func newConfig(path string) *Config {
	c := &Config{Path: path}
	c.Defaults()
	return c
}

// running is a fifo source running in the background.
type running struct {
	src    *Source
	c      *testutil.Collector
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, cfg *Config, once bool) *running {
	t.Helper()
	deps := testutil.Deps(t, "pipe")
	deps.Once = once
	src, err := New(testutil.Validated(t, cfg), deps)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	r := &running{src: src.(*Source), c: &testutil.Collector{}, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- src.Run(ctx, r.c.Emit) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(wait):
			t.Error("Run did not return after cancel")
		}
	})
	return r
}

// stop cancels and returns Run's result, failing if it takes long.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- nil // for the cleanup; err is the caller's to check
		return err
	case <-time.After(wait):
		t.Fatal("Run did not return promptly after cancel")
		return nil
	}
}

// waitMessages waits until n messages arrived.
func (r *running) waitMessages(t *testing.T, n int) []string {
	t.Helper()
	if !testutil.Eventually(wait, func() bool { return len(r.c.Messages()) >= n }) {
		t.Fatalf("timed out waiting for %d messages, have %q", n, r.c.Messages())
	}
	return r.c.Messages()
}

// openWriter opens path for writing once a reader has it open.
func openWriter(t *testing.T, path string) *os.File {
	t.Helper()
	var f *os.File
	opened := testutil.Eventually(wait, func() bool {
		var err error
		f, err = os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err != nil && !errors.Is(err, unix.ENXIO) && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		return err == nil
	})
	if !opened {
		t.Fatalf("no reader opened %s", path)
	}
	return f
}

func write(t *testing.T, path, s string) {
	t.Helper()
	w := openWriter(t, path)
	if _, err := w.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestWritersInSequence(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.pipe")
	r := start(t, newConfig(path), false)
	write(t, path, "a\nb\npartial")
	// The partial line is emitted when its writer closes, not glued to the
	// next writer's first line.
	testutil.Diff(t, []string{"a", "b", "partial"}, r.waitMessages(t, 3))
	write(t, path, "c\n")
	write(t, path, "d\ne\n")
	testutil.Diff(t, []string{"a", "b", "partial", "c", "d", "e"}, r.waitMessages(t, 6))
	if err := r.stop(t); err != nil {
		t.Errorf("Run: %v", err)
	}
	for _, e := range r.c.Events() {
		if e.Stream != path {
			t.Errorf("stream %q, want the path", e.Stream)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&fs.ModeNamedPipe == 0 || fi.Mode().Perm()&0o077 != 0 {
		t.Errorf("created %v, want a named pipe with mode 0600", fi.Mode())
	}
}

// TestInteractive keeps the writer open: a line must arrive on its own.
func TestInteractive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	cfg := newConfig(path)
	cfg.Stream = "custom"
	r := start(t, cfg, false)
	w := openWriter(t, path)
	defer w.Close()
	if _, err := w.WriteString("first\n"); err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, []string{"first"}, r.waitMessages(t, 1))
	if s := r.c.Events()[0].Stream; s != "custom" {
		t.Errorf("stream %q", s)
	}
}

func TestCancelWithoutWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	r := start(t, newConfig(path), false)
	openWriter(t, path).Close() // a writer came and went without writing
	// A writer after it: had the silent one produced anything, it would
	// come before this line.
	write(t, path, "after\n")
	r.waitMessages(t, 1)
	begin := time.Now()
	if err := r.stop(t); err != nil {
		t.Errorf("Run: %v", err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Errorf("cancel took %v", d)
	}
	testutil.Diff(t, []string{"after"}, r.c.Messages())
}

// TestNoBusyWait checks that waiting for a writer, before the first one and
// after one left without writing or with writing, parks in the poller
// instead of spinning on read(2).
func TestNoBusyWait(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	s := &Source{path: path, create: true}
	f, err := s.open()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := newPipeReader(f)
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		n   int
		err error
	}
	results := make(chan result, 1)
	read := func() {
		go func() {
			n, err := r.Read(make([]byte, 64))
			results <- result{n, err}
		}()
	}
	expect := func(wantN int, wantErr error) {
		t.Helper()
		select {
		case res := <-results:
			if res.n != wantN || !errors.Is(res.err, wantErr) {
				t.Fatalf("Read = %d, %v; want %d, %v", res.n, res.err, wantN, wantErr)
			}
		case <-time.After(wait):
			t.Fatal("Read did not return")
		}
	}
	// The sleeps give a busy loop time to show in r.calls, which is checked
	// against a bound, not an exact count; nothing waits on them.
	read()
	time.Sleep(50 * time.Millisecond)
	openWriter(t, path).Close() // silent writer
	time.Sleep(50 * time.Millisecond)
	write(t, path, "abc")
	expect(3, nil)
	read()
	expect(0, io.EOF)
	read()
	time.Sleep(100 * time.Millisecond) // the writer is gone: hang-up state
	if err := f.SetReadDeadline(time.Unix(1, 0)); err != nil {
		t.Fatal(err)
	}
	expect(0, os.ErrDeadlineExceeded)
	t.Logf("read(2) calls: %d", r.calls)
	if r.calls > 12 {
		t.Errorf("%d read(2) calls for 3 reads: busy loop", r.calls)
	}
}

func TestOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	r := start(t, newConfig(path), true)
	write(t, path, "x\ny")
	select {
	case err := <-r.done:
		r.done <- nil // for the cleanup, which need not report err again
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(wait):
		t.Fatal("once mode did not return when the writer closed")
	}
	testutil.Diff(t, []string{"x", "y"}, r.c.Messages())
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "file")
	if err := os.WriteFile(regular, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		path    string
		create  bool
		wantErr error
	}{
		{"missing and create false", filepath.Join(dir, "missing"), false, fs.ErrNotExist},
		{"regular file", regular, true, errNotFIFO},
		{"directory", dir, true, errNotFIFO},
		{"parent missing", filepath.Join(dir, "no", "p"), true, fs.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := newConfig(tc.path)
			cfg.Create = tc.create
			src, err := New(testutil.Validated(t, cfg), testutil.Deps(t, "p"))
			if err != nil {
				t.Fatal(err)
			}
			err = src.(component.Starter).Start(t.Context())
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.path) {
				t.Errorf("Start: got %v, want %v naming %s", err, tc.wantErr, tc.path)
			}
			var c testutil.Collector
			err = src.Run(t.Context(), c.Emit) // without Start: opens, and fails the same
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("Run: got %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// TestStartThenCancelledRun: Start creates and opens the pipe; Run with a
// context already done closes it and returns at once.
func TestStartThenCancelledRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p")
	src, err := New(testutil.Validated(t, newConfig(path)), testutil.Deps(t, "p"))
	if err != nil {
		t.Fatal(err)
	}
	fds := openFiles(t)
	if err := src.(component.Starter).Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := checkFIFO(os.Stat(path)); err != nil {
		t.Fatalf("Start did not create the pipe: %v", err)
	}
	if got := openFiles(t); got != fds+1 {
		t.Errorf("%d files open after Start, want %d", got, fds+1)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var c testutil.Collector
	if err := src.Run(ctx, c.Emit); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := openFiles(t); got != fds {
		t.Errorf("%d files open after Run returned, want %d", got, fds)
	}
}

// openFiles counts this process's open file descriptors.
func openFiles(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open files: %v", err)
	}
	return len(ents)
}

func TestConfig(t *testing.T) {
	if err := (&Config{}).Validate(); err == nil || !strings.Contains(err.Error(), "path") {
		t.Errorf("missing path: got %v", err)
	}
	cfg := newConfig("/x")
	cfg.LongLines = "bad"
	if err := cfg.Validate(); err == nil {
		t.Error("bad long_lines accepted")
	}
	spec, ok := component.Lookup(component.KindSource, "fifo")
	if !ok {
		t.Fatal("fifo source not registered")
	}
	if c := spec.NewConfig().(*Config); !c.Create || c.BatchLines != 1000 {
		t.Errorf("defaults not applied: %+v", c)
	}
}
