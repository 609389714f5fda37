package sample

import (
	"context"
	"math"
	"strconv"
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

func newSampler(t testing.TB, deps component.Deps, edit func(*Config)) *Transform {
	t.Helper()
	tr, err := New(testutil.NewConfig(t, edit), deps)
	if err != nil {
		t.Fatal(err)
	}
	return tr.(*Transform)
}

// run feeds n events made by mk through tr in batches of 1000, calls keep
// (when set) on each kept event and returns how many were kept.
func run(t testing.TB, tr *Transform, n int, mk func(i int, e *event.Event), keep func(e *event.Event)) int {
	t.Helper()
	kept := 0
	batch := &event.Batch{}
	out := func(_ context.Context, _ string, b *event.Batch) error {
		kept += len(b.Events)
		if keep != nil {
			for i := range b.Events {
				keep(&b.Events[i])
			}
		}
		return nil
	}
	for i := 0; i < n; i += 1000 {
		batch.Events = batch.Events[:0]
		for j := i; j < min(n, i+1000); j++ {
			var e event.Event
			mk(j, &e)
			batch.Events = append(batch.Events, e)
		}
		if err := tr.Process(context.Background(), batch, out); err != nil {
			t.Fatal(err)
		}
	}
	return kept
}

func plain(int, *event.Event) {}

// TestCountingIsExact: counting keeps exactly one in N (the first of
// each N) and counts the rest as dropped.
func TestCountingIsExact(t *testing.T) {
	t.Parallel()
	const n = 1_000_000
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want int
	}{
		{"rate 10", func(c *Config) { c.Rate = 10 }, 100_000},
		{"rate 7", func(c *Config) { c.Rate = 7 }, 142_858},
		{"rate 1", func(c *Config) { c.Rate = 1 }, n},
		{"ratio 0.25", func(c *Config) { c.Ratio = 0.25 }, 250_000},
		{"ratio 0.001", func(c *Config) { c.Ratio = 0.001 }, 1_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			deps := testutil.Deps(t, "s")
			tr := newSampler(t, deps, tc.edit)
			testutil.Diff(t, tc.want, run(t, tr, n, plain, nil))
			testutil.Diff(t, float64(n-tc.want), testutil.CounterValue(t, tr.dropped))
		})
	}
}

// TestKeyed: with key_field every key is sampled on its own, so a rare key
// keeps its share.
func TestKeyed(t *testing.T) {
	t.Parallel()
	tr := newSampler(t, testutil.Deps(t, "s"), func(c *Config) { c.Rate = 10; c.KeyField = "app" })
	got := map[string]int{}
	run(t, tr, 10_100, func(i int, e *event.Event) {
		app := "busy"
		if i%101 == 0 {
			app = "rare" // 100 events
		}
		e.Fields = event.Fields{{Key: "app", Value: event.String(app)}}
	}, func(e *event.Event) { v, _ := e.Fields.Get("app"); got[v.Str()]++ })
	testutil.Diff(t, map[string]int{"busy": 1000, "rare": 10}, got)
}

// TestMaxKeys: beyond max_keys the counts start over, counted.
func TestMaxKeys(t *testing.T) {
	t.Parallel()
	tr := newSampler(t, testutil.Deps(t, "s"), func(c *Config) { c.Rate = 2; c.KeyField = "k"; c.MaxKeys = 10 })
	kept := run(t, tr, 25, func(i int, e *event.Event) {
		e.Fields = event.Fields{{Key: "k", Value: event.Int(int64(i))}}
	}, nil)
	testutil.Diff(t, 25, kept) // every key new: each one's first event
	testutil.Diff(t, 2.0, testutil.CounterValue(t, tr.resets))
	if len(tr.counts) > 10 {
		t.Errorf("%d keys held, max_keys is 10", len(tr.counts))
	}
}

// TestHashRate: over 1 M distinct IDs the hash keeps the asked share,
// within 5 standard deviations.
func TestHashRate(t *testing.T) {
	t.Parallel()
	const n = 1_000_000
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		ratio float64
	}{
		{"rate 10", func(c *Config) { c.Rate = 10 }, 0.1},
		{"ratio 0.5", func(c *Config) { c.Ratio = 0.5 }, 0.5},
		{"ratio 0.01", func(c *Config) { c.Ratio = 0.01 }, 0.01},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := newSampler(t, testutil.Deps(t, "s"), func(c *Config) { tc.edit(c); c.HashField = "trace_id" })
			kept := run(t, tr, n, func(i int, e *event.Event) {
				e.Fields = event.Fields{{Key: "trace_id", Value: event.String("req-" + strconv.Itoa(i))}}
			}, nil)
			want := tc.ratio * n
			tol := 5 * math.Sqrt(n*tc.ratio*(1-tc.ratio))
			if d := float64(kept) - want; d > tol || d < -tol {
				t.Errorf("kept %d of %d, want %.0f ± %.0f", kept, n, want, tol)
			}
		})
	}
}

