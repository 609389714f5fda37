package sourcetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/event"
)

// collector is the emit of one source instance: it plays the pipeline,
// recording each batch and releasing its token at once (Delivered) or,
// while holding, when the check says so. It checks the emit contract as
// batches arrive: a token on every batch, no batch emitted twice, nothing
// emitted after Run returned.
type collector struct {
	t testing.TB

	mu      sync.Mutex
	batches []emitted
	held    []*ack.Token
	hold    bool
	stopped bool
	nilTok  bool
	wake    chan struct{} // closed and replaced on every emit
}

// emitted is one batch as it was emitted: the batch, and a copy of its
// messages, to find a source that changed the batch afterwards.
type emitted struct {
	b    *event.Batch
	msgs []string
}

func newCollector(t testing.TB) *collector {
	return &collector{t: t, wake: make(chan struct{})}
}

// emit is the instance's component.Emit.
func (c *collector) emit(_ context.Context, b *event.Batch) error {
	msgs := make([]string, len(b.Events))
	for i := range b.Events {
		msgs[i] = string(b.Events[i].Message)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.stopped:
		c.t.Errorf("a batch was emitted after Run returned: %q", msgs)
		c.release(b.Ack, ack.Abandoned) // emit owns it, even when it fails
		return context.Canceled
	case b.Ack == nil && !c.nilTok:
		c.nilTok = true
		c.t.Errorf("a batch was emitted without an ack token (every source attaches one, ack.New(nil) if nothing waits for it): %q", msgs)
	}
	for _, e := range c.batches {
		if e.b == b {
			c.t.Errorf("the same batch was emitted twice: %q", msgs)
		}
	}
	c.batches = append(c.batches, emitted{b: b, msgs: msgs})
	if c.hold {
		c.held = append(c.held, b.Ack)
	} else {
		c.release(b.Ack, ack.Delivered)
	}
	close(c.wake)
	c.wake = make(chan struct{})
	return nil
}

// release releases one token, turning the panic of a token released once
// too often (by a source that released what it handed to emit) into a
// failure.
func (c *collector) release(tok *ack.Token, s ack.Status) {
	defer func() {
		if r := recover(); r != nil {
			c.t.Errorf("releasing a token the source emitted: %v (did the source release it after emit took it?)", r)
		}
	}()
	tok.Release(s)
}

// setHold makes emit keep tokens (true) or release them at once.
func (c *collector) setHold(hold bool) {
	c.mu.Lock()
	c.hold = hold
	c.mu.Unlock()
}

// releaseHeld releases the held tokens in emit order: the first n with
// first, the rest with rest. It returns how many there were.
func (c *collector) releaseHeld(n int, first, rest ack.Status) int {
	c.mu.Lock()
	held := c.held
	c.held = nil
	c.mu.Unlock()
	for i, tok := range held {
		if i < n {
			c.release(tok, first)
		} else {
			c.release(tok, rest)
		}
	}
	return len(held)
}

// messages returns the messages emitted so far, in order.
func (c *collector) messages() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, e := range c.batches {
		out = append(out, e.msgs...)
	}
	return out
}

// waitFor waits until at least n messages were emitted and returns them.
func (c *collector) waitFor(n int, wait time.Duration) ([]string, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		c.mu.Lock()
		wake := c.wake
		c.mu.Unlock()
		if m := c.messages(); len(m) >= n {
			return m, nil
		}
		select {
		case <-wake:
		case <-timer.C:
			m := c.messages()
			return m, fmt.Errorf("timed out after %v waiting for %d events, got %d: %q", wait, n, len(m), m)
		}
	}
}

// finish marks Run as returned and checks that no emitted batch was
// changed since: once emitted, a batch is the pipeline's.
func (c *collector) finish() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	for _, e := range c.batches {
		if len(e.b.Events) != len(e.msgs) {
			c.t.Errorf("a batch changed after it was emitted: %d events, %d when emitted", len(e.b.Events), len(e.msgs))
			continue
		}
		for i := range e.msgs {
			if string(e.b.Events[i].Message) != e.msgs[i] {
				c.t.Errorf("a batch changed after it was emitted: message %q, %q when emitted", e.b.Events[i].Message, e.msgs[i])
			}
		}
	}
}
