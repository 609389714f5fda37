package wssink

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	wssource "github.com/sluice-log/sluice/internal/source/websocket"
	"github.com/sluice-log/sluice/internal/testutil"
)

// recorder records emitted events and acknowledges every batch at once,
// except the hold-th (counting from 1), which waits for release.
type recorder struct {
	mu      sync.Mutex
	msgs    []string
	batches int
	hold    int
	held    []*ack.Token
	emitted chan int // receives the batch count after each emit
}

func (r *recorder) emit(_ context.Context, b *event.Batch) error {
	r.mu.Lock()
	for _, e := range b.Events {
		r.msgs = append(r.msgs, string(e.Message))
	}
	r.batches++
	n := r.batches
	hold := n == r.hold
	if hold {
		r.held = append(r.held, b.Ack)
	}
	r.mu.Unlock()
	if !hold {
		b.Ack.Release(ack.Delivered)
	}
	if r.emitted != nil {
		r.emitted <- n
	}
	return nil
}

func (r *recorder) release(s ack.Status) {
	r.mu.Lock()
	held := r.held
	r.held = nil
	r.mu.Unlock()
	for _, t := range held {
		t.Release(s)
	}
}

func (r *recorder) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

// TestReceiverRestart stops the receiver while a batch waits for its
// acknowledgement and starts a new one on the same port: the sink
// reconnects and resends, nothing is lost, and only the batch that was in
// flight arrives twice.
func TestReceiverRestart(t *testing.T) {
	t.Parallel()
	const batches, size, stopAt = 20, 50, 8
	first := &recorder{hold: stopAt, emitted: make(chan int, batches)}
	a := startReceiver(t, "127.0.0.1:0", first.emit, nil)
	s := newTestSink(t, "ws://"+a.addr+"/relay", nil)
	second := &recorder{}
	written := make(chan struct{})
	go func() {
		defer close(written)
		for i := range batches {
			deliver(t, s, makeBatch(i*size, size))
		}
	}()
	for n := range first.emitted {
		if n == stopAt {
			break
		}
	}
	a.stop() // shutdown_timeout 0: closes with the receipt outstanding
	first.release(ack.Delivered)
	startReceiver(t, a.addr, second.emit, nil)
	<-written

	counts := countIDs(append(first.messages(), second.messages()...))
	var lost, dups []int
	for id := range batches * size {
		switch n := counts[id]; {
		case n == 0:
			lost = append(lost, id)
		case n > 1:
			dups = append(dups, id)
		}
	}
	if len(lost) > 0 {
		t.Fatalf("%d events lost: %v", len(lost), lost)
	}
	inFlight := (stopAt - 1) * size
	want := make([]int, 0, size)
	for id := inFlight; id < inFlight+size; id++ {
		want = append(want, id)
	}
	testutil.Diff(t, want, dups)
	t.Logf("%d events delivered, %d duplicates (the batch in flight at the restart)", batches*size, len(dups))
}

// TestSplitToReceiverLimit makes the receiver announce a small message
// limit: the sink splits batches to fit, and rejects alone an event that
// cannot fit at all.
func TestSplitToReceiverLimit(t *testing.T) {
	t.Parallel()
	col := &testutil.Collector{}
	rcv := startReceiver(t, "127.0.0.1:0", col.Emit, func(c *wssource.Config) { c.MaxMessageSize = 4 << 10 })
	s := newTestSink(t, "ws://"+rcv.addr+"/relay", func(c *Config) { c.Compression = false })
	b := makeBatch(0, 200)
	for i := range b.Events {
		b.Events[i].Message = append(b.Events[i].Message, strings.Repeat(" pad", 40)...)
	}
	b.Events[50].Message = []byte(strings.Repeat("x", 5000))
	err := s.Write(t.Context(), b)
	var part *component.PartialError
	if !errors.As(err, &part) {
		t.Fatalf("got %v, want a partial failure", err)
	}
	want := make([]component.Outcome, 200)
	want[50] = component.Reject
	testutil.Diff(t, want, part.Outcomes)
	if !strings.Contains(err.Error(), "max message size") {
		t.Errorf("error does not explain the rejection: %v", err)
	}
	got := col.Events()
	if len(got) != 199 || len(col.Batches) < 8 {
		t.Fatalf("got %d events in %d messages, want 199 in at least 8", len(got), len(col.Batches))
	}
	testutil.Diff(t, append(slices.Clone(b.Events[:50]), b.Events[51:]...), got, eventOpts)
}