// TestHashKeepsTogether: every event of one ID shares one fate, and two
// separate samplers (two instances) decide alike.
func TestHashKeepsTogether(t *testing.T) {
	t.Parallel()
	mk := func(i int, e *event.Event) {
		e.Fields = event.Fields{{Key: "trace_id", Value: event.String("t" + strconv.Itoa(i%500))}}
		e.Message = []byte(strconv.Itoa(i))
	}
	decide := func() map[string][]bool {
		tr := newSampler(t, testutil.Deps(t, "s"), func(c *Config) { c.Rate = 4; c.HashField = "trace_id" })
		fate := map[string][]bool{}
		keptMsgs := map[string]bool{}
		run(t, tr, 10_000, mk, func(e *event.Event) { keptMsgs[string(e.Message)] = true })
		for i := range 10_000 {
			var e event.Event
			mk(i, &e)
			v, _ := e.Fields.Get("trace_id")
			fate[v.Str()] = append(fate[v.Str()], keptMsgs[string(e.Message)])
		}
		return fate
	}
	a, b := decide(), decide()
	testutil.Diff(t, a, b)
	keptIDs := 0
	for id, f := range a {
		for _, k := range f {
			if k != f[0] {
				t.Fatalf("trace %s: events kept and dropped: %v", id, f)
			}
		}
		if f[0] {
			keptIDs++
		}
	}
	if keptIDs == 0 || keptIDs == 500 {
		t.Errorf("kept %d of 500 traces", keptIDs)
	}
}

// TestExclude: excluded events all pass and do not count toward the rate.
func TestExclude(t *testing.T) {
	t.Parallel()
	tr := newSampler(t, testutil.Deps(t, "s"), func(c *Config) { c.Rate = 10; c.Exclude = `level == "error"` })
	got := map[string]int{}
	run(t, tr, 1100, func(i int, e *event.Event) {
		level := "info"
		if i%11 == 0 {
			level = "error" // 100 events
		}
		e.Fields = event.Fields{{Key: "level", Value: event.String(level)}}
	}, func(e *event.Event) { v, _ := e.Fields.Get("level"); got[v.Str()]++ })
	testutil.Diff(t, map[string]int{"error": 100, "info": 100}, got)
}

// TestAcknowledged: dropping (all or some) still completes the source's
// ack token exactly once, after downstream, as the pipeline does it.
func TestAcknowledged(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 3, 25} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			tr := newSampler(t, testutil.Deps(t, "s"), func(c *Config) { c.Rate = 10 })
			tr.seen = 1 // the first event of this batch is dropped
			in := &event.Batch{Events: make([]event.Event, n)}
			got := testutil.RunTransform(t, tr, in)
			want := n / 10 // counts 1..n: those divisible by 10
			kept := 0
			for _, g := range got {
				kept += len(g.Batch.Events)
			}
			testutil.Diff(t, want, kept)
		})
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"none", func(*Config) {}, "one is required"},
		{"both", func(c *Config) { c.Rate, c.Ratio = 2, 0.5 }, "not both"},
		{"ratio", func(c *Config) { c.Ratio = 1.5 }, "ratio: 1.5"},
		{"keys", func(c *Config) { c.Rate, c.KeyField, c.HashField = 2, "a", "b" }, "key_field and hash_field"},
		{"exclude", func(c *Config) { c.Rate, c.Exclude = 2, "level ==" }, "exclude:"},
		{"max keys", func(c *Config) { c.Rate, c.MaxKeys = 2, 0 }, "max_keys"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testutil.ConfigError(t, tc.edit, tc.want)
		})
	}
}

func TestRegistered(t *testing.T) {
	t.Parallel()
	testutil.CheckRegistered[Config](t, component.KindTransform, "sample")
}

func BenchmarkProcess(b *testing.B) {
	for _, bc := range []struct {
		name string
		edit func(*Config)
	}{
		{"rate", func(c *Config) { c.Rate = 10 }},
		{"key_field", func(c *Config) { c.Rate = 10; c.KeyField = "host" }},
		{"hash_field", func(c *Config) { c.Rate = 10; c.HashField = "request_id" }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tr := newSampler(b, testutil.Deps(b, "s"), bc.edit)
			src := testutil.AccessLogEvents(1000)
			for i := range src {
				src[i].Host = "web-" + strconv.Itoa(i%20)
				src[i].Fields = event.Fields{{Key: "request_id", Value: event.String("r" + strconv.Itoa(i))}}
			}
			testutil.BenchTransform(b, tr, src)
		})
	}
}

// TestExcludeErrors: an event on which exclude fails is sampled like any
// other and counted as an error.
func TestExcludeErrors(t *testing.T) {
	t.Parallel()
	deps := testutil.Deps(t, "s")
	tr := newSampler(t, deps, func(c *Config) { c.Rate = 2; c.Exclude = "status >= 500" })
	kept := run(t, tr, 4, func(i int, e *event.Event) {
		e.Fields = event.Fields{{Key: "status", Value: event.String("n/a")}}
	}, nil)
	testutil.Diff(t, 2, kept)
	testutil.Diff(t, 4.0, testutil.CounterValue(t, deps.Metrics.Errors))
}
