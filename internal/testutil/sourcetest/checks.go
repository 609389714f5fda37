package sourcetest

import (
	"context"
	"slices"
	"time"

	"go.uber.org/goleak"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// tokensOrderAndOwnership feeds three runs of messages and checks they
// arrive in order and intact, each batch with a token, and that no batch
// changed after it was emitted (checked when Run returns).
func (s *suite) tokensOrderAndOwnership() {
	in := s.start()
	var want []string
	for range 3 {
		want = append(want, s.feed("order", 10)...)
	}
	in.waitFor(len(want))
	in.stop()
	testutil.Diff(s.t, want, in.col.messages())
}

// checkpoint holds acknowledgements and checks that the checkpoint does
// not move past them; releases some and checks it moves exactly that far;
// abandons one batch and checks it stays before it even when the batches
// after it are delivered and the source stops; then restarts and checks
// that exactly what was not committed comes again.
func (s *suite) checkpoint() {
	in := s.start()
	in.col.setHold(true)
	first := s.feed("held", 3)
	in.waitFor(3)
	if n := s.fx.Committed(s.t); n != 0 {
		s.t.Errorf("checkpoint covers %d messages before any was acknowledged", n)
	}
	in.col.releaseHeld(0, ack.Delivered, ack.Delivered)
	if !s.eventually(func() bool { return s.fx.Committed(s.t) >= len(first) }) {
		s.t.Fatalf("checkpoint covers %d messages %v after %d were acknowledged", s.fx.Committed(s.t), s.h.Wait, len(first))
	}
	second := s.feed("abandoned", 3)
	in.waitFor(6)
	if n := s.fx.Committed(s.t); n != len(first) {
		s.t.Errorf("checkpoint covers %d messages, want %d: it moved past unacknowledged events", n, len(first))
	}
	// The first held batch abandoned, the rest delivered: nothing from the
	// abandoned batch on may be committed.
	in.col.releaseHeld(1, ack.Abandoned, ack.Delivered)
	in.stop()
	if n := s.fx.Committed(s.t); n != len(first) {
		s.t.Errorf("after an abandoned batch and a stop the checkpoint covers %d messages, want %d", n, len(first))
	}
	again := s.start()
	again.waitFor(len(second))
	third := s.feed("after", 2)
	again.waitFor(len(second) + len(third))
	again.stop()
	testutil.Diff(s.t, append(slices.Clone(second), third...), again.col.messages())
	if n := s.fx.Committed(s.t); n != len(first)+len(second)+len(third) {
		s.t.Errorf("after everything was delivered and the source stopped the checkpoint covers %d messages, want %d",
			n, len(first)+len(second)+len(third))
	}
}

// stopAndRestart stops a source with batches unacknowledged (released as
// Abandoned, as the pipeline does at shutdown) and restarts it: a source
// that replays emits exactly those again, one that cannot replay emits
// only new input; neither emits earlier input again.
func (s *suite) stopAndRestart() {
	in := s.start()
	done := s.feed("before", 4)
	in.waitFor(len(done))
	var pending []string
	if s.h.Replay {
		in.col.setHold(true)
		pending = s.feed("unacknowledged", 4)
		in.waitFor(len(done) + len(pending))
		in.cancel()
		// The pipeline gives up on what it holds once sources stop.
		in.col.releaseHeld(0, ack.Abandoned, ack.Abandoned)
		in.wait()
	} else {
		in.stop()
	}
	testutil.Diff(s.t, append(slices.Clone(done), pending...), in.col.messages())

	again := s.start()
	if len(pending) > 0 {
		again.waitFor(len(pending))
	}
	later := s.feed("restarted", 3)
	again.waitFor(len(pending) + len(later))
	again.stop()
	testutil.Diff(s.t, append(pending, later...), again.col.messages())
}

// acceptedIsDelivered feeds one message at a time while the source is
// stopped under it: every message the client was told was taken must have
// been emitted, in order.
func (s *suite) acceptedIsDelivered() {
	in := s.start()
	var accepted []string
	fed := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for i := 0; i < 1000; i++ { // bounded: the source stops long before
			msg := s.next("accepted", 1)
			if s.fx.Feed(s.t, msg) != nil {
				return
			}
			accepted = append(accepted, msg[0])
			if len(accepted) == 20 {
				close(fed)
			}
		}
	}()
	select {
	case <-fed:
	case <-stopped:
		s.t.Fatalf("feeding stopped after %d messages, before the source was stopped", len(accepted))
	}
	in.stop()
	select {
	case <-stopped:
	case <-time.After(s.h.Wait):
		s.t.Fatalf("Feed still succeeds %v after the source stopped", s.h.Wait)
	}
	got := in.col.messages()
	var delivered []string
	for _, m := range got {
		if slices.Contains(accepted, m) {
			delivered = append(delivered, m)
		}
	}
	testutil.Diff(s.t, accepted, delivered)
}

