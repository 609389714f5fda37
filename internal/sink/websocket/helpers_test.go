package wssink

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluice-log/sluice/internal/backoff"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	wssource "github.com/sluice-log/sluice/internal/source/websocket"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// receiver is a websocket source running in the test.
type receiver struct {
	src  *wssource.Source
	addr string
	stop func()
}

// startReceiver runs a websocket source on addr ("127.0.0.1:0" for any
// port) feeding col; stop ends its Run and waits for it.
func startReceiver(t testing.TB, addr string, emit component.Emit, mod func(*wssource.Config)) *receiver {
	t.Helper()
	c := &wssource.Config{}
	c.Defaults()
	c.Address = addr
	c.ShutdownTimeout = 0
	if mod != nil {
		mod(c)
	}
	s, err := wssource.New(testutil.Validated(t, c), testutil.Deps(t, "relay-in"))
	if err != nil {
		t.Fatal(err)
	}
	run := testutil.StartSource(t, s, emit)
	src := s.(*wssource.Source)
	a, err := src.Addr(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return &receiver{src: src, addr: a.String(), stop: func() { <-run.Stop() }}
}

// newTestSink builds a sink for url and closes it at the end of the test.
func newTestSink(t testing.TB, url string, mod func(*Config)) *Sink {
	t.Helper()
	c := &Config{}
	c.Defaults()
	c.URL = config.URL(url)
	c.Timeout = config.Duration(5 * time.Second)
	if mod != nil {
		mod(c)
	}
	s, err := New(testutil.Validated(t, c), testutil.Deps(t, "relay-out"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s.(*Sink)
}

// makeBatch returns events "ev-<from>" to "ev-<from+n-1>" with a field
// holding the id.
func makeBatch(from, n int) *event.Batch {
	b := &event.Batch{Events: make([]event.Event, n)}
	ts := time.Date(2026, 11, 22, 1, 2, 3, 456789, time.UTC)
	for i := range b.Events {
		id := from + i
		b.Events[i] = event.Event{Timestamp: ts.Add(time.Duration(id)), Host: "web-1", Stream: "app",
			Message: fmt.Appendf(nil, "ev-%d", id), Fields: event.Fields{{Key: "id", Value: event.Int(int64(id))}}}
	}
	return b
}

// deliver calls Write until it succeeds, like the pipeline's sink runner
// with a short backoff, and fails the test after a deadline.
func deliver(t *testing.T, s *Sink, b *event.Batch) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for attempt := 0; ; attempt++ {
		err := s.Write(t.Context(), b)
		if err == nil {
			return
		}
		var rej *component.RejectError
		if errors.As(err, &rej) || time.Now().After(deadline) {
			t.Fatalf("write failed after %d attempts: %v", attempt+1, err)
		}
		backoff.Sleep(t.Context(), 20*time.Millisecond) // the pipeline's backoff
	}
}

// countIDs counts how often each "ev-N" message occurs.
func countIDs(msgs []string) map[int]int {
	n := map[int]int{}
	for _, m := range msgs {
		id, err := strconv.Atoi(strings.TrimPrefix(m, "ev-"))
		if err == nil {
			n[id]++
		}
	}
	return n
}

// pki is a CA with one certificate for 127.0.0.1, written as PEM files.
type pki struct {
	ca, cert, key string
}

func newPKI(t testing.TB) pki {
	t.Helper()
	ca := testutil.NewCA(t)
	leaf := ca.Issue(t, "server")
	return pki{ca: ca.File, cert: leaf.CertFile, key: leaf.KeyFile}
}

// tcpProxy forwards loopback TCP connections to a target, and can cut
// them, stop forwarding (a peer that vanished without closing), or cut
// connections idle for longer than idle (a proxy's read timeout).
type tcpProxy struct {
	ln     net.Listener
	target string
	idle   time.Duration

	mu     sync.Mutex
	conns  []net.Conn
	frozen bool
	thaw   chan struct{}
	wg     sync.WaitGroup

	chunks   atomic.Int64 // reads forwarded, in either direction
	idleCuts atomic.Int64 // connections cut for being idle
}

func startProxy(t *testing.T, target string, idle time.Duration) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, idle: idle, thaw: make(chan struct{})}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		ln.Close()
		p.freeze(false)
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) accept() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(in, out) })
		p.wg.Go(func() { p.pipe(out, in) })
	}
}

func (p *tcpProxy) pipe(from, to net.Conn) {
	defer from.Close()
	defer to.Close()
	buf := make([]byte, 64<<10)
	for {
		if p.idle > 0 {
			_ = from.SetReadDeadline(time.Now().Add(p.idle))
		}
		n, err := from.Read(buf)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				p.idleCuts.Add(1)
			}
			return
		}
		p.chunks.Add(1)
		p.mu.Lock()
		frozen, thaw := p.frozen, p.thaw
		p.mu.Unlock()
		if frozen {
			<-thaw
		}
		if _, err := to.Write(buf[:n]); err != nil {
			return
		}
	}
}

// waitFor waits until cond holds, checking it every 10ms, and fails t
// after 20s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.WaitFor(t, 20*time.Second, what, cond)
}

// cut closes every forwarded connection.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// freeze stops (or resumes) forwarding bytes without closing anything.
func (p *tcpProxy) freeze(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen && !on {
		close(p.thaw)
		p.thaw = make(chan struct{})
	}
	p.frozen = on
}
