package store

import (
	"math"
	"sort"
)

// DefaultNativeMaxBuckets is Options.NativeMaxBuckets when unset.
const DefaultNativeMaxBuckets = 160

// NativeZeroThreshold bounds the zero bucket of native histograms: values
// whose magnitude is at most this count there (client_golang's default).
const NativeZeroThreshold = 0x1p-128

// NativeSchema returns the schema whose bucket growth factor is the
// largest not above factor (> 1), within -4..8: the resolution a
// native_factor asks for.
func NativeSchema(factor float64) int32 {
	s := -math.Floor(math.Log2(math.Log2(factor)))
	return int32(min(8, max(-4, s)))
}

// native holds the exponential buckets of a native histogram: bucket i
// of schema s counts the magnitudes in (2^((i-1)/2^s), 2^(i/2^s)], kept
// dense from the lowest index used to the highest, per sign.
type native struct {
	schema   int32
	zero     uint64
	pos, neg dense
}

// dense is a run of bucket counts starting at index off.
type dense struct {
	off int
	n   []uint64
}

// NativeBuckets is a copy of a series' native buckets: count i of
// Positive is bucket PositiveOffset+i.
type NativeBuckets struct {
	Schema         int32
	ZeroThreshold  float64
	ZeroCount      uint64
	PositiveOffset int
	Positive       []uint64
	NegativeOffset int
	Negative       []uint64
}

// Native returns the native buckets of s; ok is false when its family has
// none.
func (s *Series) Native() (b NativeBuckets, ok bool) {
	if s.ext == nil || s.ext.native == nil {
		return b, false
	}
	n := s.ext.native
	return NativeBuckets{Schema: n.schema, ZeroThreshold: NativeZeroThreshold, ZeroCount: n.zero,
		PositiveOffset: n.pos.off, Positive: n.pos.n, NegativeOffset: n.neg.off, Negative: n.neg.n}, true
}

func (n *native) clone() *native {
	c := *n
	c.pos.n = append([]uint64(nil), n.pos.n...)
	c.neg.n = append([]uint64(nil), n.neg.n...)
	return &c
}

// observe counts v, first lowering the resolution as long as counting it
// would make either sign span more than limit buckets (the lowest schema,
// -4, spans all of float64 in about 130).
func (n *native) observe(v float64, limit int) {
	if limit <= 0 {
		limit = DefaultNativeMaxBuckets
	}
	a := math.Abs(v)
	if a <= NativeZeroThreshold {
		n.zero++
		return
	}
	d := &n.pos
	if v < 0 {
		d = &n.neg
	}
	i := nativeIndex(a, n.schema)
	for d.widthWith(i) > limit && n.schema > -4 {
		n.schema--
		n.pos.halve()
		n.neg.halve()
		i = nativeIndex(a, n.schema)
	}
	d.inc(i)
}

// widthWith is how many buckets d spans once index i is in it.
func (d *dense) widthWith(i int) int {
	if len(d.n) == 0 {
		return 1
	}
	return max(i, d.off+len(d.n)-1) - min(i, d.off) + 1
}

func (d *dense) inc(i int) {
	switch {
	case len(d.n) == 0:
		d.off, d.n = i, append(d.n[:0], 0)
	case i < d.off:
		m := make([]uint64, len(d.n)+d.off-i)
		copy(m[d.off-i:], d.n)
		d.off, d.n = i, m
	case i >= d.off+len(d.n):
		d.n = append(d.n, make([]uint64, i-d.off-len(d.n)+1)...)
	}
	d.n[i-d.off]++
}

// halve merges pairs of buckets: bucket i of schema s is within bucket
// ceil(i/2) of schema s-1.
func (d *dense) halve() {
	if len(d.n) == 0 {
		return
	}
	off := (d.off + 1) >> 1
	m := make([]uint64, (d.off+len(d.n))>>1-off+1)
	for j, c := range d.n {
		m[(d.off+j+1)>>1-off] += c
	}
	d.off, d.n = off, m
}

// nativeBounds[s] are the 2^s fractions in [0.5, 1) at which the buckets
// of schema s (1..8) start within one power of two.
var nativeBounds = func() [9][]float64 {
	var b [9][]float64
	for s := 1; s <= 8; s++ {
		n := 1 << s
		b[s] = make([]float64, n)
		for j := range n {
			b[s][j] = math.Exp2(float64(j)/float64(n) - 1)
		}
	}
	return b
}()

// nativeIndex is the index of the bucket of a (> 0) in schema s: the
// smallest i with a <= 2^(i/2^s). It works on the binary exponent, as
// Prometheus does, so powers of two fall in the right bucket exactly.
func nativeIndex(a float64, s int32) int {
	frac, exp := math.Frexp(a) // a = frac * 2^exp, frac in [0.5, 1)
	if s > 0 {
		b := nativeBounds[s]
		return sort.SearchFloat64s(b, frac) + (exp-1)*len(b)
	}
	i := exp
	if frac == 0.5 {
		i--
	}
	return (i + (1 << -s) - 1) >> -s
}
