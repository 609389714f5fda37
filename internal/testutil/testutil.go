// Package testutil holds helpers shared by sluice's tests: diffs, skipping
// slow tests, collecting what a component emits, running a source or a
// transform the way the pipeline does, reading metrics, throwaway TLS
// certificates, strict YAML decoding and sample events. Helpers fail the
// test themselves and clean up with t.Cleanup and t.TempDir, so callers
// need no error handling or teardown.
package testutil

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/logging"
	"github.com/sluice-log/sluice/internal/telemetry"
)

// Diff fails t with a "-want +got" diff when want and got differ.
func Diff(t testing.TB, want, got any, opts ...cmp.Option) {
	t.Helper()
	if d := cmp.Diff(want, got, opts...); d != "" {
		t.Errorf("mismatch (-want +got):\n%s", d)
	}
}

// SkipIfShort skips integration tests under -short.
func SkipIfShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping integration test in -short mode")
	}
}

// RequireCI fails instead of skipping when CI=true: in CI a missing peer
// program is an error, never a silent skip.
func RequireCI(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("required in CI: %s", why)
	}
	t.Skip(why)
}

// Deps returns component dependencies for tests: a logger writing to the
// test output, discarded metrics, and a data dir in t.TempDir().
func Deps(t testing.TB, id string) component.Deps {
	return component.Deps{
		ID:      id,
		Logger:  logging.New(t.Output(), -4, false, 0),
		DataDir: t.TempDir(),
		Metrics: telemetry.Discard("test", "test", id),
	}
}

// Collector records emitted batches and releases their ack tokens with a
// chosen status (Delivered by default), like a pipeline that delivered them.
type Collector struct {
	mu      sync.Mutex
	Batches []*event.Batch
	// Hold keeps tokens unreleased until Release is called.
	Hold bool
	held []*ack.Token
	// Notify, if set, receives one value per emitted batch.
	Notify chan struct{}
}

// Emit is a component.Emit.
func (c *Collector) Emit(ctx context.Context, b *event.Batch) error {
	c.mu.Lock()
	c.Batches = append(c.Batches, b)
	if c.Hold {
		c.held = append(c.held, b.Ack)
	}
	c.mu.Unlock()
	if !c.Hold {
		b.Ack.Release(ack.Delivered)
	}
	if c.Notify != nil {
		select {
		case c.Notify <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Release releases the held tokens with status s.
func (c *Collector) Release(s ack.Status) {
	c.mu.Lock()
	held := c.held
	c.held = nil
	c.mu.Unlock()
	for _, t := range held {
		t.Release(s)
	}
}

// Messages returns every emitted message, in order.
func (c *Collector) Messages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, b := range c.Batches {
		for _, e := range b.Events {
			out = append(out, string(e.Message))
		}
	}
	return out
}

// Events returns every emitted event, in order.
func (c *Collector) Events() []event.Event {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []event.Event
	for _, b := range c.Batches {
		out = append(out, b.Events...)
	}
	return out
}

// AllKinds returns fields holding every value kind, awkward strings,
// extreme numbers and nil as well as empty objects and arrays, for the
// round-trip tests of encodings.
func AllKinds() event.Fields {
	return event.Fields{
		{Key: "null", Value: event.Null()},
		{Key: "str", Value: event.String("héllo \x00\xff")},
		{Key: "empty", Value: event.String("")},
		{Key: "int", Value: event.Int(math.MinInt64)},
		{Key: "float", Value: event.Float(-3.25e-300)},
		{Key: "inf", Value: event.Float(math.Inf(1))},
		{Key: "true", Value: event.Bool(true)},
		{Key: "false", Value: event.Bool(false)},
		{Key: "time", Value: event.Time(time.Date(2031, 1, 2, 3, 4, 5, 6, time.UTC))},
		{Key: "obj", Value: event.Object(event.Fields{{Key: "a", Value: event.Int(1)},
			{Key: "nested", Value: event.Object(event.Fields{{Key: "b", Value: event.Array([]event.Value{event.Int(2)})}})}})},
		{Key: "nilobj", Value: event.Object(nil)},
		{Key: "emptyobj", Value: event.Object(event.Fields{})},
		{Key: "arr", Value: event.Array([]event.Value{event.String("x"), event.Null(), event.Array(nil),
			event.Array([]event.Value{}), event.Object(nil)})},
		{Key: "nilarr", Value: event.Array(nil)},
		{Key: "", Value: event.String("")},
	}
}

// AccessLogEvents returns n events with 200-byte nginx-like access log
// messages, the same on every call, for benchmarks of encodings and
// transports. Their random ids make them compress about as real logs do.
func AccessLogEvents(n int) []event.Event {
	r := rand.New(rand.NewPCG(1, 2))
	paths := []string{"/api/v1/users", "/static/app.js", "/login", "/api/v1/orders/12345", "/healthz"}
	agents := []string{"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "curl/7.88.1", "Go-http-client/1.1"}
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	evs := make([]event.Event, n)
	for i := range evs {
		msg := fmt.Sprintf(`10.%d.%d.%d - - [22/Nov/2026:10:00:%02d +0000] "GET %s?id=%d HTTP/1.1" %d %d "-" "%s" rt=%.3f uid=%x`,
			r.IntN(256), r.IntN(256), r.IntN(256), i%60, paths[r.IntN(len(paths))], r.IntN(1e6),
			[]int{200, 200, 404, 500}[r.IntN(4)], r.IntN(50000), agents[r.IntN(3)], r.Float64(), r.Uint64())
		for len(msg) < 200 {
			msg += fmt.Sprintf(" %x", r.Uint32())
		}
		evs[i] = event.Event{Timestamp: t0.Add(time.Duration(i) * time.Millisecond), Host: "web-1",
			Stream: "/var/log/nginx/access.log", Message: []byte(msg[:200])}
	}
	return evs
}

var _ component.Emit = (*Collector)(nil).Emit
