package pipeline

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/logging"
	"github.com/sluice-log/sluice/internal/telemetry"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func parse(t *testing.T, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse(t.Name(), []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	cfg.DataDir = t.TempDir()
	return cfg
}

func newPipeline(t *testing.T) *Pipeline {
	return New(Options{Logger: logging.New(t.Output(), 0, false, 0), Metrics: telemetry.New(prometheus.NewRegistry())})
}

func msgs(prefix string, n int, transform string) []string {
	var out []string
	for i := range n {
		out = append(out, transform+prefix+fmt.Sprint(i))
	}
	return out
}

func sorted(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }

// run applies cfg, waits for the sources to finish and stops.
func run(t *testing.T, cfg *config.Config) {
	t.Helper()
	p := newPipeline(t)
	if err := p.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	p.Wait()
	p.Stop(10 * time.Second)
}

// settle lets d of the bubble's fake time pass, then waits until every
// goroutine of the test is blocked again: what the pipeline can do by then
// is done, with no real waiting and no race with the assertions after it.
func settle(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

func TestFanOutAndTransforms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t.Name())
		run(t, parse(t, `
sources:
  src: { type: testsrc, world: `+t.Name()+`, count: 250, batch: 7, prefix: e }
transforms:
  up: { type: testupper, inputs: [src], drop_suffix: "9" }
sinks:
  raw: { type: testsink, world: `+t.Name()+`, inputs: [src] }
  upper: { type: testsink, world: `+t.Name()+`, inputs: [up], batch: { max_events: 10, timeout: 10ms } }
`))
		testutil.Diff(t, msgs("e", 250, ""), w.delivered["raw"])
		var want []string
		for _, m := range msgs("e", 250, "T:") {
			if !strings.HasSuffix(m, "9") {
				want = append(want, m)
			}
		}
		testutil.Diff(t, want, w.delivered["upper"])
		testutil.Diff(t, map[ack.Status]int{ack.Delivered: 250}, w.acked)
	})
}

func TestNamedOutputs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t.Name())
		run(t, parse(t, `
sources:
  src: { type: testsrc, world: `+t.Name()+`, count: 20, batch: 3, prefix: e }
transforms:
  split: { type: testsplit, inputs: [src] }
sinks:
  even: { type: testsink, world: `+t.Name()+`, inputs: [split.even] }
`))
		var want []string
		for _, m := range msgs("e", 20, "") {
			if (m[len(m)-1]-'0')%2 == 0 {
				want = append(want, m)
			}
		}
		testutil.Diff(t, want, w.delivered["even"])
		// The odd output has no consumer: those events are done, not stuck.
		testutil.Diff(t, map[ack.Status]int{ack.Delivered: 20}, w.acked)
	})
}

func TestRetryAndPartialOutcomes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t.Name())
		w.failures["s"] = &atomic.Int64{}
		w.failures["s"].Store(3)
		run(t, parse(t, `
sources:
  src: { type: testsrc, world: `+t.Name()+`, count: 100, batch: 10, prefix: e }
sinks:
  s:
    type: testsink
    world: `+t.Name()+`
    inputs: [src]
    reject: "7"
    retry_once: true
    retry: { initial_backoff: 1ms, max_backoff: 5ms }
`))
		var want []string
		rejected := 0
		for _, m := range msgs("e", 100, "") {
			if strings.HasSuffix(m, "7") {
				rejected++
				continue
			}
			want = append(want, m)
		}
		testutil.Diff(t, sorted(want), sorted(w.delivered["s"]))
		// Batches holding a rejected event report Rejected; none is lost or abandoned.
		total := w.acked[ack.Delivered] + w.acked[ack.Rejected]
		if total != 100 || w.acked[ack.Abandoned] != 0 {
			t.Errorf("acks: %v", w.acked)
		}
	})
}

