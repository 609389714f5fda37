package syslog

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// eventually polls cond until it holds, for state that changes on another
// goroutine with nothing to wait on (metrics).
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !testutil.Eventually(waitTimeout, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestAbsurdOctetCount(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	bad, good := dial(t, "tcp", h.addr()), dial(t, "tcp", h.addr())
	write(t, good, "<13>good one\n")
	write(t, bad, "<13>before\n999999999 <13>1 - - - - - - x")
	waitClosed(t, bad)
	write(t, good, "<13>good two\n")
	evs := h.wait(t, 3)
	got := messages(evs)
	for _, want := range []string{"good one", "before", "good two"} {
		if !strings.Contains(strings.Join(got, "|"), want) {
			t.Errorf("missing %q in %q", want, got)
		}
	}
	if n := count(t, h.src.oversize); n != 1 {
		t.Errorf("oversize = %d, want 1", n)
	}
}

func TestHugeLineTruncated(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	c := dial(t, "tcp", h.addr())
	huge := "<13>Nov 22 02:33:01 vm app: " + strings.Repeat("x", 1<<20)
	go func() { _, _ = c.Write([]byte(huge + "\n<13>after\n")) }()
	evs := h.wait(t, 2)
	if want := 64<<10 - len("<13>Nov 22 02:33:01 vm app: "); len(evs[0].Message) != want {
		t.Errorf("truncated message has %d bytes, want %d", len(evs[0].Message), want)
	}
	testutil.Diff(t, "after", string(evs[1].Message))
	if n := count(t, h.src.oversize); n != 1 {
		t.Errorf("oversize = %d, want 1", n)
	}
}

func TestBytesKeptExact(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	c := dial(t, "tcp", h.addr())
	payloads := []string{"nul\x00inside", "bad utf8 \xff\xfe\xc3", "cr at end\r", "tab\tand \x01 control"}
	var stream strings.Builder
	for i, p := range payloads {
		if i%2 == 0 {
			stream.WriteString("<13>1 - h app - - - " + p + "\n")
		} else {
			stream.WriteString(octet("<13>Nov 22 02:33:01 h app: " + p))
		}
	}
	write(t, c, stream.String())
	testutil.Diff(t, payloads, messages(h.wait(t, len(payloads))))
}

func TestSlowClientDoesNotBlockOthers(t *testing.T) {
	t.Parallel()
	h := start(t, func(c *Config) { c.IdleTimeout = config.Duration(2 * time.Second) })
	slow, fast := dial(t, "tcp", h.addr()), dial(t, "tcp", h.addr())
	msg := "<13>Nov 22 02:33:01 vm app: slow message\n"
	for i := range len(msg) {
		write(t, slow, msg[i:i+1])
		if i == len(msg)/2 {
			write(t, fast, "<13>fast\n")
			testutil.Diff(t, []string{"fast"}, messages(h.wait(t, 1)))
		}
	}
	testutil.Diff(t, []string{"fast", "slow message"}, messages(h.wait(t, 2)))
}

func TestIdleTimeout(t *testing.T) {
	t.Parallel()
	h := start(t, func(c *Config) { c.IdleTimeout = config.Duration(50 * time.Millisecond) })
	idle := dial(t, "tcp", h.addr())
	write(t, idle, "<13>partial")
	waitClosed(t, idle)
	// What was read before the timeout is kept.
	testutil.Diff(t, []string{"partial"}, messages(h.wait(t, 1)))
}

func TestMaxConnections(t *testing.T) {
	t.Parallel()
	h := start(t, func(c *Config) { c.MaxConnections = 2 })
	a, b := dial(t, "tcp", h.addr()), dial(t, "tcp", h.addr())
	write(t, a, "<13>a\n")
	write(t, b, "<13>b\n")
	h.wait(t, 2)
	eventually(t, "2 open connections", func() bool { return count(t, h.src.connections) == 2 })
	extra := dial(t, "tcp", h.addr())
	waitClosed(t, extra)
	if n := count(t, h.src.refused); n != 1 {
		t.Errorf("refused = %d, want 1", n)
	}
	// A slot frees up when a connection ends.
	a.Close()
	eventually(t, "1 open connection", func() bool { return count(t, h.src.connections) == 1 })
	write(t, dial(t, "tcp", h.addr()), "<13>c\n")
	write(t, b, "<13>d\n")
	evs := h.wait(t, 4)
	if got := strings.Join(messages(evs[2:]), ","); got != "c,d" && got != "d,c" {
		t.Errorf("after a slot freed: %q", got)
	}
}

func TestThousandConnections(t *testing.T) {
	t.Parallel()
	const n = 1000
	h := start(t, nil)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	conns := make([]net.Conn, n)
	for i := range n {
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", h.addr(), waitTimeout)
			if err != nil {
				errs <- err
				return
			}
			conns[i] = c
			if _, err := fmt.Fprintf(c, "<13>1 - h app - - - conn %d\n", i); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	evs := h.wait(t, n)
	seen := map[string]bool{}
	for _, e := range evs {
		seen[string(e.Message)] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct messages, want %d", len(seen), n)
	}
	for _, c := range conns {
		c.Close()
	}
	eventually(t, "connections to close", func() bool { return count(t, h.src.connections) == 0 })
}

// TestBackpressure blocks emit and checks that nothing a TCP sender wrote
// meanwhile is lost: the connection is only read slower.
func TestBackpressure(t *testing.T) {
	t.Parallel()
	c := &Config{}
	c.Defaults()
	c.Address, c.Timezone = "127.0.0.1:0", "UTC"
	s, err := New(testutil.Validated(t, c), testutil.Deps(t, "bp"))
	if err != nil {
		t.Fatal(err)
	}
	src := s.(*Source)
	gate := make(chan struct{})
	var mu sync.Mutex
	var got []string
	emit := func(ctx context.Context, b *event.Batch) error {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
		mu.Lock()
		defer mu.Unlock()
		for _, e := range b.Events {
			got = append(got, string(e.Message))
		}
		return nil
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, emit) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	<-src.listening

	const n = 10000
	conn := dial(t, "tcp", src.Addr().String())
	// Small socket buffers: the 2 MB sent cannot hide in the kernel.
	if err := conn.(*net.TCPConn).SetWriteBuffer(16 << 10); err != nil {
		t.Fatal(err)
	}
	sent := make(chan error, 1)
	go func() {
		var sb strings.Builder
		for i := range n {
			fmt.Fprintf(&sb, "<13>1 - h app - - - %06d %s\n", i, strings.Repeat("p", 200))
		}
		_, err := conn.Write([]byte(sb.String()))
		sent <- err
	}()
	select {
	case err := <-sent:
		t.Fatalf("sender finished while emit was blocked (%v): the source buffered without bound", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(gate)
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	eventually(t, "every message", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= n })
	mu.Lock()
	defer mu.Unlock()
	for i, m := range got {
		if !strings.HasPrefix(m, fmt.Sprintf("%06d ", i)) {
			t.Fatalf("message %d is %.10q: lost or reordered", i, m)
		}
	}
}

func TestStopClosesConnections(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	c := dial(t, "tcp", h.addr())
	write(t, c, "<13>x\n")
	h.wait(t, 1)
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, c)
	if _, err := net.DialTimeout("tcp", h.addr(), time.Second); err == nil {
		t.Error("listener still accepts after stop")
	}
}
