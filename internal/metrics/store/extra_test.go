package store_test

import (
	"math"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/metrics/store"
	"github.com/sluice-log/sluice/internal/testutil"
)

// TestExemplarPerBucket: a histogram keeps the latest exemplar of each
// bucket, a counter its latest, and an update without one keeps the
// previous; a reset_on_scrape counter forgets its exemplar at the scrape.
func TestExemplarPerBucket(t *testing.T) {
	t.Parallel()
	s := store.New(0, nil, nil)
	h := s.Family(store.Options{Name: "h", Kind: store.Histogram, Buckets: []float64{1, 10}, Exemplar: []string{"trace_id"}})
	for _, o := range []struct {
		v  float64
		ex string
	}{{0.5, "a"}, {0.7, "b"}, {5, "c"}, {50, ""}, {0.6, ""}} {
		var d store.Detail
		if o.ex != "" {
			d.Exemplar = store.AppendKeyString(nil, o.ex)
		}
		d.Time = int64(o.v * 1e9)
		h.ObserveAt(nil, o.v, d)
	}
	type ex struct {
		Labels []string
		Value  float64
		Time   int64
	}
	var got []*ex
	h.Collect(func(s store.Series) {
		for i := range 3 {
			l, v, tm, ok := s.Exemplar(i, 1)
			if !ok {
				got = append(got, nil)
				continue
			}
			got = append(got, &ex{l, v, tm})
		}
		testutil.Diff(t, int64(50e9), s.EventTime())
	})
	testutil.Diff(t, []*ex{{[]string{"b"}, 0.7, 0.7e9}, {[]string{"c"}, 5, 5e9}, nil}, got)

	c := s.Family(store.Options{Name: "c", Kind: store.Counter, Exemplar: []string{"a", "b"}, ResetOnScrape: true})
	c.AddAt(nil, 1, store.Detail{Exemplar: store.AppendKeyString(store.AppendKeyString(nil, "x"), "y"), Time: 7})
	for _, want := range []bool{true, false} {
		c.Collect(func(s store.Series) {
			l, _, _, ok := s.Exemplar(0, 2)
			testutil.Diff(t, want, ok)
			if ok {
				testutil.Diff(t, []string{"x", "y"}, l)
			}
		})
	}
}

// TestCreated: a series carries its creation time, renewed when a scrape
// resets it.
func TestCreated(t *testing.T) {
	t.Parallel()
	clk := &clock{t: time.Unix(1000, 0)}
	s := store.New(0, clk.now, nil)
	f := s.Family(store.Options{Name: "c", Kind: store.Counter, ResetOnScrape: true})
	f.Add(nil, 1)
	clk.add(time.Minute)
	var created []int64
	for range 2 {
		f.Collect(func(s store.Series) { created = append(created, s.Created) })
	}
	testutil.Diff(t, []int64{1000e9, 1060e9}, created)
}

// TestNativeBuckets checks bucket indexes against their definition (bucket
// i of schema s holds (2^((i-1)/2^s), 2^(i/2^s)]), at bucket bounds too,
// for every schema.
func TestNativeBuckets(t *testing.T) {
	t.Parallel()
	for schema := int32(-4); schema <= 8; schema++ {
		for _, v := range []float64{1e-9, 0.001, 0.3, 0.5, 1, 1.5, 2, 3, 4, 1000, 1e12, math.MaxFloat64} {
			s := store.New(0, nil, nil)
			f := s.Family(store.Options{Name: "n", Kind: store.Histogram, Native: true, NativeSchema: schema})
			f.Observe(nil, v)
			f.Observe(nil, -v)
			f.Observe(nil, 0)
			f.Collect(func(sr store.Series) {
				nb, ok := sr.Native()
				if !ok || len(nb.Positive) != 1 || len(nb.Negative) != 1 || nb.ZeroCount != 1 {
					t.Fatalf("schema %d, %v: %+v", schema, v, nb)
				}
				i := nb.PositiveOffset
				testutil.Diff(t, i, nb.NegativeOffset)
				// log2(v)*2^s is in (i-1, i]; log2 is not exact at the
				// bounds, hence the tolerance.
				x := math.Log2(v) * math.Exp2(float64(schema))
				if !(x > float64(i-1)-1e-9 && x <= float64(i)+1e-9) {
					t.Errorf("schema %d: %v (log2*2^s = %v) in bucket %d", schema, v, x, i)
				}
			})
		}
	}
}

// TestNativeMaxBuckets: observations spread wider than the bucket limit
// lower the resolution, keeping every count.
func TestNativeMaxBuckets(t *testing.T) {
	t.Parallel()
	s := store.New(0, nil, nil)
	f := s.Family(store.Options{Name: "n", Kind: store.Histogram, Native: true, NativeSchema: 8, NativeMaxBuckets: 20})
	for v := 0.001; v < 1e6; v *= 1.7 {
		f.Observe(nil, v)
	}
	f.Collect(func(sr store.Series) {
		nb, _ := sr.Native()
		if len(nb.Positive) > 20 || nb.Schema >= 8 {
			t.Errorf("schema %d with %d buckets, want <= 20", nb.Schema, len(nb.Positive))
		}
		var n uint64
		for _, c := range nb.Positive {
			n += c
		}
		testutil.Diff(t, sr.Count, n)
	})
}

func TestNativeSchema(t *testing.T) {
	t.Parallel()
	for f, want := range map[float64]int32{1.1: 3, 2: 0, 1.0001: 8, 4: -1, 1e9: -4, 1.5: 1} {
		testutil.Diff(t, want, store.NativeSchema(f))
	}
}

// TestPlainSeriesSize: the features of this file cost a stored series of
// a rule that uses none of them a creation time and one nil pointer: 40
// bytes in all (a 48-byte allocation).
func TestPlainSeriesSize(t *testing.T) {
	t.Parallel()
	testutil.Diff(t, uintptr(40), store.CellSize)
}

// BenchmarkObserveNative observes into an existing native histogram series
// (with classic buckets too) and a plain one, for comparison.
func BenchmarkObserveNative(b *testing.B) {
	for _, native := range []bool{false, true} {
		b.Run(map[bool]string{false: "classic", true: "native"}[native], func(b *testing.B) {
			s := store.New(0, nil, nil)
			f := s.Family(store.Options{Name: "h", Kind: store.Histogram, Buckets: []float64{0.1, 1, 10}, Native: native, NativeSchema: 3})
			k := store.AppendKeyString(nil, "GET")
			vals := []float64{0.05, 0.3, 2, 40}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				f.Observe(k, vals[i&3])
				i++
			}
		})
	}
}

// BenchmarkAddExemplar adds to an existing counter series with an exemplar.
func BenchmarkAddExemplar(b *testing.B) {
	s := store.New(0, nil, nil)
	f := s.Family(store.Options{Name: "c", Kind: store.Counter, Labels: []string{"m"}, Exemplar: []string{"trace_id"}})
	k := store.AppendKeyString(nil, "GET")
	d := store.Detail{Exemplar: store.AppendKeyString(nil, "4bf92f3577b34da6a3ce929d0e0e4736"), Time: 1}
	b.ReportAllocs()
	for b.Loop() {
		f.AddAt(k, 1, d)
	}
}
