package throttle

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// clock is a hand-stepped clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time       { return c.t }
func (c *clock) step(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *clock                { return &clock{t: time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)} }
func msgs(evs []event.Event) (out []string) {
	for _, e := range evs {
		out = append(out, string(e.Message))
	}
	return out
}

func newThrottle(t testing.TB, c *clock, edit func(*Config)) *Transform {
	t.Helper()
	tr, err := New(testutil.NewConfig(t, edit), testutil.Deps(t, "th"))
	if err != nil {
		t.Fatal(err)
	}
	th := tr.(*Transform)
	if c != nil {
		th.now = c.now
	}
	return th
}

// batch makes n events, keyed by key(i) in field "app" when key is set.
func batch(n int, key func(i int) string) *event.Batch {
	b := &event.Batch{}
	for i := range n {
		e := event.Event{Message: []byte(strconv.Itoa(i))}
		if key != nil {
			e.Fields = event.Fields{{Key: "app", Value: event.String(key(i))}}
		}
		b.Events = append(b.Events, e)
	}
	return b
}

// passed runs b through tr and counts the events on each output.
func passed(t *testing.T, tr *Transform, b *event.Batch) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, em := range testutil.RunTransform(t, tr, b) {
		got[em.Output] += len(em.Batch.Events)
	}
	return got
}

// TestExactCounts steps a clock and checks every count exactly.
func TestExactCounts(t *testing.T) {
	t.Parallel()
	c := newClock()
	tr := newThrottle(t, c, func(cfg *Config) { cfg.Threshold = 10; cfg.Window = config.Duration(time.Second) })
	for _, step := range []struct {
		after  time.Duration
		events int
		want   int
	}{
		{0, 25, 10},                     // the burst (default: threshold)
		{0, 5, 0},                       // nothing left
		{500 * time.Millisecond, 25, 5}, // half a window: half the threshold
		{99 * time.Millisecond, 3, 0},   // just short of one interval
		{time.Millisecond, 3, 1},        // the interval completes
		{time.Hour, 100, 10},            // a long pause refills only the burst
		{100 * time.Millisecond, 1, 1},
	} {
		c.step(step.after)
		got := passed(t, tr, batch(step.events, nil))
		testutil.Diff(t, step.want, got[""])
	}
	testutil.Diff(t, float64(25+5+25+3+3+100+1-27), testutil.CounterValue(t, tr.limited))
	testutil.Diff(t, testutil.CounterValue(t, tr.limited), testutil.CounterValue(t, tr.dropped))
}

// TestBurst: a burst above the threshold allows a larger first spike, then
// the same steady rate.
func TestBurst(t *testing.T) {
	t.Parallel()
	c := newClock()
	tr := newThrottle(t, c, func(cfg *Config) { cfg.Threshold = 2; cfg.Burst = 5; cfg.Window = config.Duration(time.Minute) })
	testutil.Diff(t, 5, passed(t, tr, batch(9, nil))[""])
	c.step(30 * time.Second)
	testutil.Diff(t, 1, passed(t, tr, batch(9, nil))[""])
	c.step(time.Minute)
	testutil.Diff(t, 2, passed(t, tr, batch(9, nil))[""])
}

// TestPerKey: every key has its own budget; events without the field
// share the empty key; a template key works the same way.
func TestPerKey(t *testing.T) {
	t.Parallel()
	for name, edit := range map[string]func(*Config){
		"key_field": func(cfg *Config) { cfg.KeyField = "app" },
		"key":       func(cfg *Config) { cfg.Key = "{{ .app }}" },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			tr := newThrottle(t, c, func(cfg *Config) { cfg.Threshold = 3; edit(cfg) })
			b := batch(30, func(i int) string { return []string{"a", "b", "c"}[i%3] })
			b.Events = append(b.Events, event.Event{Message: []byte("no key")}, event.Event{Message: []byte("no key")})
			got := testutil.RunTransform(t, tr, b)
			testutil.Diff(t, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "no key", "no key"}, msgs(got[0].Batch.Events))
		})
	}
}