func TestBackpressureBlocksAndDropNewestCounts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		whenFull string
	}{{"block", "block"}, {"drop_newest", "drop_newest"}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t.Name())
				w.gate = make(chan struct{})
				cfg := parse(t, `
sources:
  src: { type: testsrc, world: `+t.Name()+`, count: 100, batch: 10, prefix: e }
sinks:
  s:
    type: testsink
    world: `+t.Name()+`
    inputs: [src]
    batch: { max_events: 10 }
    buffer: { max_events: 20, when_full: `+tc.whenFull+` }
`)
				p := newPipeline(t)
				if err := p.Apply(cfg); err != nil {
					t.Fatal(err)
				}
				done := make(chan struct{})
				go func() { p.Wait(); close(done) }()
				if tc.whenFull == "block" {
					settle(time.Second)
					select {
					case <-done:
						t.Fatal("source finished although the sink is blocked and the buffer is full")
					default:
					}
				}
				close(w.gate)
				<-done
				p.Stop(10 * time.Second)
				got := len(w.delivered["s"])
				switch tc.whenFull {
				case "block":
					testutil.Diff(t, msgs("e", 100, ""), w.delivered["s"])
				case "drop_newest":
					if got+w.acked[ack.Dropped] != 100 || w.acked[ack.Dropped] == 0 {
						t.Errorf("delivered %d + dropped %d != 100", got, w.acked[ack.Dropped])
					}
				}
			})
		})
	}
}

// TestReloadKeepsUnchanged changes one sink while a source keeps emitting:
// the unchanged source is not restarted and every event arrives.
func TestReloadKeepsUnchanged(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t.Name())
		base := `
sources:
  src: { type: testsrc, world: ` + t.Name() + `, count: 5000, batch: 5, prefix: e, follow: true, interval: 1ms }
sinks:
  a: { type: testsink, world: ` + t.Name() + `, inputs: [src], batch: { max_events: 7 } }
`
		p := newPipeline(t)
		if err := p.Apply(parse(t, base)); err != nil {
			t.Fatal(err)
		}
		settle(300 * time.Millisecond) // the source is about a third through
		// Same sink ID, different config: replaced. A new sink b appears.
		changed := base + `  b: { type: testsink, world: ` + t.Name() + `, inputs: [src] }
`
		changed = strings.Replace(changed, "max_events: 7", "max_events: 9", 1)
		if err := p.Apply(parse(t, changed)); err != nil {
			t.Fatal(err)
		}
		if err := p.Apply(parse(t, changed)); err != nil { // no-op
			t.Fatal(err)
		}
		settle(2 * time.Second) // past the source's last batch and every batch timeout
		testutil.Diff(t, map[ack.Status]int{ack.Delivered: 5000}, w.acked)
		p.Stop(10 * time.Second)
		// Old and new instance of a overlap while the old one drains, so order may differ.
		testutil.Diff(t, sorted(msgs("e", 5000, "")), sorted(w.delivered["a"]))
		testutil.Diff(t, map[string]int{"src": 1}, w.srcStarts)
		if len(w.delivered["b"]) == 0 || len(w.delivered["b"]) > 5000 {
			t.Errorf("new sink got %d events", len(w.delivered["b"]))
		}
	})
}

func TestStopAbandonsWhatCannotBeDelivered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t.Name())
		w.gate = make(chan struct{}) // never opens
		p := newPipeline(t)
		if err := p.Apply(parse(t, `
sources:
  src: { type: testsrc, world: `+t.Name()+`, count: 30, batch: 10, prefix: e, follow: true }
sinks:
  s: { type: testsink, world: `+t.Name()+`, inputs: [src] }
`)); err != nil {
			t.Fatal(err)
		}
		settle(time.Second) // every batch is waiting on the closed gate
		p.Stop(50 * time.Millisecond)
		if w.acked[ack.Delivered] != 0 || w.acked[ack.Abandoned] != 30 {
			t.Errorf("acks after hard stop: %v", w.acked)
		}
		if got := p.Undelivered(); got != 30 {
			t.Errorf("Undelivered() = %d, want the 30 abandoned", got)
		}
	})
}

// TestReloadDoesNotHangOnADownSink replaces a sink whose destination never
// answers: the reload returns after the drain bound, the held events are
// abandoned (for the sources to replay), and the new sink takes over.
func TestReloadDoesNotHangOnADownSink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t.Name())
		w.gate = make(chan struct{})
		p := New(Options{Logger: logging.New(t.Output(), 0, false, 0), Metrics: telemetry.New(prometheus.NewRegistry()),
			ReloadDrain: 100 * time.Millisecond})
		base := `
sources:
  src: { type: testsrc, world: ` + t.Name() + `, count: 50, batch: 5, prefix: e, follow: true }
sinks:
  a: { type: testsink, world: ` + t.Name() + `, inputs: [src], batch: { max_events: 7 } }
`
		if err := p.Apply(parse(t, base)); err != nil {
			t.Fatal(err)
		}
		settle(time.Second)
		done := make(chan error, 1)
		go func() { done <- p.Apply(parse(t, strings.Replace(base, "max_events: 7", "max_events: 9", 1))) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("reload hung on a sink that cannot deliver")
		}
		close(w.gate)
		p.Stop(5 * time.Second)
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.acked[ack.Abandoned] == 0 {
			t.Errorf("acks %v: the stuck sink's events should be abandoned", w.acked)
		}
	})
}

