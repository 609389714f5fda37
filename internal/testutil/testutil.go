// Package testutil holds helpers shared by sluice's tests: diffs, skipping
// slow tests, and collecting what a component emits.
package testutil

import (
	"context"
	"os"
	"sync"
	"testing"

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
		ID:               id,
		Logger:           logging.New(t.Output(), -4, false, 0),
		DataDir:          t.TempDir(),
		Metrics:          telemetry.Discard("test", "test", id),
		Acknowledgements: true,
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

var _ component.Emit = (*Collector)(nil).Emit
