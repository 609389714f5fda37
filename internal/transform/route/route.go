// Package route implements the route transform: named outputs, each with a
// condition, that downstream components consume as `<id>.<output>`.
//
// An event goes to every output whose condition is true, and to the
// `_unmatched` output when none is. A condition that fails to evaluate on
// an event counts as false, and as an error in component_errors_total.
// Each output gets a batch of its own; an event sent to several outputs is
// cloned, so that later transforms on one branch cannot change another.
package route

import (
	"context"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/expr"
)

func init() {
	component.MustRegister(component.TransformSpec("route",
		"Send events to named outputs by condition.", New))
}

// Transform is a running route transform. Its scratch slices are reused
// between batches: Process is called from one goroutine.
type Transform struct {
	names []string // route names, then Unmatched
	conds []*expr.Program
	deps  component.Deps

	match  []bool // match[i*len(names)+o]: event i goes to output o
	counts []int  // events per output
	given  []bool // the event itself (not a clone) has been handed out
}

// New builds a route transform from its config.
func New(c *Config, deps component.Deps) (component.Transform, error) {
	return &Transform{names: c.Outputs(), conds: c.conds, deps: deps, counts: make([]int, len(c.conds)+1)}, nil
}

// Process sorts the batch's events into one batch per output and emits the
// non-empty ones in the order the routes are written, _unmatched last.
func (t *Transform) Process(ctx context.Context, b *event.Batch, out component.Output) error {
	if len(b.Events) == 0 {
		return nil
	}
	t.evaluate(b.Events)
	batches := t.split(b)
	for o, ob := range batches {
		if ob == nil {
			continue
		}
		if err := out(ctx, t.names[o], ob); err != nil {
			return err
		}
	}
	return nil
}

// evaluate fills match and counts.
func (t *Transform) evaluate(events []event.Event) {
	k := len(t.names)
	t.match = resize(t.match, len(events)*k)
	clear(t.counts)
	failed := 0
	var firstErr error
	for i := range events {
		row := t.match[i*k : (i+1)*k]
		matched := false
		for r, c := range t.conds {
			ok, err := c.Bool(&events[i])
			if err != nil {
				failed++
				if firstErr == nil {
					firstErr = err
				}
			}
			if ok {
				row[r], matched = true, true
				t.counts[r]++
			}
		}
		if !matched {
			row[k-1] = true
			t.counts[k-1]++
		}
	}
	if failed > 0 {
		t.deps.Metrics.Errors.Add(float64(failed))
		t.deps.Logger.Warn("route condition could not be evaluated; treated as false", "evaluations", failed, "error", firstErr)
	}
}

// split builds the output batches, indexed like names. The fullest output
// reuses the input batch, filtered in place; the others get new batches.
// Each event is handed out once as itself and cloned for further outputs.
func (t *Transform) split(b *event.Batch) []*event.Batch {
	k, n := len(t.names), len(b.Events)
	keep := 0
	for o, c := range t.counts {
		if c > t.counts[keep] {
			keep = o
		}
	}
	t.given = resize(t.given, n)
	for i := range n {
		t.given[i] = t.match[i*k+keep]
	}
	batches := make([]*event.Batch, k)
	for o := range k {
		if o == keep || t.counts[o] == 0 {
			continue
		}
		evs := make([]event.Event, 0, t.counts[o])
		for i := range n {
			switch {
			case !t.match[i*k+o]:
			case t.given[i]:
				evs = append(evs, b.Events[i].Clone())
			default:
				evs = append(evs, b.Events[i])
				t.given[i] = true
			}
		}
		batches[o] = &event.Batch{Events: evs, Ack: b.Ack}
	}
	kept := 0
	for i := range n {
		if t.match[i*k+keep] {
			b.Events[kept] = b.Events[i]
			kept++
		}
	}
	clear(b.Events[kept:])
	b.Events = b.Events[:kept]
	batches[keep] = b
	return batches
}

// resize returns s with length n and every element false.
func resize(s []bool, n int) []bool {
	if cap(s) < n {
		return make([]bool, n)
	}
	s = s[:n]
	clear(s)
	return s
}

var _ component.Transform = (*Transform)(nil)

var _ component.Outputter = (*Config)(nil)
