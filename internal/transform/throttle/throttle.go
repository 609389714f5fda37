// Package throttle implements the throttle transform: a rate limit per
// key (a field or a template), with a burst, over a bounded set of keys.
//
// Events over the limit are dropped, or, with dropped_output, passed to
// the output `dropped` for another branch to handle. Time comes from an
// injected clock read once per batch, so a batch is judged at one
// instant and tests can step time exactly. Dropped events leave the
// batch, which releases their share of the source's acknowledgement.
package throttle

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/expr"
	"github.com/sluice-log/sluice/internal/template"
)

func init() {
	component.MustRegister(component.TransformSpec("throttle",
		"Rate-limit events per key, with a burst; drop or reroute the excess.", New))
}

// Transform is a running throttle. Process is called from one goroutine,
// which owns the limiter and scratch buffers.
type Transform struct {
	lim      *limiter
	keyField string
	key      *template.Template
	exclude  *expr.Program
	route    bool
	now      func() time.Time

	buf  []byte
	over []event.Event // scratch: over-limit events of the batch

	deps                              component.Deps
	limited, dropped, evicted, errors prometheus.Counter
}

// New builds a throttle from its config.
func New(c *Config, deps component.Deps) (component.Transform, error) {
	m := deps.Metrics
	evicted := m.Counter("throttle_evicted_keys_total",
		"Keys the throttle transform forgot because max_keys was reached.", nil)
	return &Transform{
		lim:      newLimiter(c.Threshold, c.Burst, c.MaxKeys, c.Window.D(), evicted.Inc),
		keyField: c.KeyField, key: c.key, exclude: c.exclude, route: c.DroppedOutput,
		now: time.Now, deps: deps, errors: m.Errors, evicted: evicted,
		limited: m.Counter("throttle_limited_events_total",
			"Events over the throttle transform's limit, dropped or sent to its dropped output.", nil),
		dropped: m.Counter("transform_dropped_events_total",
			"Events a transform dropped on purpose, by reason.", []string{"reason"}, "throttled"),
	}, nil
}

// Process passes the events within the limit on, in order, and drops or
// reroutes the others.
func (t *Transform) Process(ctx context.Context, b *event.Batch, out component.Output) error {
	now := t.now().UnixNano()
	kept, failed := 0, 0
	var firstErr error
	t.over = t.over[:0]
	for i := range b.Events {
		e := &b.Events[i]
		ok, err := t.allow(now, e)
		if err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
		}
		if !ok {
			if t.route {
				t.over = append(t.over, *e)
			}
			continue
		}
		if kept != i {
			b.Events[kept] = *e
		}
		kept++
	}
	over := len(b.Events) - kept
	clear(b.Events[kept:])
	b.Events = b.Events[:kept]
	if failed > 0 {
		t.errors.Add(float64(failed))
		t.deps.Logger.Warn("throttle key or exclude could not be evaluated", "events", failed, "error", firstErr)
	}
	if over > 0 {
		t.limited.Add(float64(over))
		if !t.route {
			t.dropped.Add(float64(over))
		}
	}
	// The over-limit events get a batch of their own, sharing the input's
	// ack token as route's outputs do. It is built before b is passed on:
	// from then on b belongs downstream and must not be read.
	var ob *event.Batch
	if len(t.over) > 0 {
		ob = &event.Batch{Events: append([]event.Event(nil), t.over...), Ack: b.Ack}
		clear(t.over)
	}
	if kept > 0 {
		if err := out(ctx, "", b); err != nil {
			return err
		}
	}
	if ob != nil {
		return out(ctx, DroppedOutput, ob)
	}
	return nil
}

// allow decides one event. An event whose exclude condition is true
// passes without using budget; one whose condition or key cannot be
// evaluated is judged as if it were not excluded, or under the empty key.
func (t *Transform) allow(now int64, e *event.Event) (bool, error) {
	var err error
	if t.exclude != nil {
		var ok bool
		if ok, err = t.exclude.Bool(e); ok {
			return true, nil
		}
	}
	switch {
	case t.key != nil:
		var kerr error
		t.buf, kerr = t.key.Render(t.buf[:0], e)
		if kerr != nil {
			err = kerr
		}
	case t.keyField != "":
		t.buf = t.buf[:0]
		if v, ok := e.Get(t.keyField); ok && v.Kind() != event.KindNull {
			t.buf = v.AppendText(t.buf)
		}
	default:
		return t.lim.allow(now, &t.lim.single), err
	}
	return t.lim.allowKey(now, t.buf), err
}

var _ component.Transform = (*Transform)(nil)

var _ component.Outputter = (*Config)(nil)
