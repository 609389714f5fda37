// Package parse implements the parse transform: it reads the message (or
// another string field) of each event as json, logfmt, a regex, a grok
// pattern or an nginx/apache combined access-log line and adds the result
// to the event's fields.
//
// The parsers themselves live in internal/parser; this package picks one,
// merges its output into the event and applies on_error. Parsed strings are
// zero-copy views of the message, which is sound because a message is never
// modified after emit (see package event). Failures never stop the batch:
// each one is counted, logged (rate-limited) and then kept, dropped or
// tagged as configured.
package parse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/parser"
)

func init() {
	component.MustRegister(component.TransformSpec[Config]("parse",
		"Parse the message or a field as json, logfmt, regex, grok or nginx/apache combined", New))
}

// Transform parses events. Process is called from one goroutine, which
// owns the field-count estimate it keeps between batches.
type Transform struct {
	cfg   Config
	parse parseFunc
	log   *slog.Logger

	errors, failures, dropped prometheus.Counter

	// hint is how many fields to reserve per event: the most any event of
	// the previous batch had in the slice parsing filled.
	hint int
}

// New builds a parse transform from a config.
func New(cfg *Config, deps component.Deps) (component.Transform, error) {
	return &Transform{
		cfg: *cfg, parse: cfg.parse, log: deps.Logger, hint: clampHint(cfg.hint + 2),
		errors: deps.Metrics.Errors,
		failures: deps.Metrics.Counter("parse_failures_total",
			"Events the parse transform could not parse.", nil),
		dropped: deps.Metrics.Counter("parse_dropped_events_total",
			"Events the parse transform dropped because of on_error: drop.", nil),
	}, nil
}

func clampHint(n int) int { return min(max(n, 4), 64) }

// Process parses every event of b in place and passes b on, without the
// events dropped by on_error: drop.
func (t *Transform) Process(ctx context.Context, b *event.Batch, out component.Output) error {
	s := slab{}
	kept, most := 0, 0
	for i := range b.Events {
		e := &b.Events[i]
		n, err := t.parseEvent(e, &s, len(b.Events)-i)
		if err != nil && !t.fail(e, err) {
			continue
		}
		most = max(most, n)
		if kept != i {
			b.Events[kept] = *e
		}
		kept++
	}
	clear(b.Events[kept:])
	b.Events = b.Events[:kept]
	if most > 0 {
		t.hint = clampHint(most)
	}
	return out(ctx, "", b)
}

// parseEvent parses one event and returns how many fields the slice it
// filled holds, for the next batch's estimate. On error e is left as it was.
func (t *Transform) parseEvent(e *event.Event, s *slab, left int) (int, error) {
	in, err := t.input(e)
	if err != nil {
		return 0, err
	}
	if t.cfg.Target != "" {
		sub, ts, err := t.parse(s.next(t.hint, left), in)
		if err != nil {
			return 0, fmt.Errorf("parsing %s: %w", t.cfg.Format, err)
		}
		e.Fields.Set(t.cfg.Target, event.Object(sub))
		setTime(e, ts)
		return len(sub), nil
	}
	orig := e.Fields
	if cap(e.Fields) == 0 {
		e.Fields = s.next(t.hint, left)
	}
	start := len(e.Fields)
	f, ts, err := t.parse(e.Fields, in)
	if err != nil {
		e.Fields = orig
		return 0, fmt.Errorf("parsing %s: %w", t.cfg.Format, err)
	}
	e.Fields = merge(e, f, start)
	setTime(e, ts)
	return len(e.Fields), nil
}

// setTime sets the event time a format reported, if any.
func setTime(e *event.Event, ts time.Time) {
	if !ts.IsZero() {
		e.Timestamp = ts
	}
}

// errNotString is returned when the field to parse holds no text.
var errNotString = errors.New("is not a string")

// input returns the bytes to parse: the message itself, or a view of a
// string field.
func (t *Transform) input(e *event.Event) ([]byte, error) {
	if t.cfg.Field == event.KeyMessage {
		return e.Message, nil
	}
	v, ok := e.Get(t.cfg.Field)
	if !ok {
		return nil, fmt.Errorf("field %q not found", t.cfg.Field)
	}
	if v.Kind() != event.KindString {
		return nil, fmt.Errorf("field %q %w", t.cfg.Field, errNotString)
	}
	return parser.Bytes(v.Str()), nil
}

// fail counts and logs a failure and applies on_error, reporting whether
// the event stays in the batch.
func (t *Transform) fail(e *event.Event, err error) bool {
	t.errors.Inc()
	t.failures.Inc()
	t.log.Warn("parse failed", "format", t.cfg.Format, "error", err)
	switch t.cfg.OnError {
	case OnErrorDrop:
		t.dropped.Inc()
		return false
	case OnErrorTag:
		e.Fields.Set(ErrorField, event.String(err.Error()))
	}
	return true
}

// slab hands out field slices carved from one allocation per batch, so
// that filling fields costs no allocation per event. Each slice is capped
// at its share, so appending past it reallocates instead of spilling into
// a neighbour's.
type slab struct{ buf event.Fields }

// next returns an empty slice with capacity k, allocating room for left
// such slices when the slab is used up.
func (s *slab) next(k, left int) event.Fields {
	if len(s.buf) < k {
		s.buf = make(event.Fields, k*left)
	}
	f := s.buf[:0:k]
	s.buf = s.buf[k:]
	return f
}

var _ component.Transform = (*Transform)(nil)
