// Package store holds the series of log-derived metrics: one Family per
// rule, one series per distinct set of label values, created on first use.
//
// Cardinality is bounded when a series is created, never afterwards: a
// family past its own max_series sends new label sets to one overflow
// series (every label __overflow__) and counts them as folded; a store past
// its global budget refuses new series altogether and counts them as
// refused. Series idle longer than their family's expire_after are removed
// by Sweep. Updating an existing series allocates nothing. Every method is
// safe for concurrent use.
package store

import (
	"encoding/binary"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Overflow is the value of every label of a family's overflow series.
const Overflow = "__overflow__"

// DefaultMaxSeries is the global budget when the config does not set one.
const DefaultMaxSeries = 100000

// Kind is the type of a family's series.
type Kind int

// The kinds of series.
const (
	Counter Kind = iota
	Gauge
	Histogram
)

// Store owns every family and the global series budget. It outlives
// reloads: a family whose rule is unchanged is handed back by Family.
type Store struct {
	maxSeries int64
	total     atomic.Int64
	refused   atomic.Uint64
	now       func() time.Time
	log       *slog.Logger
	nextLog   atomic.Int64 // unix nanos before which the budget error is not logged again

	onGrowth atomic.Pointer[func(series int64)]

	mu       sync.Mutex
	families map[string]*Family // by rule name: the collected ones
	pending  map[string]*Family // by name and hash: built for a reload not yet confirmed
}

// New returns a store refusing new series once maxSeries exist in all
// families together (0: DefaultMaxSeries). now is the clock used for
// expiry (nil: time.Now); log receives the budget error, at most once a
// minute.
func New(maxSeries int, now func() time.Time, log *slog.Logger) *Store {
	if maxSeries <= 0 {
		maxSeries = DefaultMaxSeries
	}
	if now == nil {
		now = time.Now
	}
	return &Store{maxSeries: int64(maxSeries), now: now, log: log, families: map[string]*Family{},
		pending: map[string]*Family{}}
}

// SetMaxSeries changes the global budget (on reload); series that exist
// are kept even when they are more than n.
func (s *Store) SetMaxSeries(n int) {
	if n <= 0 {
		n = DefaultMaxSeries
	}
	atomic.StoreInt64(&s.maxSeries, int64(n))
}

// Series returns how many series exist in all families.
func (s *Store) Series() int { return int(s.total.Load()) }

// Refused returns how many updates needed a new series the global budget
// did not allow.
func (s *Store) Refused() uint64 { return s.refused.Load() }

// Options describe one family: a rule's name, type, labels and limits.
type Options struct {
	Name   string
	Help   string
	Kind   Kind
	Labels []string
	// Buckets are a histogram's upper bounds, sorted, without +Inf.
	Buckets []float64
	// MaxSeries bounds the family; beyond it new label sets fold into the
	// overflow series. 0: no bound of its own.
	MaxSeries int
	// ExpireAfter removes a series not updated for that long. 0: never.
	ExpireAfter time.Duration
	// ResetOnScrape zeroes every series after each Collect.
	ResetOnScrape bool
	// Hash identifies the options and the rule behind them: Family keeps a
	// family's series across a reload only when it is unchanged.
	Hash string

	// Unit is the OpenMetrics unit (seconds, bytes); "": none.
	Unit string
	// Exemplar names the labels of the exemplar each series (each bucket
	// of a histogram) keeps: the latest one given to AddAt or ObserveAt.
	// nil: no exemplars, and no memory for them.
	Exemplar []string
	// Timestamp keeps the time of the newest event that updated a series,
	// to be exposed as the sample's timestamp.
	Timestamp bool
	// Native makes a histogram keep native (sparse, exponential) buckets
	// besides its classic Buckets (which may then be empty).
	Native bool
	// NativeSchema is the native buckets' initial resolution: each bucket
	// is 2^(2^-schema) times wider than the previous, -4..8.
	NativeSchema int32
	// NativeMaxBuckets bounds the native buckets of one sign (from the
	// lowest used to the highest): past it the resolution is halved.
	// 0: DefaultNativeMaxBuckets.
	NativeMaxBuckets int
}

// Family returns the family named o.Name, creating it. When a family of
// that name exists with another Hash (the rule changed in a reload), the
// new one is pending: it counts, but is not collected and does not replace
// the old one until Retain confirms that the new config was applied, so a
// reload that fails leaves the running rule's series alone.
func (s *Store) Family(o Options) *Family {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.families[o.Name]
	if !ok {
		f = &Family{store: s, opts: o, series: map[string]*cell{}}
		s.families[o.Name] = f
		return f
	}
	if f.opts.Hash == o.Hash && o.Hash != "" {
		return f
	}
	key := pendingKey(o.Name, o.Hash)
	if p, ok := s.pending[key]; ok {
		return p
	}
	p := &Family{store: s, opts: o, series: map[string]*cell{}}
	s.pending[key] = p
	return p
}

func pendingKey(name, hash string) string { return name + "\x00" + hash }

// Retain makes the families of keep (rule name → Hash) the current ones,
// once a config has been applied: a pending family with that name and
// hash replaces the current one, and every family or pending family not
// in keep is dropped with its series.
func (s *Store) Retain(keep map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, hash := range keep {
		p, ok := s.pending[pendingKey(name, hash)]
		if !ok {
			continue
		}
		delete(s.pending, pendingKey(name, hash))
		if f, ok := s.families[name]; ok {
			s.dropLocked(f)
		}
		s.families[name] = p
	}
	for name, f := range s.families {
		if hash, ok := keep[name]; !ok || hash != f.opts.Hash {
			s.dropLocked(f)
			delete(s.families, name)
		}
	}
	for key, p := range s.pending {
		s.dropLocked(p)
		delete(s.pending, key)
	}
}

// dropLocked empties f and releases its series from the budget; a sink
// still holding it writes into nothing.
func (s *Store) dropLocked(f *Family) {
	f.mu.Lock()
	s.total.Add(-int64(len(f.series)))
	f.series, f.dropped = map[string]*cell{}, true
	f.mu.Unlock()
}

// Families returns the current families, for collection.
func (s *Store) Families() []*Family {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Family, 0, len(s.families))
	for _, f := range s.families {
		out = append(out, f)
	}
	return out
}

