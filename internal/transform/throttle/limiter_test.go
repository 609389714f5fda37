package throttle

import (
	"testing"
	"time"

	"pgregory.net/rapid"
)

// bucket is the textbook token bucket, the model the GCRA limiter must
// agree with: credit (tokens × interval, in ns) refills with time up to
// burst × interval, and an event passes when a whole token is there.
type bucket struct{ credit, limit, interval, last int64 }

func (b *bucket) allow(now int64) bool {
	b.credit = min(b.limit, b.credit+now-b.last)
	b.last = now
	if b.credit < b.interval {
		return false
	}
	b.credit -= b.interval
	return true
}

// TestLimiterModel: for any arrivals, the limiter decides every event as
// the token bucket does, and never passes more than burst +
// elapsed/interval events from the first arrival.
func TestLimiterModel(t *testing.T) {
	t.Parallel()
	rapid.Check(t, func(t *rapid.T) {
		threshold := rapid.IntRange(1, 1000).Draw(t, "threshold")
		burst := rapid.IntRange(1, 100).Draw(t, "burst")
		window := time.Duration(rapid.Int64Range(int64(time.Millisecond), int64(time.Hour)).Draw(t, "window"))
		l := newLimiter(threshold, burst, 10, window, func() {})
		start := int64(1) << 40
		model := &bucket{credit: l.limit, limit: l.limit, interval: l.interval, last: start}
		now, passed := start, int64(0)
		for step := range rapid.IntRange(1, 50).Draw(t, "steps") {
			if step > 0 {
				now += rapid.Int64Range(0, 2*l.interval*int64(burst)).Draw(t, "advance")
			}
			for i := range rapid.IntRange(0, 2*burst).Draw(t, "events") {
				got, want := l.allow(now, &l.single), model.allow(now)
				if got != want {
					t.Fatalf("event %d at +%v: limiter says %v, token bucket %v", i, time.Duration(now-start), got, want)
				}
				if got {
					passed++
				}
			}
			if bound := int64(burst) + (now-start)/l.interval; passed > bound {
				t.Fatalf("passed %d by +%v, more than burst + elapsed/interval = %d", passed, time.Duration(now-start), bound)
			}
		}
	})
}
