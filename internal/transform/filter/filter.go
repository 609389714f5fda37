// Package filter implements the filter transform: it keeps the events for
// which a condition (docs/expressions.md) is true and drops the others.
//
// An event on which the condition fails to evaluate (a missing field
// compared with a number, a field of the wrong type) is dropped too, counted
// in component_errors_total and logged, rate-limited. The batch is filtered
// in place and passed on as the same object.
package filter

import (
	"context"
	"errors"
	"fmt"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/expr"
)

func init() {
	component.MustRegister(component.TransformSpec("filter",
		"Keep the events for which a condition is true.", New))
}

// Config is the filter transform's configuration.
type Config struct {
	// Condition is an expression over the event's fields and attributes,
	// such as `status >= 500 && path startsWith "/api"`. Events for which it
	// is true pass; all others are dropped. Required.
	Condition string `yaml:"condition"`

	cond *expr.Program // compiled by Validate
}

// Validate compiles the condition, so mistakes are reported with the
// config, and keeps the program for New.
func (c *Config) Validate() error {
	p, err := c.compile()
	c.cond = p
	return err
}

func (c *Config) compile() (*expr.Program, error) {
	if c.Condition == "" {
		return nil, errors.New("condition: required, e.g. condition: 'status >= 500'")
	}
	p, err := expr.CompileCondition(c.Condition)
	if err != nil {
		return nil, fmt.Errorf("condition: %w", err)
	}
	return p, nil
}

// Transform is a running filter.
type Transform struct {
	cond *expr.Program
	deps component.Deps
}

// New builds a filter from its config.
func New(c *Config, deps component.Deps) (component.Transform, error) {
	return &Transform{cond: c.cond, deps: deps}, nil
}

// Process keeps the events for which the condition is true and passes the
// batch on; it emits nothing when no event is left.
func (t *Transform) Process(ctx context.Context, b *event.Batch, out component.Output) error {
	kept, failed := 0, 0
	var firstErr error
	for i := range b.Events {
		ok, err := t.cond.Bool(&b.Events[i])
		if err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
		}
		if !ok {
			continue
		}
		if kept != i {
			b.Events[kept] = b.Events[i]
		}
		kept++
	}
	// Drop references to the removed events so their memory can go.
	clear(b.Events[kept:])
	b.Events = b.Events[:kept]
	if failed > 0 {
		t.reportErrors(failed, firstErr)
	}
	if kept == 0 {
		return nil
	}
	return out(ctx, "", b)
}

func (t *Transform) reportErrors(n int, err error) {
	t.deps.Metrics.Errors.Add(float64(n))
	t.deps.Logger.Warn("condition could not be evaluated; events dropped", "events", n, "error", err)
}

var _ component.Transform = (*Transform)(nil)
