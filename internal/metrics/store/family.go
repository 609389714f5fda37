package store

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Family is the series of one rule. Its series are created by the first
// update with a new key, subject to the family's max_series and the
// store's budget, and removed by Sweep once idle past expire_after, by a
// reload that changes or removes the rule, or never.
type Family struct {
	store  *Store
	opts   Options
	folded atomic.Uint64

	mu      sync.Mutex
	series  map[string]*Series // the overflow series too, under its key
	dropped bool               // replaced or removed by a reload: updates are ignored
}

// Series is one label set's value: a counter's or gauge's Value, or a
// histogram's per-bucket Counts (not cumulative; the last is +Inf), Sum
// and Count. Labels is filled in the copies Collect and Snapshot hand
// out; a stored series leaves it nil, its labels being in its key (48
// bytes and an allocation less per series with three labels).
//
// Created is when the series was made (or last reset by a scrape), for
// OpenMetrics' _created. What only some rules use (exemplars, event time,
// native buckets) lives behind ext, allocated only for those rules.
type Series struct {
	Labels  []string
	Value   float64
	Counts  []uint64
	Sum     float64
	Count   uint64
	Created int64 // unix nanos
	last    int64 // unix nanos of the last update
	ext     *extra
}

// Options returns the options the family was made with.
func (f *Family) Options() Options { return f.opts }

// Folded returns how many updates went to the overflow series because the
// family was at its max_series.
func (f *Family) Folded() uint64 { return f.folded.Load() }

// Len returns the number of series, the overflow series included.
func (f *Family) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.series)
}

// Add adds v to a counter or gauge series (a gauge's sub is Add(-v)).
// It reports false when the series could not be created (global budget).
// A family dropped by a reload ignores updates and reports true.
func (f *Family) Add(key []byte, v float64) bool {
	return f.update(key, func(s *Series) { s.Value += v })
}

// Set sets a gauge series to v.
func (f *Family) Set(key []byte, v float64) bool {
	return f.update(key, func(s *Series) { s.Value = v })
}

// Observe records v in a histogram series.
func (f *Family) Observe(key []byte, v float64) bool {
	return f.update(key, func(s *Series) { f.observe(s, v) })
}

// observe records v in s and returns the index of its classic bucket.
func (f *Family) observe(s *Series, v float64) int {
	i := sort.SearchFloat64s(f.opts.Buckets, v) // first bound >= v; len(b) is +Inf
	s.Counts[i]++
	s.Sum += v
	s.Count++
	if s.ext != nil && s.ext.native != nil {
		s.ext.native.observe(v, f.opts.NativeMaxBuckets)
	}
	return i
}

func (f *Family) update(key []byte, op func(*Series)) bool {
	now := f.store.now().UnixNano()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.dropped {
		return true // a rule being replaced drains into its old family: ignored
	}
	s, ok := f.series[string(key)]
	if !ok {
		if s = f.create(key); s == nil {
			return false
		}
	}
	op(s)
	s.last = now
	return true
}

// create makes the series of key, or returns the overflow series, or nil
// when the store's budget refuses it. f.mu is held.
func (f *Family) create(key []byte) *Series {
	if f.opts.MaxSeries > 0 && len(f.series) >= f.opts.MaxSeries {
		// The overflow series is an ordinary series of the map, so an
		// event whose labels really are all __overflow__ shares it instead
		// of making a duplicate.
		f.folded.Add(1)
		key = f.overflowKey()
		if s, ok := f.series[string(key)]; ok {
			return s
		}
	}
	if !f.store.reserve(f.opts.Name) {
		return nil
	}
	s := f.newSeries()
	s.Created = f.store.now().UnixNano()
	f.series[string(key)] = s
	return s
}

func (f *Family) overflowKey() []byte {
	var k []byte
	for range f.opts.Labels {
		k = AppendKeyString(k, Overflow)
	}
	return k
}

func (f *Family) newSeries() *Series {
	s := &Series{}
	if f.opts.Kind == Histogram {
		s.Counts = make([]uint64, len(f.opts.Buckets)+1)
	}
	s.ext = f.newExtra()
	return s
}

// Collect calls fn with a copy of every series, removing the expired ones
// first, and then zeroes them all when the family resets on scrape. fn runs
// after the family's lock is released, so a slow scraper does not hold up
// the rule.
func (f *Family) Collect(fn func(Series)) {
	now := f.store.now()
	f.mu.Lock()
	f.sweepLocked(now)
	out := make([]Series, 0, len(f.series))
	for k, s := range f.series {
		c := *s
		c.Labels = splitKey(k, len(f.opts.Labels))
		c.Counts = append([]uint64(nil), s.Counts...)
		c.ext = s.ext.snapshot()
		out = append(out, c)
		if f.opts.ResetOnScrape {
			s.Value, s.Sum, s.Count = 0, 0, 0
			clear(s.Counts)
			s.Created = now.UnixNano()
			s.ext.reset()
		}
	}
	f.mu.Unlock()
	for _, s := range out {
		fn(s)
	}
}

// Sweep removes the series not updated for expire_after.
func (f *Family) Sweep() {
	now := f.store.now()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sweepLocked(now)
}

func (f *Family) sweepLocked(now time.Time) {
	if f.opts.ExpireAfter <= 0 {
		return
	}
	cut := now.Add(-f.opts.ExpireAfter).UnixNano()
	removed := 0
	for k, s := range f.series {
		if s.last < cut {
			delete(f.series, k)
			removed++
		}
	}
	f.store.total.Add(-int64(removed))
}
