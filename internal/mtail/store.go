package mtail

import (
	"encoding/binary"
	"time"
)

// metric is one declared metric of one program and its values. Label sets
// are kept in first-creation order (mtail's JSON and the goldens depend on
// it) with a map from the joined label values for lookup. A metric is only
// touched with its program's lock held.
type metric struct {
	Name    string // exported name (after `as`)
	Program string
	Kind    Kind
	Type    Type
	Keys    []string
	Hidden  bool
	Limit   int
	Bounds  []float64 // histogram upper bounds
	Source  string    // "prog.mtail:line:col-col"
	declPos pos

	single *labelSet // the value of an unlabelled metric, nil until set
	index  map[string]*labelSet
	order  []*labelSet
}

// labelSet is one label combination and its datum.
type labelSet struct {
	key    string // its key in metric.index
	labels []string
	d      datum
	expire time.Duration // from `del ... after`; 0: never
	gone   bool          // deleted; dropped from order at the next compaction
}

// datum is one value with the time of its last update (Unix ns).
type datum struct {
	i      int64
	f      float64
	s      string
	counts []uint64 // histogram: one per bound, plus +Inf
	count  uint64
	sum    float64
	time   int64
}

func newMetric(d *declStmt) *metric {
	m := &metric{Name: d.export, Kind: d.kind, Type: Int, Keys: d.keys, Hidden: d.hidden,
		Limit: d.limit, Bounds: d.buckets, declPos: d.pos}
	switch d.kind {
	case Text:
		m.Type = String
	case Histogram:
		m.Type = Buckets
	}
	if len(m.Keys) > 0 {
		m.index = map[string]*labelSet{}
	}
	return m
}

// reset puts the metric in its load state: an unlabelled counter exists
// at 0 (time 0), an unlabelled histogram exists empty, others are empty.
func (m *metric) reset() {
	m.single, m.order = nil, nil
	if m.index != nil {
		m.index = map[string]*labelSet{}
	}
	if len(m.Keys) == 0 && (m.Kind == Counter || m.Kind == Histogram) {
		m.single = m.newSet(nil)
	}
}

func (m *metric) newSet(labels []string) *labelSet {
	ls := &labelSet{labels: labels}
	if m.Kind == Histogram {
		ls.d.counts = make([]uint64, len(m.Bounds)+1)
	}
	return ls
}

// get returns the datum for the joined label values in key, creating it.
func (m *metric) get(key []byte) *datum {
	if m.index == nil {
		if m.single == nil {
			m.single = m.newSet(nil)
		}
		return &m.single.d
	}
	if ls, ok := m.index[string(key)]; ok {
		return &ls.d
	}
	ks := string(key)
	ls := m.newSet(splitKey(ks))
	ls.key = ks
	m.index[ks] = ls
	m.order = append(m.order, ls)
	return &ls.d
}

// splitKey returns the label values of a key written by compiler.key.
func splitKey(k string) []string {
	n := int(k[len(k)-1])
	offs := k[len(k)-1-4*n : len(k)-1]
	out := make([]string, n)
	start := 0
	for i := range out {
		end := int(binary.LittleEndian.Uint32([]byte(offs[4*i : 4*i+4])))
		out[i], start = k[start:end], end
	}
	return out
}

// del removes a label set; after > 0 only marks it to expire.
func (m *metric) del(key []byte, after time.Duration) {
	if m.index == nil {
		return
	}
	ls, ok := m.index[string(key)]
	if !ok {
		return
	}
	if after > 0 {
		ls.expire = after
		return
	}
	delete(m.index, string(key))
	ls.gone = true
	m.compact()
}

// compact drops deleted label sets from the creation order.
func (m *metric) compact() {
	n := 0
	for _, ls := range m.order {
		if !ls.gone {
			m.order[n] = ls
			n++
		}
	}
	clear(m.order[n:])
	m.order = m.order[:n]
}

// sets returns the label sets with values, in creation order.
func (m *metric) sets() []*labelSet {
	if m.index == nil {
		if m.single == nil {
			return nil
		}
		return []*labelSet{m.single}
	}
	return m.order
}

// expire removes label sets marked by `del ... after` whose last update is
// older than their delay, and enforces `limit` by dropping the oldest, as
// mtail's periodic GC does.
func (m *metric) expire(now time.Time) {
	if m.index == nil {
		return
	}
	removed := false
	for k, ls := range m.index {
		if ls.expire > 0 && now.Sub(time.Unix(0, ls.d.time)) > ls.expire {
			delete(m.index, k)
			ls.gone, removed = true, true
		}
	}
	if removed {
		m.compact()
	}
	for m.Limit > 0 && len(m.order) > m.Limit {
		oldest := 0
		for i, ls := range m.order {
			if ls.d.time < m.order[oldest].d.time {
				oldest = i
			}
		}
		ls := m.order[oldest]
		delete(m.index, ls.key)
		m.order = append(m.order[:oldest], m.order[oldest+1:]...)
	}
}

// observe adds v to a histogram datum: the first bucket whose upper bound
// is at least v (mtail v3.0.1+), else +Inf.
func (d *datum) observe(bounds []float64, v float64) {
	i := 0
	for i < len(bounds) && v > bounds[i] {
		i++
	}
	d.counts[i]++
	d.count++
	d.sum += v
}
