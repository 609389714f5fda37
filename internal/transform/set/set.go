// Package set implements the set transform: it renames, adds, overwrites
// and removes fields and attributes of every event.
//
// Values are templates rendered per event into strings, or typed constants
// (numbers, booleans, lists, objects) taken from the YAML as written.
// Operations run in a fixed order (rename, then fields, then remove), and
// the batch is changed in place and passed on.
package set

import (
	"context"
	"errors"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/template"
)

func init() {
	component.MustRegister(component.TransformSpec("set",
		"Add, overwrite, rename and remove fields, with templates.", New))
}

// errBadTimestamp is reported when a template renders a timestamp that is
// not RFC 3339.
var errBadTimestamp = errors.New("timestamp: rendered value is not an RFC 3339 time")

// Transform is a running set transform.
type Transform struct {
	cfg    *Config
	fields []setter
	deps   component.Deps
	buf    []byte // render buffer; Process runs on one goroutine
}

// setter is one compiled entry of Config.Fields.
type setter struct {
	name string
	tpl  *template.Template
	// value is used for typed entries and for templates without actions.
	value event.Value
	// static marks value as usable; deep values are cloned per event.
	static, deep bool
}

// New builds a set transform from its config.
func New(c *Config, deps component.Deps) (component.Transform, error) {
	tpls := c.tpls
	t := &Transform{cfg: c, deps: deps}
	for i, f := range c.Fields {
		s := setter{name: f.Name, tpl: tpls[i]}
		switch {
		case f.Typed:
			s.value, s.static = f.Value, true
			s.deep = f.Value.Kind() == event.KindObject || f.Value.Kind() == event.KindArray
		default:
			if text, ok := tpls[i].Static(); ok {
				s.value, s.static = event.String(text), true
			}
		}
		t.fields = append(t.fields, s)
	}
	return t, nil
}

// Process applies the operations to every event and passes the batch on.
func (t *Transform) Process(ctx context.Context, b *event.Batch, out component.Output) error {
	failed := 0
	var firstErr error
	for i := range b.Events {
		if err := t.apply(&b.Events[i]); err != nil {
			failed++
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if failed > 0 {
		t.deps.Metrics.Errors.Add(float64(failed))
		t.deps.Logger.Warn("could not set fields; events passed on without them", "events", failed, "error", firstErr)
	}
	if len(b.Events) == 0 {
		return nil
	}
	return out(ctx, "", b)
}

// apply changes one event. A field whose template fails is skipped; the
// others are still applied, and the first error is returned.
func (t *Transform) apply(e *event.Event) error {
	for _, r := range t.cfg.Rename {
		if v, ok := e.Get(r.From); ok {
			e.Delete(r.From)
			e.Set(r.To, v)
		}
	}
	var firstErr error
	for i := range t.fields {
		if err := t.set(e, &t.fields[i]); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	for _, name := range t.cfg.Remove {
		e.Delete(name)
	}
	return firstErr
}

func (t *Transform) set(e *event.Event, s *setter) error {
	if s.static {
		v := s.value
		if s.deep {
			v = event.Fields{{Value: v}}.Clone()[0].Value
		}
		if !e.Set(s.name, v) {
			return errBadTimestamp
		}
		return nil
	}
	var err error
	t.buf, err = s.tpl.Render(t.buf[:0], e)
	if err != nil {
		return err
	}
	if s.name == event.KeyMessage {
		e.Message = append([]byte(nil), t.buf...)
		return nil
	}
	if !e.Set(s.name, event.String(string(t.buf))) {
		return errBadTimestamp
	}
	return nil
}

var _ component.Transform = (*Transform)(nil)
