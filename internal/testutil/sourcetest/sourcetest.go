// Package sourcetest is the conformance suite of sources: Run(t, harness)
// checks, through a Harness each source package supplies, what the
// pipeline relies on of every source.
//
// Every emitted batch carries an ack token and belongs to the pipeline once
// emitted (the source neither changes it nor releases its token after);
// events arrive in order with their messages intact; a checkpoint moves only
// over acknowledged events, never past an abandoned batch; a stop and a
// restart neither lose nor repeat events (for sources that cannot replay:
// what the client was told was accepted is delivered); bad input is counted
// and survived; and Run returns promptly on cancellation, leaving no
// goroutine behind. A source that is a component.Starter is started as the
// pipeline starts it (Start, then Run), and Run with a context already
// done after Start must release what Start acquired. It is Redpanda Connect's integration StreamTests for
// sources, without containers: the inputs are files, pipes, scripts and
// loopback sockets in a temporary directory.
package sourcetest

import (
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/component"
)

// Harness is what a source package gives the suite.
type Harness struct {
	// Type is the source's type name ("file"), for metric labels.
	Type string
	// Setup prepares the world of one check in dir, a fresh directory (the
	// files, pipes, fake programs or sockets the source reads), and returns
	// how to build and feed the source. It is called once per check; a
	// check may build the source more than once from one Fixture (a
	// restart), and every build shares the Fixture's input and data dir.
	Setup func(t testing.TB, dir string) *Fixture
	// Replay says the source keeps a checkpoint, and after a restart emits
	// again exactly what was not acknowledged before it stopped.
	// Fixture.Committed is then required.
	Replay bool
	// Confirms says a nil error from Fixture.Feed means the source told the
	// client its input was taken (a 2xx response, a receipt): such input
	// must be delivered even when the source is stopped right after.
	Confirms bool
	// Wait bounds each wait for the source (events to arrive, a checkpoint
	// to move, Run to return). Default 10s.
	Wait time.Duration
}

// Fixture builds and feeds one source for one check.
type Fixture struct {
	// New builds a source instance from a validated config, with deps. The
	// suite runs each instance once; deps.DataDir is the same for every
	// instance of a check.
	New func(t testing.TB, deps component.Deps) component.Source
	// Feed hands msgs to the running instance (the last one built), in
	// order, each to become one event with that message. It returns once
	// the input is written, or, with Harness.Confirms, once the source
	// answered; an error means the input was not taken (the source is
	// stopping or gone). Each message is printable ASCII without newlines.
	Feed func(t testing.TB, msgs []string) error
	// Bad feeds one piece of input the source must count as bad without
	// stopping (a malformed frame, an over-long line, invalid JSON). It may
	// still become events. Nil when the source has no bad input.
	Bad func(t testing.TB)
	// BadMetric is the counter Bad must increase, by its full name
	// ("sluice_component_errors_total"); its series for the component are
	// summed.
	BadMetric string
	// Committed reports how many of the messages fed so far the durable
	// checkpoint (what a restart resumes from) covers. Replay only.
	Committed func(t testing.TB) int
	// Close, if set, releases what the fixture holds open (client
	// connections), before the suite checks for leaked goroutines.
	Close func()
}

// Run runs the suite against the source of h, each check as a subtest when
// t is a *testing.T. Any other testing.TB (a fake recording failures, for
// the suite's own tests) gets the checks one after another, each on a
// goroutine of its own, so that its Fatal may end it with runtime.Goexit.
func Run(t testing.TB, h Harness) {
	t.Helper()
	if h.Setup == nil || h.Type == "" {
		t.Fatalf("sourcetest: Harness needs Type and Setup")
	}
	if h.Wait <= 0 {
		h.Wait = 10 * time.Second
	}
	checks := []struct {
		name string
		run  func(*suite)
		skip bool
	}{
		{"TokensOrderAndOwnership", (*suite).tokensOrderAndOwnership, false},
		{"CheckpointOnlyOverAcknowledged", (*suite).checkpoint, !h.Replay},
		{"StopAndRestart", (*suite).stopAndRestart, false},
		{"AcceptedIsDelivered", (*suite).acceptedIsDelivered, !h.Confirms},
		{"BadInputCountedNotFatal", (*suite).badInput, false},
		{"CancelReturnsPromptly", (*suite).cancel, false},
		{"StartedThenCancelledRunReleases", (*suite).startedNeverRun, false},
	}
	for _, c := range checks {
		if c.skip {
			continue
		}
		if tt, ok := t.(*testing.T); ok {
			tt.Run(c.name, func(t *testing.T) { c.run(newSuite(t, h)) })
			continue
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.run(newSuite(t, h))
		}()
		<-done
	}
}
