package pipeline

import (
	"testing"
	"testing/synctest"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
)

// testROSink is a testsink that declares it only reads events.
type testROSink struct{ *testSink }

func (testROSink) ReadOnlyEvents() {}

func init() {
	component.MustRegister(component.SinkSpec("testrosink", "test read-only sink",
		func(c *testSinkConfig, d component.Deps) (component.Sink, error) {
			return testROSink{&testSink{cfg: c, id: d.ID, seen: map[string]bool{}}}, nil
		}))
}

// TestFanOutSharesWithReadOnlySinks: read-only sinks share the events of
// an output, while a transform beside them, which changes events in
// place, still gets its own copy (under -race, sharing with it would be
// reported too).
func TestFanOutSharesWithReadOnlySinks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t.Name())
		run(t, parse(t, `
sources:
  src: { type: testsrc, world: `+t.Name()+`, count: 250, batch: 7, prefix: e }
transforms:
  up: { type: testupper, inputs: [src] }
sinks:
  ro1: { type: testrosink, world: `+t.Name()+`, inputs: [src], batch: { max_events: 10, timeout: 10ms } }
  ro2: { type: testrosink, world: `+t.Name()+`, inputs: [src] }
  upper: { type: testsink, world: `+t.Name()+`, inputs: [up] }
`))
		testutil.Diff(t, msgs("e", 250, ""), w.delivered["ro1"])
		testutil.Diff(t, msgs("e", 250, ""), w.delivered["ro2"])
		testutil.Diff(t, msgs("e", 250, "T:"), w.delivered["upper"])
		testutil.Diff(t, map[ack.Status]int{ack.Delivered: 250}, w.acked)
	})
}
