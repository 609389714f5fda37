package disk

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/logging"
	"github.com/sluice-log/sluice/internal/telemetry"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// env is a buffer directory with its metrics, reopened across restarts.
type env struct {
	t   testing.TB
	dir string
	m   *telemetry.Component
	opt Options
}

func newEnv(t testing.TB, opt Options) *env {
	return &env{t: t, dir: filepath.Join(t.TempDir(), "buf"), m: telemetry.Discard("sink", "test", "t"), opt: opt}
}

func (e *env) open() *Buffer {
	e.t.Helper()
	b, err := Open(e.dir, e.opt, e.m, logging.New(e.t.Output(), -4, false, 0))
	if err != nil {
		e.t.Fatalf("Open: %v", err)
	}
	return b
}

// crash stops b the way kill -9 would: nothing more is written or saved.
// Records already written stay, as they would in the page cache.
func (b *Buffer) crash() {
	s := b.s
	s.mu.Lock()
	s.crashed = true
	s.handles = 0
	b.closed = true
	s.mu.Unlock()
	s.finalize()
}

// upstream records the status each pushed batch's token was released with.
type upstream struct {
	mu     sync.Mutex
	status map[string]ack.Status
	done   chan string
}

func newUpstream() *upstream {
	return &upstream{status: map[string]ack.Status{}, done: make(chan string, 10000)}
}

// batch returns a batch of one event per message; its token reports under
// the first message.
func (u *upstream) batch(msgs ...string) *event.Batch {
	b := &event.Batch{}
	for _, m := range msgs {
		b.Events = append(b.Events, event.Event{Host: "h", Stream: "s", Message: []byte(m),
			Timestamp: time.Unix(1700000000, 0).UTC()})
	}
	b.Ack = ack.New(func(s ack.Status) {
		u.mu.Lock()
		u.status[msgs[0]] = s
		u.mu.Unlock()
		u.done <- msgs[0]
	})
	return b
}

func (u *upstream) get(id string) (ack.Status, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	s, ok := u.status[id]
	return s, ok
}

// fataler is what both *testing.T and *rapid.T offer.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// wait waits until the token of id is released and returns its status.
func (u *upstream) wait(t fataler, id string) ack.Status {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if s, ok := u.get(id); ok {
			return s
		}
		select {
		case <-u.done:
		case <-deadline:
			t.Fatalf("token of %q never released", id)
		}
	}
}

func push(t testing.TB, b *Buffer, batch *event.Batch) {
	t.Helper()
	if err := b.Push(t.Context(), batch); err != nil {
		t.Fatalf("Push: %v", err)
	}
}

// pop pops one batch, failing after a timeout.
func pop(t testing.TB, b *Buffer) *event.Batch {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	batch, err := b.Pop(ctx)
	if err != nil {
		t.Fatalf("Pop: %v", err)
	}
	return batch
}

// popNone checks that nothing is ready to pop.
func popNone(t testing.TB, b *Buffer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if batch, err := b.Pop(ctx); err == nil {
		t.Fatalf("Pop returned %v, want nothing", messages(batch))
	}
}

func messages(b *event.Batch) []string {
	var out []string
	for _, e := range b.Events {
		out = append(out, string(e.Message))
	}
	return out
}

// drain pops and acknowledges until nothing comes within a short wait.
func drain(t testing.TB, b *Buffer) []string {
	t.Helper()
	var out []string
	for range 100000 {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		batch, err := b.Pop(ctx)
		cancel()
		if err != nil {
			return out
		}
		out = append(out, messages(batch)...)
		batch.Ack.Release(ack.Delivered)
	}
	t.Fatal("drain did not end")
	return nil
}

// files lists the names in dir matching a glob, sorted.
func files(t testing.TB, dir, glob string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, glob))
	if err != nil {
		t.Fatal(err)
	}
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	sort.Strings(m)
	return m
}

func ids(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%03d", prefix, i)
	}
	return out
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

var cmpPosition = cmp.AllowUnexported(position{})

// valueOpt compares event values by their unexported representation.
var valueOpt = cmp.AllowUnexported(event.Value{})

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
