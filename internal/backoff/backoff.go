// Package backoff holds the waiting shared by everything that retries
// (sink writes, restarted commands, reconnects, accept errors): one
// exponential schedule with equal jitter, so that many retriers spread out
// without any coming back too soon, and a sleep that ends early when its
// context does.
package backoff

import (
	"context"
	"math"
	"math/rand/v2"
	"time"
)

// Exponential is a retry schedule: Base, doubled after each attempt up to
// Max. With Jitter set each wait is drawn from [d/2, d] (equal jitter).
// The zero Max means no cap. Its Next/Reset state is for one retrier; it
// is not safe for concurrent use.
type Exponential struct {
	Base   time.Duration
	Max    time.Duration
	Jitter bool

	attempt int
}

// Delay returns the wait before retry number attempt (0 is the first).
func (e *Exponential) Delay(attempt int) time.Duration {
	d := max(e.Base, 1)
	for i := 0; i < attempt && (e.Max <= 0 || d < e.Max) && d < math.MaxInt64/2; i++ {
		d *= 2
	}
	if e.Max > 0 {
		d = min(d, e.Max)
	}
	if e.Jitter {
		return Jitter(d)
	}
	return d
}

// Next returns the wait before the next retry and advances the schedule.
func (e *Exponential) Next() time.Duration {
	d := e.Delay(e.attempt)
	if e.attempt < 64 { // past that the delay stopped growing long ago
		e.attempt++
	}
	return d
}

// Reset starts the schedule over, after an attempt that went well.
func (e *Exponential) Reset() { e.attempt = 0 }

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
