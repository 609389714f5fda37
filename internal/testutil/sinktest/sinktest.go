// Package sinktest is the conformance suite every sink runs: Run checks
// the component.Sink contract through a Harness that the sink's package
// supplies, against a real or in-process peer. Write is driven the way the
// pipeline's sink runner drives it (same batch again after a transient
// error, only the Retry events of a PartialError), and nothing reported
// delivered may be missing from the peer; duplicates after a failure are
// allowed and logged. A feature a sink or its peer cannot support is
// declared by leaving its hook nil, and the checks needing it are skipped,
// never faked.
package sinktest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
)

// Harness connects the suite to one sink implementation and its peer.
type Harness struct {
	// New starts a fresh peer and builds a sink writing to it, for one
	// check. Both are torn down with t.Cleanup; the suite closes the sink
	// itself, and a cleanup that closes it again must be harmless.
	// Required.
	New func(t *testing.T) *Instance
	// Eventual says that Write returning nil means the events were handed
	// to the kernel, not acknowledged by the peer (syslog over TCP or UDP):
	// the suite then waits for Received to catch up. Otherwise everything
	// Write reported delivered must be in Received when Write returns.
	Eventual bool
	// RejectMarker is a substring of a message that makes the peer refuse
	// that event for good, which the sink reports as a per-event Reject
	// in a component.PartialError. Empty: the sink cannot express a
	// per-event reject.
	RejectMarker string
	// MaxWait bounds every wait of the suite (for Eventual peers, for a
	// batch to be delivered through retries). Default 10s.
	MaxWait time.Duration
}

// Instance is a sink under test and the hooks the suite may use on its
// peer. A nil hook means the peer cannot do it; checks needing it skip.
type Instance struct {
	// Sink is the sink under test. Required.
	Sink component.Sink
	// Received returns the messages (event.Event.Message) the peer has
	// durably got so far, in arrival order, duplicates included. Nil for a
	// sink without a peer to read back (blackhole): delivery is then only
	// checked through Write's outcomes.
	Received func() []string
	// Break makes the peer fail every delivery transiently (an HTTP 503, a
	// refused connection, a failing writer) until heal is called.
	Break func() (heal func())
	// Restart stops the peer and starts it again at the same address,
	// keeping what it had received; the sink's connections break.
	Restart func()
	// Hang makes the peer stop answering (it keeps connections open but
	// reads or replies no more) until the test ends.
	Hang func()
}

// Run runs the conformance suite against h, each check as a subtest of
// t. Run the suite from a test that is not parallel, so that the
// goroutine leak check sees only the sink's goroutines.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("sinktest: Harness.New is required")
	}
	if h.MaxWait <= 0 {
		h.MaxWait = 10 * time.Second
	}
	s := &suite{h: h}
	for _, c := range []struct {
		name string
		run  func(t *testing.T)
	}{
		{"Delivery", s.delivery},
		{"BatchesInOrder", s.batchesInOrder},
		{"RetryAfterTransientFailure", s.transientFailure},
		{"RejectOneEvent", s.rejectOne},
		{"PeerRestart", s.peerRestart},
		{"CloseFlushes", s.closeFlushes},
		{"CloseIdempotent", s.closeIdempotent},
		{"NoGoroutineLeak", s.noLeak},
		{"ContextCancelled", s.contextCancelled},
	} {
		t.Run(c.name, c.run)
	}
}

type suite struct{ h Harness }

// start builds an instance and checks its required parts.
func (s *suite) start(t *testing.T) *Instance {
	t.Helper()
	in := s.h.New(t)
	if in == nil || in.Sink == nil {
		t.Fatal("sinktest: Harness.New returned no sink")
	}
	return in
}

// Batch returns n events whose messages are "<prefix>-<i>", i from first.
func Batch(prefix string, first, n int) *event.Batch {
	b := &event.Batch{Events: make([]event.Event, n)}
	t0 := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	for i := range b.Events {
		k := first + i
		b.Events[i] = event.Event{Timestamp: t0.Add(time.Duration(k) * time.Millisecond), Host: "sinktest",
			Stream: "conformance", Message: fmt.Appendf(nil, "%s-%d", prefix, k),
			Fields: event.Fields{{Key: "n", Value: event.Int(int64(k))}}}
	}
	return b
}

// Messages returns the messages of b.
func Messages(b *event.Batch) []string {
	out := make([]string, len(b.Events))
	for i := range b.Events {
		out[i] = string(b.Events[i].Message)
	}
	return out
}

// Result is how Deliver went.
type Result struct {
	Rejected []string // messages rejected for good
	Attempts int      // Write calls made
	Errors   []error  // every non-nil Write result
}

