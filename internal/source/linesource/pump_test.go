package linesource

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/lines"
	"github.com/sluice-log/sluice/internal/telemetry"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// step is one Read result of a scripted reader.
type step struct {
	data string
	err  error
}

// script returns its steps one Read at a time, then io.EOF.
type script struct {
	mu    sync.Mutex
	steps []step
}

func (s *script) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.steps) == 0 {
		return 0, io.EOF
	}
	st := &s.steps[0]
	n := copy(p, st.data)
	st.data = st.data[n:]
	if st.data != "" {
		return n, nil
	}
	err := st.err
	s.steps = s.steps[1:]
	return n, err
}

func chunks(parts ...string) *script {
	s := &script{}
	for _, p := range parts {
		s.steps = append(s.steps, step{data: p})
	}
	return s
}

func testOptions(max int, mode lines.Mode) *Options {
	return &Options{Stream: "test", Host: "h", BatchLines: 1000, BatchBytes: 1 << 20,
		FlushInterval: 100 * time.Millisecond, MaxLineBytes: max, Mode: mode,
		Metrics:   telemetry.Discard("source", "test", "test"),
		LongLines: prometheus.NewCounter(prometheus.CounterOpts{Name: "long_lines_total"})}
}

func counterValue(t *testing.T, c prometheus.Counter) int {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return int(m.GetCounter().GetValue())
}

func TestPump(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     *script
		max    int
		mode   lines.Mode
		want   []string
		long   int
		follow bool
	}{
		{"empty input", chunks(), 100, lines.Split, nil, 0, false},
		{"one line", chunks("hello\n"), 100, lines.Split, []string{"hello"}, 0, false},
		{"lines split across reads", chunks("on", "e\ntw", "o\n", "\nthree\n"), 100, lines.Split,
			[]string{"one", "two", "", "three"}, 0, false},
		{"partial last line", chunks("a\nb\nrest"), 100, lines.Split, []string{"a", "b", "rest"}, 0, false},
		{"only a partial line", chunks("no newline"), 100, lines.Split, []string{"no newline"}, 0, false},
		{"crlf kept", chunks("a\r\n"), 100, lines.Split, []string{"a\r"}, 0, false},
		{"long line split", chunks("abcdefgh\nxy\n"), 3, lines.Split,
			[]string{"abc", "def", "gh", "xy"}, 1, false},
		{"long line split across reads", chunks("ab", "cdefg", "h\nxy\n"), 3, lines.Split,
			[]string{"abc", "def", "gh", "xy"}, 1, false},
		{"two long lines split", chunks("aaaa\nbbbb\n"), 3, lines.Split,
			[]string{"aaa", "a", "bbb", "b"}, 2, false},
		{"long line truncated", chunks("abcdefgh\nxy\n"), 3, lines.Truncate, []string{"abc", "xy"}, 1, false},
		{"consecutive long lines truncated", chunks("abcdefgh\nwxyz\n"), 3, lines.Truncate,
			[]string{"abc", "wxy"}, 2, false},
		{"long partial last line truncated", chunks("ok\nabcdef"), 3, lines.Truncate, []string{"ok", "abc"}, 1, false},
		{"invalid utf8 kept", chunks("\xff\x00\n"), 100, lines.Split, []string{"\xff\x00"}, 0, false},
		{"follow flushes each writer's partial line", &script{steps: []step{
			{"a\nb", io.EOF}, {"c\n", io.EOF}, {"d", errors.New("boom")}}}, 100, lines.Split,
			[]string{"a", "b", "c", "d"}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			o := testOptions(tc.max, tc.mode)
			var c testutil.Collector
			err := Pump(t.Context(), Input{R: tc.in, Follow: tc.follow}, c.Emit, o)
			if tc.follow {
				if err == nil || !strings.Contains(err.Error(), "boom") {
					t.Errorf("want the read error, got %v", err)
				}
			} else if err != nil {
				t.Fatalf("Pump: %v", err)
			}
			testutil.Diff(t, tc.want, c.Messages())
			if got := counterValue(t, o.LongLines); got != tc.long {
				t.Errorf("long_lines_total = %d, want %d", got, tc.long)
			}
		})
	}
}

func TestEvents(t *testing.T) {
	o := testOptions(100, lines.Split)
	o.Fields = event.Fields{{Key: "fd", Value: event.String("stderr")}}
	var c testutil.Collector
	before := time.Now()
	if err := Pump(t.Context(), Input{R: chunks("a\nb\n")}, c.Emit, o); err != nil {
		t.Fatal(err)
	}
	evs := c.Events()
	if len(evs) != 2 {
		t.Fatalf("got %d events", len(evs))
	}
	for _, e := range evs {
		if e.Host != "h" || e.Stream != "test" || e.Timestamp.Before(before) || e.Timestamp.After(time.Now()) {
			t.Errorf("bad event attributes: %+v", e)
		}
	}
	evs[0].Fields.Set("fd", event.String("changed"))
	if v, _ := evs[1].Fields.Get("fd"); v.Str() != "stderr" {
		t.Errorf("fields are shared between events: %v", v.Str())
	}
	for _, b := range c.Batches {
		if b.Ack == nil {
			t.Errorf("batch without an ack token; every batch carries one")
		}
	}
}

