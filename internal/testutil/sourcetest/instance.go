package sourcetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/telemetry"
	"github.com/sluice-log/sluice/internal/testutil"
)

// suite is the state of one check: the harness's fixture and the deps
// shared by every instance the check starts.
type suite struct {
	t    testing.TB
	h    Harness
	fx   *Fixture
	deps component.Deps
	reg  *prometheus.Registry
	fed  int // messages fed so far, for unique names
}

func newSuite(t testing.TB, h Harness) *suite {
	t.Helper()
	s := &suite{t: t, h: h, reg: prometheus.NewRegistry()}
	s.deps = testutil.Deps(t, "conformance")
	s.deps.Metrics = telemetry.New(s.reg).Component("source", h.Type, s.deps.ID)
	s.fx = h.Setup(t, t.TempDir())
	if s.fx == nil || s.fx.New == nil || s.fx.Feed == nil {
		t.Fatalf("sourcetest: Setup must return a Fixture with New and Feed")
	}
	if h.Replay && s.fx.Committed == nil {
		t.Fatalf("sourcetest: a Replay harness needs Fixture.Committed")
	}
	return s
}

// instance is one running source.
type instance struct {
	s      *suite
	col    *collector
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned, err set
	err    error
}

// start builds a source instance and runs it the pipeline's way: Start
// first when it is a component.Starter, then Run.
func (s *suite) start() *instance {
	s.t.Helper()
	src := s.build()
	s.startSource(src)
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{s: s, col: newCollector(s.t), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(in.done)
		in.err = src.Run(ctx, in.col.emit)
		in.col.finish()
	}()
	s.t.Cleanup(func() {
		cancel()
		in.col.releaseHeld(0, ack.Delivered, ack.Delivered) // let a Run waiting for them go
		select {
		case <-in.done:
		case <-time.After(s.h.Wait):
			s.t.Errorf("Run did not return within %v of the end of the check", s.h.Wait)
		}
	})
	return in
}

// build builds a source instance.
func (s *suite) build() component.Source {
	s.t.Helper()
	src := s.fx.New(s.t, s.deps)
	if src == nil {
		s.t.Fatalf("Fixture.New returned no source")
	}
	return src
}

// startSource calls Start when src is a component.Starter, bounded by the
// wait, and reports whether it is one.
func (s *suite) startSource(src component.Source) bool {
	s.t.Helper()
	st, ok := src.(component.Starter)
	if !ok {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.h.Wait)
	defer cancel()
	if err := st.Start(ctx); err != nil {
		s.t.Fatalf("Start: %v", err)
	}
	return true
}

// stop cancels Run and waits for it to return, failing the check if it
// does not within the wait or returns an error.
func (in *instance) stop() {
	in.s.t.Helper()
	in.cancel()
	in.wait()
}

// wait waits for Run to return after a cancel.
func (in *instance) wait() {
	in.s.t.Helper()
	select {
	case <-in.done:
	case <-time.After(in.s.h.Wait):
		in.s.t.Fatalf("Run did not return within %v of its context's cancellation", in.s.h.Wait)
	}
	if in.err != nil {
		in.s.t.Errorf("Run returned %v after cancellation, want nil", in.err)
	}
}

// running reports whether Run has not returned yet.
func (in *instance) running() bool {
	select {
	case <-in.done:
		return false
	default:
		return true
	}
}

// feed generates n messages named after what, feeds them and returns them.
func (s *suite) feed(what string, n int) []string {
	s.t.Helper()
	msgs := s.next(what, n)
	if err := s.fx.Feed(s.t, msgs); err != nil {
		s.t.Fatalf("feeding %d messages: %v", n, err)
	}
	return msgs
}

// next returns n new messages: unique, ordered, with a payload that shows
// truncation or corruption.
func (s *suite) next(what string, n int) []string {
	msgs := make([]string, n)
	for i := range msgs {
		s.fed++
		msgs[i] = fmt.Sprintf("%s %04d payload=%s", what, s.fed, "The quick brown fox {\"json\": [1, 2]} <tag> a=b")
	}
	return msgs
}

// waitFor waits until the instance emitted n messages.
func (in *instance) waitFor(n int) []string {
	in.s.t.Helper()
	m, err := in.col.waitFor(n, in.s.h.Wait)
	if err != nil {
		in.s.t.Fatalf("%v", err)
	}
	return m
}

// eventually is testutil.Eventually with the harness's wait.
func (s *suite) eventually(cond func() bool) bool { return testutil.Eventually(s.h.Wait, cond) }

// counter sums the series of Fixture.BadMetric.
func (s *suite) counter() float64 {
	s.t.Helper()
	mfs, err := s.reg.Gather()
	if err != nil {
		s.t.Fatalf("gathering metrics: %v", err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != s.fx.BadMetric {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetCounter().GetValue()
		}
	}
	return sum
}
