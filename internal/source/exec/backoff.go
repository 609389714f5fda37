package exec

import "time"

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
