// Package blackhole is a sink that accepts and discards every event. It is
// for benchmarks and for trying a pipeline out: the pipeline still counts
// what it "delivered" in the sink's metrics.
package blackhole

import (
	"context"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
)

// Config has no options.
type Config struct{}

// Sink discards events.
type Sink struct{}

// New returns a blackhole sink.
func New(*Config, component.Deps) (component.Sink, error) { return Sink{}, nil }

// Write implements component.Sink.
func (Sink) Write(context.Context, *event.Batch) error { return nil }

// Close implements component.Sink.
func (Sink) Close(context.Context) error { return nil }

func init() {
	component.MustRegister(component.SinkSpec("blackhole", "discard every event (benchmarks, trials)", New))
}

var _ component.Sink = Sink{}
