package store_test

import (
	"fmt"
	"log/slog"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/metrics/store"
	"github.com/sluice-log/sluice/internal/testutil"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func key(vals ...string) []byte {
	var k []byte
	for _, v := range vals {
		k = store.AppendKeyString(k, v)
	}
	return k
}

// dump renders a family as sorted "labels=value" lines.
func dump(f *store.Family) []string {
	var out []string
	f.Collect(func(s store.Series) {
		v := fmt.Sprint(s.Value)
		if f.Options().Kind == store.Histogram {
			v = fmt.Sprintf("%v sum=%v count=%d", s.Counts, s.Sum, s.Count)
		}
		out = append(out, strings.Join(s.Labels, ",")+"="+v)
	})
	sort.Strings(out)
	return out
}

func TestFamily(t *testing.T) {
	t.Parallel()
	type op struct {
		kind string // add, set, observe
		lbl  []string
		v    float64
	}
	for _, tc := range []struct {
		name   string
		opts   store.Options
		ops    []op
		want   []string
		folded uint64
	}{
		{
			name: "counter by labels",
			opts: store.Options{Name: "c", Kind: store.Counter, Labels: []string{"code", "method"}},
			ops:  []op{{"add", []string{"200", "GET"}, 1}, {"add", []string{"200", "GET"}, 1}, {"add", []string{"404", "GET"}, 1}},
			want: []string{"200,GET=2", "404,GET=1"},
		},
		{
			name: "gauge set add sub",
			opts: store.Options{Name: "g", Kind: store.Gauge, Labels: []string{"q"}},
			ops:  []op{{"set", []string{"a"}, 5}, {"add", []string{"a"}, 2}, {"add", []string{"a"}, -3}, {"set", []string{"b"}, 1}},
			want: []string{"a=4", "b=1"},
		},
		{
			name: "histogram buckets",
			opts: store.Options{Name: "h", Kind: store.Histogram, Buckets: []float64{0.1, 1}},
			ops:  []op{{"observe", nil, 0.05}, {"observe", nil, 0.1}, {"observe", nil, 0.5}, {"observe", nil, 7}},
			want: []string{"=[2 1 1] sum=7.65 count=4"},
		},
		{
			name:   "fold beyond max_series",
			opts:   store.Options{Name: "f", Kind: store.Counter, Labels: []string{"ip", "user"}, MaxSeries: 2},
			ops:    []op{{"add", []string{"1", "a"}, 1}, {"add", []string{"2", "a"}, 1}, {"add", []string{"3", "a"}, 1}, {"add", []string{"4", "b"}, 1}, {"add", []string{"1", "a"}, 1}},
			want:   []string{"1,a=2", "2,a=1", "__overflow__,__overflow__=2"},
			folded: 2,
		},
		{
			name:   "real overflow labels share the overflow series",
			opts:   store.Options{Name: "f", Kind: store.Counter, Labels: []string{"ip"}, MaxSeries: 1},
			ops:    []op{{"add", []string{"__overflow__"}, 1}, {"add", []string{"x"}, 1}, {"add", []string{"__overflow__"}, 1}},
			want:   []string{"__overflow__=3"},
			folded: 1,
		},
		{
			name: "empty and odd label values",
			opts: store.Options{Name: "e", Kind: store.Counter, Labels: []string{"a", "b"}},
			ops:  []op{{"add", []string{"", "x\xff\n\"y"}, 1}, {"add", []string{"", ""}, 1}},
			want: []string{",=1", ",x\xff\n\"y=1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := store.New(0, nil, nil).Family(tc.opts)
			for _, o := range tc.ops {
				k := key(o.lbl...)
				switch o.kind {
				case "add":
					f.Add(k, o.v)
				case "set":
					f.Set(k, o.v)
				case "observe":
					f.Observe(k, o.v)
				}
			}
			testutil.Diff(t, tc.want, dump(f))
			testutil.Diff(t, tc.folded, f.Folded())
		})
	}
}

func TestExpire(t *testing.T) {
	t.Parallel()
	c := &clock{t: time.Unix(1000, 0)}
	s := store.New(0, c.now, nil)
	f := s.Family(store.Options{Name: "c", Labels: []string{"k"}, ExpireAfter: 10 * time.Minute, MaxSeries: 1})
	f.Add(key("old"), 1)
	f.Add(key("folded"), 1) // overflow series, idle as long as "old"
	c.add(9 * time.Minute)
	f.Add(key("old"), 1)
	c.add(2 * time.Minute) // the overflow series is 11m idle, "old" 2m
	testutil.Diff(t, []string{"old=2"}, dump(f))
	testutil.Diff(t, 1, s.Series())
	c.add(10 * time.Minute)
	f.Sweep()
	testutil.Diff(t, 0, s.Series())
	testutil.Diff(t, []string(nil), dump(f))

	never := s.Family(store.Options{Name: "n", Labels: []string{"k"}})
	never.Add(key("x"), 1)
	c.add(1000 * time.Hour)
	testutil.Diff(t, []string{"x=1"}, dump(never))
}

func TestResetOnScrape(t *testing.T) {
	t.Parallel()
	f := store.New(0, nil, nil).Family(store.Options{Name: "r", Labels: []string{"k"}, ResetOnScrape: true})
	f.Add(key("a"), 3)
	testutil.Diff(t, []string{"a=3"}, dump(f))
	testutil.Diff(t, []string{"a=0"}, dump(f)) // a second scraper sees what the first left
	f.Add(key("a"), 1)
	testutil.Diff(t, []string{"a=1"}, dump(f))
}

func TestGlobalBudget(t *testing.T) {
	t.Parallel()
	var logged strings.Builder
	c := &clock{t: time.Unix(0, 0)}
	s := store.New(3, c.now, slog.New(slog.NewTextHandler(&logged, nil)))
	a := s.Family(store.Options{Name: "a", Labels: []string{"k"}})
	b := s.Family(store.Options{Name: "b", Labels: []string{"k"}, MaxSeries: 1})
	testutil.Diff(t, true, a.Add(key("1"), 1))
	testutil.Diff(t, true, a.Add(key("2"), 1))
	testutil.Diff(t, true, b.Add(key("1"), 1))
	testutil.Diff(t, false, b.Add(key("2"), 1)) // the overflow series is a new series too
	testutil.Diff(t, false, a.Add(key("3"), 1))
	testutil.Diff(t, true, a.Add(key("1"), 1)) // existing series still count
	testutil.Diff(t, 3, s.Series())
	testutil.Diff(t, uint64(2), s.Refused())
	testutil.Diff(t, 1, strings.Count(logged.String(), "budget reached")) // rate-limited
	c.add(time.Minute)
	a.Add(key("4"), 1)
	testutil.Diff(t, 2, strings.Count(logged.String(), "budget reached"))

	s.Retain(map[string]string{"b": ""}) // a reload removed rule a
	testutil.Diff(t, 1, s.Series())
	testutil.Diff(t, true, a.Add(key("9"), 1)) // a dropped family ignores updates
	testutil.Diff(t, 0, a.Len())
	a2 := s.Family(store.Options{Name: "a", Labels: []string{"k"}})
	testutil.Diff(t, true, a2.Add(key("3"), 1))
}

func TestReload(t *testing.T) {
	t.Parallel()
	s := store.New(0, nil, nil)
	opts := func(hash string, labels ...string) store.Options {
		return store.Options{Name: "x", Labels: labels, Hash: hash}
	}
	f := s.Family(opts("h1", "k"))
	f.Add(key("a"), 1)
	testutil.Diff(t, true, s.Family(opts("h1", "k")) == f) // unchanged: the same family

	// A changed rule whose reload then failed: the old family stays.
	g := s.Family(opts("h2", "k", "l"))
	testutil.Diff(t, true, s.Family(opts("h2", "k", "l")) == g)
	g.Add(key("b", "c"), 1)
	testutil.Diff(t, 1, len(s.Families()))
	s.Retain(map[string]string{"x": "h1"})
	testutil.Diff(t, []string{"a=1"}, dump(f))
	testutil.Diff(t, 1, s.Series())

	// A changed rule whose reload applied: the new family replaces the old.
	g = s.Family(opts("h2", "k", "l"))
	g.Add(key("b", "c"), 1)
	f.Add(key("a"), 1) // the old sink draining
	s.Retain(map[string]string{"x": "h2"})
	fams := s.Families()
	testutil.Diff(t, true, len(fams) == 1 && fams[0] == g)
	testutil.Diff(t, []string{"b,c=1"}, dump(g))
	testutil.Diff(t, 1, s.Series())
	testutil.Diff(t, 0, f.Len())

	s.Retain(nil) // the rule removed
	testutil.Diff(t, 0, s.Series())
	testutil.Diff(t, 0, len(s.Families()))
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	f := store.New(0, nil, nil).Family(store.Options{Name: "c", Labels: []string{"k"}, MaxSeries: 5})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 1000 {
				f.Add(key(fmt.Sprint((g+i)%10)), 1)
			}
		})
	}
	wg.Go(func() {
		for range 100 {
			f.Collect(func(store.Series) {})
		}
	})
	wg.Wait()
	total := 0.0
	f.Collect(func(s store.Series) { total += s.Value })
	testutil.Diff(t, 8000.0, total)
	testutil.Diff(t, 6, f.Len())
}