// Deliver writes b to sink as the pipeline's sink runner does, until every
// event is delivered or rejected: a transient error writes the same batch
// again after a short pause (at least a RetryAfterError's wait, capped at
// 100ms), a PartialError writes its Retry events again, a RejectError
// rejects what was left. It fails t when maxWait passes first.
func Deliver(t testing.TB, sink component.Sink, b *event.Batch, maxWait time.Duration) Result {
	t.Helper()
	var out Result
	deadline := time.Now().Add(maxWait)
	for {
		out.Attempts++
		err := sink.Write(t.Context(), b)
		if err == nil {
			return out
		}
		out.Errors = append(out.Errors, err)
		var part *component.PartialError
		var rej *component.RejectError
		switch {
		case errors.As(err, &part) && len(part.Outcomes) == len(b.Events):
			retry := &event.Batch{}
			for i, o := range part.Outcomes {
				switch o {
				case component.Retry:
					retry.Events = append(retry.Events, b.Events[i])
				case component.Reject:
					out.Rejected = append(out.Rejected, string(b.Events[i].Message))
				}
			}
			if len(retry.Events) == 0 {
				return out
			}
			b = retry
		case errors.As(err, &part):
			t.Errorf("PartialError with %d outcomes for %d events: %v", len(part.Outcomes), len(b.Events), err)
			return out
		case errors.As(err, &rej):
			out.Rejected = append(out.Rejected, Messages(b)...)
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("batch not delivered after %d attempts in %v; last error: %v", out.Attempts, maxWait, err)
		}
		pause(t.Context(), err)
	}
}

// pause waits like a (fast) pipeline backoff.
func pause(ctx context.Context, err error) {
	d := 10 * time.Millisecond
	var ra *component.RetryAfterError
	if errors.As(err, &ra) {
		d = min(max(d, ra.After), 100*time.Millisecond)
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
	case <-ctx.Done():
	}
}

// waitReceived returns Received once it holds every message of want (as
// a multiset), at once unless the harness is Eventual. It reports the
// missing messages through t.Errorf.
func (s *suite) waitReceived(t *testing.T, in *Instance, want []string) []string {
	t.Helper()
	got := in.Received()
	if s.h.Eventual {
		deadline := time.Now().Add(s.h.MaxWait)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for len(missing(got, want)) > 0 && time.Now().Before(deadline) {
			<-tick.C
			got = in.Received()
		}
	}
	if m := missing(got, want); len(m) > 0 {
		t.Errorf("peer lacks %d of %d events reported delivered, e.g. %q (got %d messages)", len(m), len(want), m[0], len(got))
	}
	return got
}

// settle waits, for an Eventual peer, until it has what was delivered so
// far: a protocol without acknowledgements loses what is in flight when
// its peer goes down, by design, and the checks that break or restart the
// peer are not about that.
func (s *suite) settle(t *testing.T, in *Instance, want []string) {
	t.Helper()
	if s.h.Eventual && in.Received != nil {
		s.waitReceived(t, in, want)
	}
}

// missing returns the messages of want not in got.
func missing(got, want []string) []string {
	have := make(map[string]int, len(got))
	for _, g := range got {
		have[g]++
	}
	var out []string
	for _, w := range want {
		if have[w] == 0 {
			out = append(out, w)
			continue
		}
		have[w]--
	}
	return out
}

// duplicates counts messages received more than once.
func duplicates(got []string) int {
	seen := map[string]bool{}
	n := 0
	for _, g := range got {
		if seen[g] {
			n++
		}
		seen[g] = true
	}
	return n
}

// only returns the messages of got that start with prefix.
func only(got []string, prefix string) []string {
	var out []string
	for _, g := range got {
		if strings.HasPrefix(g, prefix) {
			out = append(out, g)
		}
	}
	return out
}

func (s *suite) closeSink(t *testing.T, in *Instance) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), s.h.MaxWait)
	defer cancel()
	if err := in.Sink.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func (s *suite) delivery(t *testing.T) {
	in := s.start(t)
	b := Batch("delivery", 0, 10)
	if err := in.Sink.Write(t.Context(), b); err != nil {
		t.Fatalf("Write to a healthy peer: %v", err)
	}
	if in.Received != nil {
		got := s.waitReceived(t, in, Messages(b))
		if d := duplicates(got); d > 0 {
			t.Errorf("peer got %d duplicates from one Write: %q", d, got)
		}
	}
	s.closeSink(t, in)
}

func (s *suite) batchesInOrder(t *testing.T) {
	in := s.start(t)
	var want []string
	for i := range 5 {
		b := Batch("ordered", i*20, 20)
		want = append(want, Messages(b)...)
		if err := in.Sink.Write(t.Context(), b); err != nil {
			t.Fatalf("Write of batch %d to a healthy peer: %v", i, err)
		}
	}
	if in.Received != nil {
		got := only(s.waitReceived(t, in, want), "ordered-")
		if !slices.Equal(got, want) {
			t.Errorf("peer got %d messages, want the %d written in order:\n got %q\nwant %q", len(got), len(want), got, want)
		}
	}
	s.closeSink(t, in)
}