func TestBatchLimits(t *testing.T) {
	for _, tc := range []struct {
		name       string
		in         string
		lines      int
		bytes      int
		wantSizes  []int
		wantFields []string
	}{
		{"batch_lines", "1\n2\n3\n4\n5\n", 2, 1 << 20, []int{2, 2, 1}, nil},
		{"batch_bytes", "aaa\nbbb\nccc\n", 100, 6, []int{2, 1}, nil},
		{"one line per batch", "a\nb\n", 1, 1 << 20, []int{1, 1}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := testOptions(100, lines.Split)
			o.BatchLines, o.BatchBytes = tc.lines, tc.bytes
			var c testutil.Collector
			if err := Pump(t.Context(), Input{R: strings.NewReader(tc.in)}, c.Emit, o); err != nil {
				t.Fatal(err)
			}
			var sizes []int
			for _, b := range c.Batches {
				sizes = append(sizes, len(b.Events))
			}
			testutil.Diff(t, tc.wantSizes, sizes)
		})
	}
}

// TestFlushInterval checks the age bound on a batch directly: input that
// never pauses cannot be produced deterministically.
func TestFlushInterval(t *testing.T) {
	t0 := time.Unix(1000, 0)
	for _, tc := range []struct {
		name  string
		after time.Duration
		want  bool
	}{
		{"young batch waits", 99 * time.Millisecond, false},
		{"old batch is due", 100 * time.Millisecond, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBatcher(testOptions(100, lines.Split), nil)
			if b.due(t0) {
				t.Fatal("empty batch is due")
			}
			b.add([]byte("x"), false, t0, 1)
			if got := b.due(t0.Add(tc.after)); got != tc.want {
				t.Errorf("due = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestInteractive writes one line and then nothing: the event must come
// without waiting for more lines or for time to pass.
func TestInteractive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pr, pw := io.Pipe()
		c := &testutil.Collector{}
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- Pump(t.Context(), Input{R: pr}, c.Emit, testOptions(100, lines.Split)) }()

		write := func(s string) {
			if _, err := pw.Write([]byte(s)); err != nil {
				t.Fatal(err)
			}
			synctest.Wait()
		}
		write("one\n")
		testutil.Diff(t, []string{"one"}, c.Messages())
		write("two\nthr")
		testutil.Diff(t, []string{"one", "two"}, c.Messages())
		if d := time.Since(start); d != 0 {
			t.Errorf("events waited %v of fake time", d)
		}
		if err := pw.Close(); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		testutil.Diff(t, []string{"one", "two", "thr"}, c.Messages())
		if err := <-done; err != nil {
			t.Errorf("Pump at EOF: %v", err)
		}
	})
}

func TestCancel(t *testing.T) {
	for _, tc := range []struct {
		name      string
		interrupt bool
	}{
		{"with interrupt", true},
		{"without interrupt", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				pr, pw := io.Pipe()
				defer func() { _ = pw.Close() }() // an io.PipeWriter's Close always returns nil
				in := Input{R: pr}
				if tc.interrupt {
					in.Interrupt = func() { pr.CloseWithError(errors.New("interrupted")) }
				}
				ctx, cancel := context.WithCancel(t.Context())
				c := &testutil.Collector{}
				done := make(chan error, 1)
				go func() { done <- Pump(ctx, in, c.Emit, testOptions(100, lines.Split)) }()
				if _, err := pw.Write([]byte("x\npartial")); err != nil {
					t.Fatal(err)
				}
				synctest.Wait()
				cancel()
				if err := <-done; !errors.Is(err, context.Canceled) {
					t.Errorf("got %v, want context.Canceled", err)
				}
				testutil.Diff(t, []string{"x"}, c.Messages())
			})
		})
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("boom")
	in := &script{steps: []step{{"a\nb", boom}}}
	var c testutil.Collector
	err := Pump(t.Context(), Input{R: in}, c.Emit, testOptions(100, lines.Split))
	if !errors.Is(err, boom) {
		t.Errorf("got %v, want boom", err)
	}
	testutil.Diff(t, []string{"a", "b"}, c.Messages())
}

// TestArenaIsolation checks that messages of emitted batches keep their
// bytes while later batches are built.
func TestArenaIsolation(t *testing.T) {
	o := testOptions(100, lines.Split)
	o.BatchLines = 3
	var in bytes.Buffer
	var want []string
	for i := range 1000 {
		s := strings.Repeat(string(rune('a'+i%26)), i%40)
		want = append(want, s)
		in.WriteString(s + "\n")
	}
	var c testutil.Collector
	if err := Pump(t.Context(), Input{R: &in}, c.Emit, o); err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, want, c.Messages())
	for _, b := range c.Batches {
		for _, e := range b.Events {
			if cap(e.Message) != len(e.Message) {
				t.Fatalf("message has spare capacity %d: an append would overwrite its neighbour", cap(e.Message)-len(e.Message))
			}
		}
	}
}
