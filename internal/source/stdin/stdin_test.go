package stdin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
	"go.yaml.in/yaml/v4"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/telemetry"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestMain(m *testing.M) {
	if os.Getenv("SLUICE_STDIN_HELPER") == "1" {
		helperMain()
		return
	}
	goleak.VerifyTestMain(m)
}

// helperMain runs the stdin source on the real standard input and prints
// each event's stream and message, for TestRealStdin.
func helperMain() {
	cfg := newConfig()
	if err := cfg.Validate(); err != nil { // as the config loader does
		fmt.Println("error:", err)
		os.Exit(1)
	}
	deps := component.Deps{ID: "in", Logger: slog.New(slog.DiscardHandler), Metrics: telemetry.Discard("source", "stdin", "in")}
	src, err := New(cfg, deps)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	emit := func(_ context.Context, b *event.Batch) error {
		for _, e := range b.Events {
			fmt.Printf("%s|%s\n", e.Stream, e.Message)
		}
		return nil
	}
	if err := src.Run(context.Background(), emit); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func newConfig() *Config {
	c := &Config{}
	c.Defaults()
	return c
}

func TestRun(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     string
		stream string
		once   bool
		want   []string
	}{
		{"lines and partial last line", "a\nb\nlast", "", false, []string{"stdin|a", "stdin|b", "stdin|last"}},
		{"empty input", "", "", false, nil},
		{"custom stream", "x\n", "api", false, []string{"api|x"}},
		{"once mode", "x\ny\n", "", true, []string{"stdin|x", "stdin|y"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := newConfig()
			if tc.stream != "" {
				cfg.Stream = tc.stream
			}
			deps := testutil.Deps(t, "in")
			deps.Once = tc.once
			src, err := NewFromReader(testutil.Validated(t, cfg), deps, strings.NewReader(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			var c testutil.Collector
			if err := src.Run(t.Context(), c.Emit); err != nil {
				t.Fatalf("Run: %v", err)
			}
			var got []string
			for _, e := range c.Events() {
				got = append(got, e.Stream+"|"+string(e.Message))
			}
			testutil.Diff(t, tc.want, got)
		})
	}
}

// TestInteractive types a line and waits: it must arrive on its own.
func TestInteractive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pr, pw := io.Pipe()
		src, err := NewFromReader(testutil.Validated(t, newConfig()), testutil.Deps(t, "in"), pr)
		if err != nil {
			t.Fatal(err)
		}
		c := &testutil.Collector{}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- src.Run(ctx, c.Emit) }()
		if _, err := pw.Write([]byte("hello\n")); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		testutil.Diff(t, []string{"hello"}, c.Messages())
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
		// Run closed the reader to stop the blocked Read.
		if _, err := pw.Write([]byte("x")); !errors.Is(err, io.ErrClosedPipe) {
			t.Errorf("reader not closed on cancel: write gave %v", err)
		}
	})
}

// TestRealStdin runs the source on a child process's real standard input.
func TestRealStdin(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SLUICE_STDIN_HELPER=1")
	cmd.Stdin = strings.NewReader("one\ntwo\nthree")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helper: %v: %s", err, out)
	}
	testutil.Diff(t, "stdin|one\nstdin|two\nstdin|three\n", string(out))
}

// TestFDReaderStop checks that a Read waiting on a silent descriptor
// returns soon after Stop, and that data and EOF come through.
func TestFDReaderStop(t *testing.T) {
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		t.Fatal(err)
	}
	defer closeFD(t, fds[0])
	defer closeFD(t, fds[1])
	r := newFDReader(fds[0])
	if _, err := syscall.Write(fds[1], []byte("data")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	if n, err := r.Read(buf); err != nil || string(buf[:n]) != "data" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := r.Read(buf)
		done <- err
	}()
	start := time.Now()
	r.Stop()
	select {
	case err := <-done:
		if !errors.Is(err, errStopped) {
			t.Errorf("got %v, want errStopped", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read did not return after Stop")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Stop took %v", d)
	}
}

func TestFDReaderEOF(t *testing.T) {
	var fds [2]int
	if err := syscall.Pipe(fds[:]); err != nil {
		t.Fatal(err)
	}
	defer closeFD(t, fds[0])
	if err := syscall.Close(fds[1]); err != nil {
		t.Fatal(err) // the read end would never see EOF
	}
	if _, err := newFDReader(fds[0]).Read(make([]byte, 4)); !errors.Is(err, io.EOF) {
		t.Errorf("got %v, want io.EOF", err)
	}
}

// closeFD closes a descriptor the test opened.
func closeFD(t *testing.T, fd int) {
	t.Helper()
	if err := syscall.Close(fd); err != nil {
		t.Errorf("closing fd %d: %v", fd, err)
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		yaml    string
		wantErr string
		check   func(*Config) bool
	}{
		{"defaults", "{}", "", func(c *Config) bool {
			return c.Stream == "stdin" && c.BatchLines == 1000 && c.MaxLineBytes == 256<<10 &&
				c.LongLines == "split" && c.FlushInterval.D() == 100*time.Millisecond
		}},
		{"inline options", "stream: app\nbatch_lines: 5\nmax_line_bytes: 1KiB\nlong_lines: truncate\nflush_interval: 1s\n", "",
			func(c *Config) bool {
				return c.Stream == "app" && c.BatchLines == 5 && c.MaxLineBytes == 1024 && c.LongLines == "truncate" && c.FlushInterval.D() == time.Second
			}},
		{"unknown key", "bogus: 1\n", "bogus", nil},
		{"bad long_lines", "long_lines: wrap\n", "long_lines", nil},
		{"zero batch_lines", "batch_lines: 0\n", "batch_lines", nil},
		{"empty stream", "stream: \"\"\n", "stream", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newConfig()
			err := yaml.Load([]byte(tc.yaml), c, yaml.WithKnownFields())
			if err == nil {
				err = c.Validate()
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(c) {
				t.Errorf("unexpected config %+v", c)
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	spec, ok := component.Lookup(component.KindSource, "stdin")
	if !ok {
		t.Fatal("stdin source not registered")
	}
	if _, ok := spec.NewConfig().(*Config); !ok {
		t.Errorf("NewConfig returns %T", spec.NewConfig())
	}
}