// TestMaxKeys: the least recently used key is forgotten first, counted,
// and comes back with a full burst.
func TestMaxKeys(t *testing.T) {
	t.Parallel()
	c := newClock()
	tr := newThrottle(t, c, func(cfg *Config) { cfg.Threshold = 1; cfg.KeyField = "app"; cfg.MaxKeys = 2 })
	keys := func(ks ...string) *event.Batch { return batch(len(ks), func(i int) string { return ks[i] }) }
	testutil.Diff(t, 2, passed(t, tr, keys("a", "b", "a", "b"))[""])
	testutil.Diff(t, 0, passed(t, tr, keys("a"))[""]) // a is now most recent
	// c evicts b, the least recent; b, new again, evicts a and passes
	// with a full burst.
	testutil.Diff(t, 2, passed(t, tr, keys("c", "b"))[""])
	testutil.Diff(t, 2.0, testutil.CounterValue(t, tr.evicted))
	testutil.Diff(t, 2, len(tr.lim.keys))
	testutil.Diff(t, 2, tr.lim.lru.Len())
	// a evicts c and passes; b is spent; c evicts b and passes again.
	testutil.Diff(t, 2, passed(t, tr, keys("a", "b", "c"))[""])
	testutil.Diff(t, 4.0, testutil.CounterValue(t, tr.evicted))
}

// TestDroppedOutput: over-limit events go to the dropped output, in order,
// under the input's ack token (RunTransform checks the token), and are
// not counted as dropped.
func TestDroppedOutput(t *testing.T) {
	t.Parallel()
	c := newClock()
	tr := newThrottle(t, c, func(cfg *Config) { cfg.Threshold = 2; cfg.DroppedOutput = true })
	got := testutil.RunTransform(t, tr, batch(5, nil))
	testutil.Diff(t, 2, len(got))
	testutil.Diff(t, "", got[0].Output)
	testutil.Diff(t, []string{"0", "1"}, msgs(got[0].Batch.Events))
	testutil.Diff(t, DroppedOutput, got[1].Output)
	testutil.Diff(t, []string{"2", "3", "4"}, msgs(got[1].Batch.Events))
	testutil.Diff(t, 3.0, testutil.CounterValue(t, tr.limited))
	testutil.Diff(t, 0.0, testutil.CounterValue(t, tr.dropped))

	// All over the limit: only the dropped output is emitted.
	got = testutil.RunTransform(t, tr, batch(2, nil))
	testutil.Diff(t, 1, len(got))
	testutil.Diff(t, DroppedOutput, got[0].Output)
}

// TestAllDroppedAcknowledged: a batch dropped whole still completes its
// token once (RunTransform fails otherwise).
func TestAllDroppedAcknowledged(t *testing.T) {
	t.Parallel()
	tr := newThrottle(t, newClock(), func(cfg *Config) { cfg.Threshold = 1 })
	testutil.Diff(t, 1, passed(t, tr, batch(3, nil))[""])
	testutil.Diff(t, 0, len(testutil.RunTransform(t, tr, batch(3, nil))))
}

// TestExclude: excluded events pass and use no budget.
func TestExclude(t *testing.T) {
	t.Parallel()
	tr := newThrottle(t, newClock(), func(cfg *Config) { cfg.Threshold = 1; cfg.Exclude = `app == "audit"` })
	b := batch(6, func(i int) string { return []string{"audit", "web"}[i%2] })
	got := testutil.RunTransform(t, tr, b)
	testutil.Diff(t, []string{"0", "1", "2", "4"}, msgs(got[0].Batch.Events))
}