// reserve takes one series from the global budget, or reports why not.
func (s *Store) reserve(family string) bool {
	if n := s.total.Add(1); n <= atomic.LoadInt64(&s.maxSeries) {
		if n&(growthStep-1) == 0 {
			s.grew(n)
		}
		return true
	}
	s.total.Add(-1)
	s.refused.Add(1)
	now := s.now().UnixNano()
	next := s.nextLog.Load()
	if s.log != nil && now >= next && s.nextLog.CompareAndSwap(next, now+int64(time.Minute)) {
		s.log.Error("metrics series budget reached; new series are refused",
			"max_series", atomic.LoadInt64(&s.maxSeries), "rule", family,
			"hint", "raise metrics.max_series or lower the rules' max_series")
	}
	return false
}

// AppendKey appends one label value to a series key. A key is the values
// of a family's labels, in order, each appended by AppendKey.
func AppendKey(key, value []byte) []byte {
	key = binary.AppendUvarint(key, uint64(len(value)))
	return append(key, value...)
}

// AppendKeyString is AppendKey for a string value.
func AppendKeyString(key []byte, value string) []byte {
	key = binary.AppendUvarint(key, uint64(len(value)))
	return append(key, value...)
}

// splitKey decodes a key into n label values.
func splitKey(key string, n int) []string {
	out := make([]string, 0, n)
	for len(key) > 0 && len(out) < n {
		l, w := binary.Uvarint([]byte(key[:min(len(key), binary.MaxVarintLen64)]))
		if w <= 0 || int(l) > len(key)-w {
			break
		}
		out = append(out, key[w:w+int(l)])
		key = key[w+int(l):]
	}
	for len(out) < n {
		out = append(out, "")
	}
	return out
}