// TestKeepaliveDetectsDeadReceiver freezes the connection while a batch
// waits for its receipt: the missing pong ends the wait long before the
// receipt timeout.
func TestKeepaliveDetectsDeadReceiver(t *testing.T) {
	t.Parallel()
	col := &testutil.Collector{Hold: true, Notify: make(chan struct{}, 4)}
	rcv := startReceiver(t, "127.0.0.1:0", col.Emit, nil)
	px := startProxy(t, rcv.addr, 0)
	s := newTestSink(t, "ws://"+px.addr()+"/relay", func(c *Config) {
		c.PingInterval = config.Duration(50 * time.Millisecond)
		c.PingTimeout = config.Duration(100 * time.Millisecond)
		c.Timeout = config.Duration(time.Minute)
	})
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- s.Write(t.Context(), makeBatch(0, 1)) }()
	<-col.Notify
	px.freeze(true)
	err := <-done
	if !errors.Is(err, component.ErrNotConnected) {
		t.Fatalf("got %v, want ErrNotConnected", err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("dead connection noticed after %s", took)
	}
	px.freeze(false)
	col.Release(ack.Delivered)
}

// TestPingsKeepIdleConnectionsOpen puts a proxy that cuts connections idle
// for 600ms between the ends: with pings every 50ms the connection
// survives a pause, without them the sink has to dial again.
func TestPingsKeepIdleConnectionsOpen(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		ping     time.Duration
		connects float64
	}{
		{"pings every 50ms", 50 * time.Millisecond, 1},
		{"no pings", time.Hour, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			col := &testutil.Collector{}
			rcv := startReceiver(t, "127.0.0.1:0", col.Emit, func(c *wssource.Config) {
				c.PingInterval = config.Duration(time.Hour)
			})
			px := startProxy(t, rcv.addr, 600*time.Millisecond)
			s := newTestSink(t, "ws://"+px.addr()+"/relay", func(c *Config) { c.PingInterval = config.Duration(tc.ping) })
			deliver(t, s, makeBatch(0, 1))
			if tc.connects == 1 {
				// Forty pings and their pongs take two seconds, three times
				// the proxy's idle timeout.
				from := px.chunks.Load()
				waitFor(t, "pings to pass", func() bool { return px.chunks.Load() >= from+80 })
				testutil.Diff(t, int64(0), px.idleCuts.Load())
			} else {
				waitFor(t, "the proxy to cut the idle connection", func() bool { return px.idleCuts.Load() > 0 })
			}
			deliver(t, s, makeBatch(1, 1))
			if got := testutil.CounterValue(t, s.connects); got != tc.connects {
				t.Errorf("connects = %v, want %v", got, tc.connects)
			}
			testutil.Diff(t, []string{"ev-0", "ev-1"}, col.Messages())
		})
	}
}

// TestBackpressureKeepsConnection blocks the receiver's pipeline (emit does
// not return) for many ping intervals: pings are still answered, so the
// connection survives and the batch is delivered once the pipeline moves.
func TestBackpressureKeepsConnection(t *testing.T) {
	t.Parallel()
	unblock := make(chan struct{})
	entered := make(chan struct{}, 1)
	blocked := func(ctx context.Context, b *event.Batch) error {
		entered <- struct{}{}
		select {
		case <-unblock:
		case <-ctx.Done():
			b.Ack.Release(ack.Abandoned)
			return ctx.Err()
		}
		b.Ack.Release(ack.Delivered)
		return nil
	}
	fast := func(c *wssource.Config) {
		c.PingInterval = config.Duration(100 * time.Millisecond)
		c.PingTimeout = config.Duration(time.Second)
	}
	rcv := startReceiver(t, "127.0.0.1:0", blocked, fast)
	px := startProxy(t, rcv.addr, 0) // only to count the pings that pass
	s := newTestSink(t, "ws://"+px.addr()+"/relay", func(c *Config) {
		c.PingInterval = config.Duration(100 * time.Millisecond)
		c.PingTimeout = config.Duration(time.Second)
	})
	done := make(chan error, 1)
	go func() { done <- s.Write(t.Context(), makeBatch(0, 10)) }()
	<-entered
	// Thirty pings from each side, each answered: three seconds, three
	// ping timeouts, with the pipeline stuck.
	from := px.chunks.Load()
	waitFor(t, "pings to pass", func() bool { return px.chunks.Load() >= from+4*30 })
	close(unblock)
	if err := <-done; err != nil {
		t.Fatalf("write: %v", err)
	}
	if got := testutil.CounterValue(t, s.connects); got != 1 {
		t.Errorf("connects = %v, want 1: the connection did not survive backpressure", got)
	}
}