// TestTransformAbandonsAfterHardStop: batches pushed into a transform
// after the hard stop are released (abandoned), not stranded.
func TestTransformAbandonsAfterHardStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t.Name())
		p := newPipeline(t)
		if err := p.Apply(parse(t, `
sources:
  src: { type: testsrc, world: `+t.Name()+`, count: 0, batch: 1, follow: true }
transforms:
  up: { type: testupper, inputs: [src] }
sinks:
  a: { type: testsink, world: `+t.Name()+`, inputs: [up] }
`)); err != nil {
			t.Fatal(err)
		}
		p.hardCancel()
		synctest.Wait()
		released := make(chan ack.Status, 1)
		b := &event.Batch{Events: []event.Event{{Message: []byte("late")}}, Ack: ack.New(func(s ack.Status) { released <- s })}
		_ = p.nodes["src"].emitter()(context.Background(), b)
		select {
		case s := <-released:
			if s != ack.Abandoned {
				t.Errorf("released as %v", s)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a batch pushed after the hard stop was never released")
		}
		p.Stop(time.Second)
		_ = w
	})
}

// A Retry-After hint longer than the backoff schedule holds the retry back
// that long; one longer than MaxRetryAfter is cut to it.
func TestRetryAfterIsHonoured(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after string
		want  time.Duration
	}{
		{"hint", "7s", 7 * time.Second},
		{"capped", "10h", component.MaxRetryAfter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t.Name())
				p := newPipeline(t)
				if err := p.Apply(parse(t, `
sources:
  src: { type: testsrc, world: `+t.Name()+`, count: 3, batch: 3, prefix: e }
sinks:
  s:
    type: testsink
    world: `+t.Name()+`
    inputs: [src]
    retry_after: `+tc.after+`
    retry: { initial_backoff: 10ms, max_backoff: 20ms }
`)); err != nil {
					t.Fatal(err)
				}
				p.Wait()
				sink := p.nodes["s"].impl.(*testSink)
				p.Stop(time.Second)
				if len(sink.writes) != 2 {
					t.Fatalf("%d writes, want 2", len(sink.writes))
				}
				if got := sink.writes[1].Sub(sink.writes[0]); got != tc.want {
					t.Errorf("retried after %v, want %v", got, tc.want)
				}
				testutil.Diff(t, msgs("e", 3, ""), w.delivered["s"])
			})
		})
	}
}

// With acknowledgements off the source's token is released as soon as the
// batch is taken into the sink's buffer, although the sink has delivered
// nothing yet; the events still arrive.
func TestAcknowledgementsOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t.Name())
		w.gate = make(chan struct{})
		p := newPipeline(t)
		if err := p.Apply(parse(t, `
sources:
  src: { type: testsrc, world: `+t.Name()+`, count: 20, batch: 5, prefix: e, acknowledgements: false }
sinks:
  s: { type: testsink, world: `+t.Name()+`, inputs: [src] }
`)); err != nil {
			t.Fatal(err)
		}
		p.Wait()
		w.mu.Lock()
		testutil.Diff(t, map[ack.Status]int{ack.Delivered: 20}, w.acked)
		testutil.Diff(t, []string(nil), w.delivered["s"])
		w.mu.Unlock()
		close(w.gate)
		p.Stop(time.Second)
		testutil.Diff(t, msgs("e", 20, ""), w.delivered["s"])
	})
}