// TestRealClock runs on the real clock in a synctest bubble, whose time
// only moves when every goroutine waits: a second's sleep refills exactly
// one window.
func TestRealClock(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tr := newThrottle(t, nil, func(cfg *Config) { cfg.Threshold = 4 })
		testutil.Diff(t, 4, passed(t, tr, batch(10, nil))[""])
		time.Sleep(time.Second)
		testutil.Diff(t, 4, passed(t, tr, batch(10, nil))[""])
		time.Sleep(time.Second / 2)
		testutil.Diff(t, 2, passed(t, tr, batch(10, nil))[""])
	})
}

func TestOutputs(t *testing.T) {
	t.Parallel()
	testutil.Diff(t, []string(nil), (&Config{}).Outputs())
	testutil.Diff(t, []string{"dropped"}, (&Config{DroppedOutput: true}).Outputs())
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"no threshold", func(*Config) {}, "threshold: required"},
		{"window", func(c *Config) { c.Threshold, c.Window = 1, 0 }, "window:"},
		{"burst", func(c *Config) { c.Threshold, c.Burst = 1, -1 }, "burst:"},
		{"both keys", func(c *Config) { c.Threshold, c.Key, c.KeyField = 1, "{{ .a }}", "a" }, "key and key_field"},
		{"bad template", func(c *Config) { c.Threshold, c.Key = 1, "{{ .a" }, "key:"},
		{"bad exclude", func(c *Config) { c.Threshold, c.Exclude = 1, "a ==" }, "exclude:"},
		{"max keys", func(c *Config) { c.Threshold, c.MaxKeys = 1, 0 }, "max_keys"},
		{"too fast", func(c *Config) { c.Threshold, c.Window = 10, config.Duration(time.Nanosecond) }, "per nanosecond"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testutil.ConfigError(t, tc.edit, tc.want)
		})
	}
}

func TestRegistered(t *testing.T) {
	t.Parallel()
	testutil.CheckRegistered[Config](t, component.KindTransform, "throttle")
}

// BenchmarkProcess throttles batches of 1000 events over 20 hosts.
func BenchmarkProcess(b *testing.B) {
	for name, edit := range map[string]func(*Config){
		"global":    func(*Config) {},
		"key_field": func(c *Config) { c.KeyField = "host" },
		"key":       func(c *Config) { c.Key = "{{ .host }}/{{ .stream }}" },
	} {
		b.Run(name, func(b *testing.B) {
			tr := newThrottle(b, nil, func(c *Config) { c.Threshold = 1000; edit(c) })
			src := testutil.AccessLogEvents(1000)
			for i := range src {
				src[i].Host = "web-" + strconv.Itoa(i%20)
			}
			testutil.BenchTransform(b, tr, src)
		})
	}
}

// TestOutputFails: when downstream stops taking batches, Process returns
// its error and the token is still completed once (RunTransformFailing
// checks), whichever output failed.
func TestOutputFails(t *testing.T) {
	t.Parallel()
	for _, failAt := range []int{1, 2} {
		t.Run(strconv.Itoa(failAt), func(t *testing.T) {
			t.Parallel()
			tr := newThrottle(t, newClock(), func(cfg *Config) { cfg.Threshold = 2; cfg.DroppedOutput = true })
			_, err := testutil.RunTransformFailing(t, tr, batch(5, nil), failAt)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Process = %v, want context.Canceled", err)
			}
		})
	}
}

// TestExcludeErrors: an event on which exclude fails is throttled like any
// other and counted as an error.
func TestExcludeErrors(t *testing.T) {
	t.Parallel()
	deps := testutil.Deps(t, "th")
	tr, err := New(testutil.NewConfig(t, func(c *Config) { c.Threshold = 1; c.Exclude = "status >= 500" }), deps)
	if err != nil {
		t.Fatal(err)
	}
	tr.(*Transform).now = newClock().now
	b := batch(3, nil)
	for i := range b.Events {
		b.Events[i].Fields = event.Fields{{Key: "status", Value: event.String("n/a")}}
	}
	testutil.Diff(t, 1, passed(t, tr.(*Transform), b)[""])
	testutil.Diff(t, 3.0, testutil.CounterValue(t, deps.Metrics.Errors))
}