func BenchmarkAddExisting(b *testing.B) {
	f := store.New(0, nil, nil).Family(store.Options{Name: "c", Labels: []string{"code", "method"}})
	var buf []byte
	buf = store.AppendKeyString(store.AppendKeyString(buf, "200"), "GET")
	f.Add(buf, 1)
	b.ReportAllocs()
	for b.Loop() {
		buf = store.AppendKeyString(store.AppendKeyString(buf[:0], "200"), "GET")
		f.Add(buf, 1)
	}
}

func BenchmarkObserveExisting(b *testing.B) {
	f := store.New(0, nil, nil).Family(store.Options{Name: "h", Kind: store.Histogram, Labels: []string{"path"},
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}})
	buf := store.AppendKeyString(nil, "/api/v1/things")
	b.ReportAllocs()
	for b.Loop() {
		f.Observe(buf, 0.3)
	}
}

// BenchmarkMemoryPerSeries reports the heap one counter series with two
// labels (an IPv4 address and a status code) takes, map entry included.
func BenchmarkMemoryPerSeries(b *testing.B) {
	const n = 100000
	var before, after runtime.MemStats
	for b.Loop() {
		runtime.GC()
		runtime.ReadMemStats(&before)
		s := store.New(n, nil, nil)
		f := s.Family(store.Options{Name: "m", Labels: []string{"ip", "code"}})
		var k []byte
		for i := range n {
			k = store.AppendKeyString(store.AppendKeyString(k[:0], fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255)), "200")
			f.Add(k, 1)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "B/series")
		runtime.KeepAlive(f)
	}
}
