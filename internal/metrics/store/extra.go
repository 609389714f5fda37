package store

// Detail is what an update carries besides its value, for the families
// that keep exemplars or event times (Options.Exemplar, Options.Timestamp).
type Detail struct {
	// Exemplar holds the exemplar's label values, a key as AppendKey
	// builds it, in the order of Options.Exemplar; empty: no exemplar
	// (the series keeps its previous one).
	Exemplar []byte
	// Time is the event's time, unix nanos: the exemplar's timestamp and,
	// with Options.Timestamp, the series'.
	Time int64
}

// extra is what only some families keep per series: histograms (their
// bucket counts) and the rules with exemplars or event times. A series of
// a family that needs none of it has a nil ext: no memory beyond the
// pointer.
type extra struct {
	counts    []uint64   // a histogram's per-bucket counts, not cumulative; the last is +Inf
	exemplars []exemplar // one per classic bucket (histograms) or one; nil: not kept
	time      int64      // the newest Detail.Time seen
	native    *native    // native histograms only
}

// exemplar is the latest exemplar of a series or bucket. key is reused
// from one update to the next, so recording one allocates only when a
// longer key than any before arrives.
type exemplar struct {
	key   []byte // label values as Detail.Exemplar; empty: none yet
	value float64
	time  int64
}

// newExtra returns what each series of f keeps besides its values, or nil.
func (f *Family) newExtra() *extra {
	o := &f.opts
	nat := o.Native && o.Kind == Histogram
	if len(o.Exemplar) == 0 && !o.Timestamp && o.Kind != Histogram {
		return nil
	}
	x := &extra{}
	if o.Kind == Histogram {
		x.counts = make([]uint64, len(o.Buckets)+1)
	}
	if len(o.Exemplar) > 0 {
		n := 1
		if o.Kind == Histogram {
			n = len(o.Buckets) + 1
		}
		x.exemplars = make([]exemplar, n)
	}
	if nat {
		x.native = &native{schema: o.NativeSchema}
	}
	return x
}

// AddAt is Add with an exemplar and an event time.
func (f *Family) AddAt(key []byte, v float64, d Detail) bool {
	return f.update(key, func(s *cell) {
		s.value += v
		s.ext.note(0, v, d)
	})
}

// SetAt is Set with an event time (gauges keep no exemplar).
func (f *Family) SetAt(key []byte, v float64, d Detail) bool {
	return f.update(key, func(s *cell) {
		s.value = v
		s.ext.note(-1, v, d)
	})
}

// ObserveAt is Observe with an exemplar, kept for the bucket v falls in,
// and an event time.
func (f *Family) ObserveAt(key []byte, v float64, d Detail) bool {
	return f.update(key, func(s *cell) { s.ext.note(f.observe(s, v), v, d) })
}

// note records d for the update of bucket i (0 for a counter, -1 for no
// exemplar) by v.
func (x *extra) note(i int, v float64, d Detail) {
	if x == nil {
		return
	}
	// The newest time, not the last: Prometheus refuses a sample older
	// than the one before it, so a late event must not move it back.
	x.time = max(x.time, d.Time)
	if len(d.Exemplar) == 0 || i < 0 || i >= len(x.exemplars) {
		return
	}
	e := &x.exemplars[i]
	e.key = append(e.key[:0], d.Exemplar...)
	e.value, e.time = v, d.Time
}

// snapshot copies x for a Collect, so the copy can be read without the
// family's lock.
func (x *extra) snapshot() *extra {
	if x == nil {
		return nil
	}
	c := &extra{time: x.time}
	if x.exemplars != nil {
		c.exemplars = make([]exemplar, len(x.exemplars))
		for i, e := range x.exemplars {
			c.exemplars[i] = exemplar{key: append([]byte(nil), e.key...), value: e.value, time: e.time}
		}
	}
	if x.native != nil {
		c.native = x.native.clone()
	}
	return c
}

// reset forgets the exemplars of a series zeroed by a scrape: they belong
// to the interval that ended.
func (x *extra) reset() {
	if x == nil {
		return
	}
	for i := range x.exemplars {
		x.exemplars[i].key = x.exemplars[i].key[:0]
	}
}

// Exemplar returns the latest exemplar of bucket i of s (0 for a counter):
// its label values (in the order of Options.Exemplar, n of them), value
// and time in unix nanos. ok is false when there is none.
func (s *Series) Exemplar(i, n int) (labels []string, value float64, t int64, ok bool) {
	if s.ext == nil || i >= len(s.ext.exemplars) || len(s.ext.exemplars[i].key) == 0 {
		return nil, 0, 0, false
	}
	e := s.ext.exemplars[i]
	return splitKey(string(e.key), n), e.value, e.time, true
}

// EventTime returns the time of the newest event that updated s, unix
// nanos, or 0 when its family does not keep it.
func (s *Series) EventTime() int64 {
	if s.ext == nil {
		return 0
	}
	return s.ext.time
}