// On the first Apply every source starts before anything runs: one that
// cannot start fails Apply, and the ones that did start are released.
func TestStartFailureStopsStartUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t.Name())
		p := newPipeline(t)
		err := p.Apply(parse(t, `
sources:
  good: { type: testsrc, world: `+t.Name()+`, count: 5, batch: 5, prefix: e, follow: true }
  bad: { type: testsrc, world: `+t.Name()+`, count: 5, batch: 5, start_error: "listening on 127.0.0.1:5514: address already in use" }
sinks:
  s: { type: testsink, world: `+t.Name()+`, inputs: [good, bad] }
`))
		if err == nil || !strings.Contains(err.Error(), "starting sources.bad: listening on 127.0.0.1:5514: address already in use") {
			t.Fatalf("Apply = %v, want the start error of sources.bad", err)
		}
		testutil.Diff(t, map[string]int{"good": 0}, w.held)
		testutil.Diff(t, map[string]int{}, w.srcStarts)
		if n := p.Sources(); n != 0 {
			t.Errorf("%d sources running after a failed start", n)
		}
		p.Stop(time.Second)
	})
}

// A reload whose changed source cannot start keeps the previous instance
// running and says so; a new source that cannot start is left out and
// shows as failed; the next reload tries again.
func TestReloadKeepsSourceThatCannotStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t.Name())
		p := newPipeline(t)
		base := `
sources:
  a: { type: testsrc, world: ` + t.Name() + `, count: 3, batch: 3, prefix: a, follow: true }
sinks:
  s: { type: testsink, world: ` + t.Name() + `, inputs: [a] }
`
		if err := p.Apply(parse(t, base)); err != nil {
			t.Fatal(err)
		}
		settle(time.Second)
		broken := strings.Replace(base, "prefix: a,", `prefix: a, start_error: "port taken",`, 1) +
			"  # b is new\n"
		broken = strings.Replace(broken, "sinks:", `  b: { type: testsrc, world: `+t.Name()+`, count: 1, batch: 1, start_error: "no such directory" }
sinks:`, 1)
		err := p.Apply(parse(t, broken))
		if err == nil || !strings.Contains(err.Error(), "starting sources.a: port taken; kept the previous config of sources.a") ||
			!strings.Contains(err.Error(), "starting sources.b: no such directory; left out") {
			t.Fatalf("reload error = %v", err)
		}
		settle(time.Second)
		// a was stopped and built again from its old config: it runs (and
		// replays, being a test source without checkpoints).
		testutil.Diff(t, map[string]int{"a": 2}, w.srcStarts)
		testutil.Diff(t, map[string]int{"a": 1}, w.held)
		failed := p.Failed()
		if len(failed) != 1 || failed[0].ID != "b" || failed[0].Error != "starting sources.b: no such directory" {
			t.Errorf("Failed() = %+v", failed)
		}
		// The fixed config applies: a is replaced this time, b is gone.
		if err := p.Apply(parse(t, strings.Replace(base, "count: 3", "count: 4", 1))); err != nil {
			t.Fatal(err)
		}
		settle(time.Second)
		testutil.Diff(t, map[string]int{"a": 3}, w.srcStarts)
		testutil.Diff(t, []Health(nil), p.Failed())
		p.Stop(time.Second)
		testutil.Diff(t, map[string]int{"a": 0}, w.held)
	})
}

// A source whose Run fails is counted, shows as failed, and is started
// again with backoff on a fresh instance until it runs; then it is healthy.
func TestFailedSourceIsRestarted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t.Name())
		p := newPipeline(t)
		if err := p.Apply(parse(t, `
sources:
  src: { type: testsrc, world: `+t.Name()+`, count: 4, batch: 2, prefix: e, follow: true, fail_runs: 3 }
sinks:
  s: { type: testsink, world: `+t.Name()+`, inputs: [src] }
`)); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		h := p.Failed()
		if len(h) != 1 || h[0].ID != "src" || h[0].Error != "injected failure 1" {
			t.Fatalf("after the first failure Failed() = %+v", h)
		}
		start := time.Now()
		settle(10 * time.Second) // backoff 1s, 2s, 4s (with jitter: at most 7s in all)
		testutil.Diff(t, []Health(nil), p.Failed())
		testutil.Diff(t, map[string]int{"src": 4}, w.srcStarts)
		testutil.Diff(t, msgs("e", 4, ""), w.delivered["s"])
		for _, h := range p.Health() {
			if h.ID == "src" && (h.Restarts != 3 || h.State != StateRunning) {
				t.Errorf("health of src: %+v", h)
			}
		}
		if took := time.Since(start); took < 3500*time.Millisecond {
			t.Errorf("three restarts after %v: no backoff", took)
		}
		p.Stop(time.Second)
	})
}

