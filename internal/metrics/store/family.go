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
	series  map[string]*cell // the overflow series too, under its key
	dropped bool             // replaced or removed by a reload: updates are ignored
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
	ext     *extra
}

// cell is a stored series: 48 bytes with its allocation header, where a
// Series is 96 (1.17 M series: 56 MB less). Its labels are its key in the
// family's map; a histogram's bucket counts are in ext.
type cell struct {
	value   float64 // a counter's or gauge's value; a histogram's sum
	count   uint64  // a histogram's observations
	created int64   // unix nanos
	last    int64   // unix nanos of the last update
	ext     *extra
}

// copyOut returns the Series of c, its labels not filled in.
func (c *cell) copyOut(hist bool) Series {
	s := Series{Value: c.value, Created: c.created}
	if hist {
		s.Value, s.Sum, s.Count = 0, c.value, c.count
		s.Counts = append([]uint64(nil), c.ext.counts...)
	}
	return s
}

// reset zeroes c for a reset_on_scrape family.
func (c *cell) reset(now int64) {
	c.value, c.count, c.created = 0, 0, now
	if c.ext != nil {
		clear(c.ext.counts)
	}
	c.ext.reset()
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
	return f.update(key, func(s *cell) { s.value += v })
}

// Set sets a gauge series to v.
func (f *Family) Set(key []byte, v float64) bool {
	return f.update(key, func(s *cell) { s.value = v })
}

// Observe records v in a histogram series.
func (f *Family) Observe(key []byte, v float64) bool {
	return f.update(key, func(s *cell) { f.observe(s, v) })
}

// observe records v in s and returns the index of its classic bucket.
func (f *Family) observe(s *cell, v float64) int {
	i := sort.SearchFloat64s(f.opts.Buckets, v) // first bound >= v; len(b) is +Inf
	s.ext.counts[i]++
	s.value += v
	s.count++
	if s.ext.native != nil {
		s.ext.native.observe(v, f.opts.NativeMaxBuckets)
	}
	return i
}

func (f *Family) update(key []byte, op func(*cell)) bool {
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
func (f *Family) create(key []byte) *cell {
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
	s := &cell{created: f.store.now().UnixNano(), ext: f.newExtra()}
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

// Collect calls fn with a copy of every series, removing the expired ones
// first, and then zeroes them all when the family resets on scrape. fn runs
// after the family's lock is released, so a slow scraper does not hold up
// the rule.
func (f *Family) Collect(fn func(Series)) {
	now := f.store.now()
	f.mu.Lock()
	f.sweepLocked(now)
	out := make([]Series, 0, len(f.series))
	hist := f.opts.Kind == Histogram
	for k, s := range f.series {
		c := s.copyOut(hist)
		c.Labels = splitKey(k, len(f.opts.Labels))
		c.ext = s.ext.snapshot()
		out = append(out, c)
		if f.opts.ResetOnScrape {
			s.reset(now.UnixNano())
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