// badInput feeds good input, bad input and good input again: the bad
// input must be counted, and the source must keep running and emit what
// follows it.
func (s *suite) badInput() {
	if s.fx.Bad == nil {
		s.t.Logf("the source declares no bad input")
		return
	}
	in := s.start()
	before := s.feed("good", 3)
	in.waitFor(len(before))
	n0 := s.counter()
	s.fx.Bad(s.t)
	if !s.eventually(func() bool { return s.counter() > n0 }) {
		s.t.Errorf("bad input was not counted in %s (still %v after %v)", s.fx.BadMetric, n0, s.h.Wait)
	}
	if !in.running() {
		s.t.Fatalf("Run returned after bad input: %v", in.err)
	}
	after := s.feed("still", 3)
	if !s.eventually(func() bool {
		m := in.col.messages()
		return len(m) >= len(before)+len(after) && slices.Equal(m[len(m)-len(after):], after)
	}) {
		s.t.Errorf("input after the bad input did not arrive: got %q", in.col.messages())
	}
	in.stop()
	got := in.col.messages()
	if len(got) < len(before)+len(after) || !slices.Equal(got[:len(before)], before) ||
		!slices.Equal(got[len(got)-len(after):], after) {
		s.t.Errorf("got %q, want %q first and %q last", got, before, after)
	}
}

// cancel checks that Run returns promptly, with nil, on cancellation and
// leaves no goroutine of its own behind.
func (s *suite) cancel() {
	ignore := goleak.IgnoreCurrent()
	in := s.start()
	want := s.feed("cancel", 5)
	in.waitFor(len(want))
	began := time.Now()
	in.stop()
	if d := time.Since(began); d > s.h.Wait/2 {
		s.t.Errorf("Run took %v to return after cancellation", d)
	}
	if s.fx.Close != nil {
		s.fx.Close()
	}
	if err := goleak.Find(ignore); err != nil {
		s.t.Errorf("goroutines left after Run returned: %v", err)
	}
}

// startedNeverRun checks, for a component.Starter, what the pipeline does
// when another source failed to start: Run with a context already done
// after a successful Start returns nil promptly and releases what Start
// acquired (no goroutine left), and a new instance then starts and
// delivers (a listener released its port, a store its lock).
func (s *suite) startedNeverRun() {
	ignore := goleak.IgnoreCurrent()
	src := s.build()
	if !s.startSource(src) {
		return // not a Starter: nothing to check
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 1)
	// As the pipeline's emit on a done context: the batch is refused, and
	// its token released Abandoned.
	refuse := func(ctx context.Context, b *event.Batch) error {
		if b.Ack != nil {
			b.Ack.Release(ack.Abandoned)
		}
		return ctx.Err()
	}
	go func() { done <- src.Run(ctx, refuse) }()
	select {
	case err := <-done:
		if err != nil {
			s.t.Errorf("Run after Start with a cancelled context returned %v, want nil", err)
		}
	case <-time.After(s.h.Wait / 2):
		s.t.Fatalf("Run after Start with a cancelled context did not return within %v", s.h.Wait/2)
	}
	if err := goleak.Find(ignore); err != nil {
		s.t.Errorf("goroutines left after Start and a cancelled Run: %v", err)
	}
	in := s.start()
	want := s.feed("after a cancelled run", 3)
	got := in.waitFor(len(want))
	if !slices.Equal(got[len(got)-len(want):], want) {
		s.t.Errorf("got %q after a cancelled run, want %q last", got, want)
	}
	in.stop()
}
