package store

import (
	"context"
	"time"
)

// Bounds of the sweeper's period: often enough that a short expire_after
// is honoured, seldom enough that walking a large family (which holds its
// lock) stays cheap.
const (
	minSweepEvery = time.Second
	maxSweepEvery = time.Minute
)

// Sweep removes the idle series of every family, as a scrape does.
func (s *Store) Sweep() {
	for _, f := range s.sweepable() {
		f.Sweep()
	}
	s.grew(s.total.Load())
}

// growthStep is how many new series pass between two calls of the growth
// hook: a power of two.
const growthStep = 1 << 15

// OnGrowth sets fn to be called with the number of series each time it
// grows past a multiple of 32768, and after each sweep: for a process to
// adapt to the memory its series hold (internal/app lowers the GC's
// headroom as the store grows). fn must be quick.
func (s *Store) OnGrowth(fn func(series int64)) { s.onGrowth.Store(&fn) }

func (s *Store) grew(n int64) {
	if fn := s.onGrowth.Load(); fn != nil {
		(*fn)(n)
	}
}

// sweepable returns the current and pending families that expire series.
func (s *Store) sweepable() []*Family {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Family
	for _, m := range []map[string]*Family{s.families, s.pending} {
		for _, f := range m {
			if f.opts.ExpireAfter > 0 {
				out = append(out, f)
			}
		}
	}
	return out
}

// SweepEvery is the sweeper's period for the families there are now: half
// the shortest expire_after, within [1s, 1m]; maxSweepEvery when no family
// expires series (a reload may add one).
func (s *Store) SweepEvery() time.Duration {
	every := maxSweepEvery
	for _, f := range s.sweepable() {
		every = min(every, f.opts.ExpireAfter/2)
	}
	return max(every, minSweepEvery)
}

// RunSweeper sweeps the store periodically until ctx is done, so idle
// series release their memory even when nothing scrapes /metrics. The
// period is recomputed after each sweep, following reloads.
func (s *Store) RunSweeper(ctx context.Context) {
	t := time.NewTimer(s.SweepEvery())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.Sweep()
			t.Reset(s.SweepEvery())
		}
	}
}