func (s *suite) transientFailure(t *testing.T) {
	in := s.start(t)
	if in.Break == nil {
		t.Skip("the harness cannot make the peer fail (Instance.Break is nil)")
	}
	first := Batch("before", 0, 5)
	Deliver(t, in.Sink, first, s.h.MaxWait)
	s.settle(t, in, Messages(first))
	heal := in.Break()
	b := Batch("transient", 0, 10)
	err := in.Sink.Write(t.Context(), b)
	var rej *component.RejectError
	switch {
	case err == nil && s.h.Eventual:
		// The kernel may take a write before the sink sees the peer gone.
		t.Logf("Write returned nil while the peer was failing (allowed: delivery is eventual)")
	case err == nil:
		t.Errorf("Write returned nil while the peer was failing every delivery")
	case errors.As(err, &rej):
		t.Errorf("Write rejected the batch for a transient failure: %v", err)
	}
	heal()
	out := Deliver(t, in.Sink, b, s.h.MaxWait)
	if len(out.Rejected) > 0 {
		t.Errorf("events rejected after a transient failure: %q", out.Rejected)
	}
	if in.Received != nil {
		got := s.waitReceived(t, in, append(Messages(first), Messages(b)...))
		if d := duplicates(got); d > 0 {
			t.Logf("%d duplicates after the retry (allowed)", d)
		}
	}
	s.closeSink(t, in)
}

func (s *suite) rejectOne(t *testing.T) {
	if s.h.RejectMarker == "" {
		t.Skip("the sink cannot reject one event alone (Harness.RejectMarker is empty)")
	}
	in := s.start(t)
	b := Batch("reject", 0, 5)
	bad := string(b.Events[2].Message) + " " + s.h.RejectMarker
	b.Events[2].Message = []byte(bad)
	out := Deliver(t, in.Sink, b, s.h.MaxWait)
	if !slices.Equal(out.Rejected, []string{bad}) {
		t.Errorf("rejected %q, want only %q", out.Rejected, bad)
	}
	if in.Received != nil {
		good := slices.Delete(Messages(b), 2, 3)
		got := s.waitReceived(t, in, good)
		if slices.Contains(got, bad) {
			t.Errorf("peer stored the event it refused: %q", got)
		}
	}
	s.closeSink(t, in)
}

func (s *suite) peerRestart(t *testing.T) {
	in := s.start(t)
	if in.Restart == nil {
		t.Skip("the harness cannot restart the peer (Instance.Restart is nil)")
	}
	var want []string
	for i := range 6 {
		if i == 3 {
			s.settle(t, in, want)
			in.Restart()
		}
		b := Batch("restart", i*10, 10)
		want = append(want, Messages(b)...)
		if out := Deliver(t, in.Sink, b, s.h.MaxWait); len(out.Rejected) > 0 {
			t.Errorf("events rejected around a restart: %q", out.Rejected)
		}
	}
	if in.Received != nil {
		got := s.waitReceived(t, in, want)
		if d := duplicates(got); d > 0 {
			t.Logf("%d duplicates after the restart (allowed)", d)
		}
	}
	s.closeSink(t, in)
}

func (s *suite) closeFlushes(t *testing.T) {
	in := s.start(t)
	b := Batch("flush", 0, 25)
	if err := in.Sink.Write(t.Context(), b); err != nil {
		t.Fatalf("Write to a healthy peer: %v", err)
	}
	s.closeSink(t, in)
	if in.Received != nil {
		s.waitReceived(t, in, Messages(b))
	}
}

func (s *suite) closeIdempotent(t *testing.T) {
	in := s.start(t)
	Deliver(t, in.Sink, Batch("idem", 0, 3), s.h.MaxWait)
	for i := range 3 {
		if err := in.Sink.Close(t.Context()); err != nil {
			t.Errorf("Close #%d: %v", i+1, err)
		}
	}
}

func (s *suite) noLeak(t *testing.T) {
	// Registered first, so it runs last: after the harness stopped its
	// peer in its own cleanups.
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		if err := goleak.Find(ignore); err != nil {
			t.Errorf("goroutines left after Close and the peer's shutdown: %v", err)
		}
	})
	in := s.start(t)
	for i := range 3 {
		Deliver(t, in.Sink, Batch("leak", i*5, 5), s.h.MaxWait)
	}
	s.closeSink(t, in)
}

func (s *suite) contextCancelled(t *testing.T) {
	in := s.start(t)
	if in.Hang == nil {
		t.Skip("the harness cannot make the peer hang (Instance.Hang is nil)")
	}
	Deliver(t, in.Sink, Batch("warm", 0, 1), s.h.MaxWait) // connect first
	in.Hang()
	// 16 MB: enough to fill a socket's buffers, so a stream sink blocks.
	b := Batch("hung", 0, 4000)
	pad := " " + strings.Repeat("x", 4000)
	for i := range b.Events {
		b.Events[i].Message = append(b.Events[i].Message, pad...)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	const after = 100 * time.Millisecond
	timer := time.AfterFunc(after, cancel)
	defer timer.Stop()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- in.Sink.Write(ctx, b) }()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("Write to a hung peer returned nil, claiming delivery")
		}
		if took := time.Since(start); took < after {
			t.Logf("Write returned %v before the cancel (fine if it is an error): %v", took, err)
		}
	case <-time.After(after + s.h.MaxWait/2):
		t.Errorf("Write did not return within %v of its context being cancelled", s.h.MaxWait/2)
		// The harness's cleanup, which ends the hang, frees the Write.
		return
	}
	s.closeSink(t, in)
}