// A sink whose writes fail shows as failed while they do, and as running
// once a write goes through.
func TestSinkHealthFollowsWrites(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t.Name())
		w.failures["s"] = &atomic.Int64{}
		w.failures["s"].Store(1 << 30)
		p := newPipeline(t)
		if err := p.Apply(parse(t, `
sources:
  src: { type: testsrc, world: `+t.Name()+`, count: 2, batch: 2, prefix: e, follow: true }
sinks:
  s: { type: testsink, world: `+t.Name()+`, inputs: [src], retry: { initial_backoff: 1s, max_backoff: 1s } }
`)); err != nil {
			t.Fatal(err)
		}
		settle(3 * time.Second)
		h := p.Failed()
		if len(h) != 1 || h[0].ID != "s" || h[0].Error != "injected failure" {
			t.Fatalf("Failed() = %+v", h)
		}
		w.failures["s"].Store(0)
		settle(3 * time.Second)
		testutil.Diff(t, []Health(nil), p.Failed())
		testutil.Diff(t, msgs("e", 2, ""), w.delivered["s"])
		p.Stop(time.Second)
	})
}

// With GiveUpAfter (--once) a sink whose destination stays down abandons
// its batches after that long, so the sources end and the job can report
// what was left undelivered instead of hanging.
func TestGiveUpAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t.Name())
		w.failures["s"] = &atomic.Int64{}
		w.failures["s"].Store(1 << 30)
		p := New(Options{Logger: logging.New(t.Output(), 0, false, 0), Metrics: telemetry.New(prometheus.NewRegistry()),
			Once: true, GiveUpAfter: 10 * time.Second})
		if err := p.Apply(parse(t, `
sources:
  src: { type: testsrc, world: `+t.Name()+`, count: 20, batch: 10, prefix: e }
sinks:
  s: { type: testsink, world: `+t.Name()+`, inputs: [src], batch: { max_events: 10 }, retry: { initial_backoff: 1s, max_backoff: 1s } }
`)); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		p.Wait()
		if took := time.Since(start); took < 10*time.Second || took > 25*time.Second {
			t.Errorf("the source finished after %v; want the give-up bound (10s per batch)", took)
		}
		p.Stop(time.Second)
		testutil.Diff(t, int64(20), p.Undelivered())
		testutil.Diff(t, map[ack.Status]int{ack.Abandoned: 20}, w.acked)
	})
}

// Health answers while a reload drains a replaced sink (which holds the
// pipeline's lock for as long as it takes), and after Stop it keeps the
// final state of the components that ran last.
func TestHealthDuringReloadAndAfterStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t.Name())
		w.gate = make(chan struct{})
		p := New(Options{Logger: logging.New(t.Output(), 0, false, 0), Metrics: telemetry.New(prometheus.NewRegistry()),
			ReloadDrain: time.Hour})
		base := `
sources:
  src: { type: testsrc, world: ` + t.Name() + `, count: 5, batch: 5, prefix: e, follow: true }
  bad: { type: testsrc, world: ` + t.Name() + `, count: 1, batch: 1, fail_runs: 1000 }
sinks:
  s: { type: testsink, world: ` + t.Name() + `, inputs: [src, bad], batch: { max_events: 7 } }
`
		if err := p.Apply(parse(t, base)); err != nil {
			t.Fatal(err)
		}
		settle(time.Second)
		reloaded := make(chan error, 1)
		go func() { reloaded <- p.Apply(parse(t, strings.Replace(base, "max_events: 7", "max_events: 9", 1))) }()
		synctest.Wait() // the reload waits for the gated sink to drain
		select {
		case err := <-reloaded:
			t.Fatalf("the reload did not wait for the sink (Apply = %v)", err)
		default:
		}
		if h := p.Failed(); len(h) != 1 || h[0].ID != "bad" {
			t.Errorf("Failed() during the reload = %+v", h)
		}
		close(w.gate)
		if err := <-reloaded; err != nil {
			t.Fatal(err)
		}
		p.Stop(time.Second)
		if h := p.Failed(); len(h) != 1 || h[0].ID != "bad" {
			t.Errorf("Failed() after Stop = %+v, want the source that failed", h)
		}
	})
}
