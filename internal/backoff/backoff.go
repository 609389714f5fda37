// Package backoff holds the waiting shared by everything that retries
// (sink writes, restarted commands, reconnects): equal jitter, so that
// many retriers spread out without any coming back too soon, and a sleep
// that ends early when its context does.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Jitter returns a random duration in [d/2, d].
func Jitter(d time.Duration) time.Duration {
	if d <= 1 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// Sleep waits d, or until ctx is done; it reports whether d passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
