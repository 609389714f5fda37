package exec

import (
	"math/rand/v2"
	"time"
)

// backoff is the wait between restarts: initial, doubling up to max.
type backoff struct {
	initial, max time.Duration
	cur          time.Duration
	jitter       func(time.Duration) time.Duration
}

// next returns the next wait, with jitter applied.
func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.initial
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	return b.jitter(b.cur)
}

// reset starts the sequence over, after a command ran well.
func (b *backoff) reset() { b.cur = 0 }

// equalJitter returns a random duration in [d/2, d], so that many sources
// restarting together spread out but none comes back too soon.
func equalJitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}
