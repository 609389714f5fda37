package rules

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/metrics/store"
)

// DefaultNativeFactor is native_factor when a native histogram does not
// set it (client_golang's usual choice).
const DefaultNativeFactor = 1.1

// maxExemplarRunes is OpenMetrics' bound on an exemplar's label names and
// values together; a longer exemplar would fail the whole scrape.
const maxExemplarRunes = 128

var unitName = regexp.MustCompile(`^[a-zA-Z0-9_]+$`)

// compileExposition checks and compiles what shapes a rule's exposition
// rather than its counting: exemplar, timestamp, unit and native buckets.
func (c *Config) compileExposition(r *rule, kind store.Kind) error {
	if err := c.checkUnit(kind); err != nil {
		return err
	}
	if err := c.compileExemplar(r, kind); err != nil {
		return err
	}
	if err := c.checkNative(kind); err != nil {
		return err
	}
	if c.Timestamp && c.ResetOnScrape {
		// The zero after a scrape would carry the last event's time, where
		// Prometheus already has another value: it refuses such samples.
		return errors.New("timestamp: a reset_on_scrape rule cannot have timestamps (its zero would reuse the last event's time)")
	}
	o := &r.opts
	o.Unit, o.Timestamp = c.Unit, c.Timestamp
	if c.Native {
		f := c.NativeFactor
		if f == 0 {
			f = DefaultNativeFactor
		}
		o.Native, o.NativeSchema, o.NativeMaxBuckets = true, store.NativeSchema(f), c.NativeMaxBuckets
	}
	r.detailed = c.Timestamp || len(r.exemplar) > 0
	return nil
}

// checkUnit enforces OpenMetrics' rule that a metric's name ends with its
// unit, so that a scraper can trust either.
func (c *Config) checkUnit(kind store.Kind) error {
	if c.Unit == "" {
		return nil
	}
	if !unitName.MatchString(c.Unit) {
		return fmt.Errorf("unit: %q is not a valid unit (letters, digits and _, e.g. seconds)", c.Unit)
	}
	suffix := "_" + c.Unit
	if strings.HasSuffix(c.Name, suffix) || (kind == store.Counter && strings.HasSuffix(c.Name, suffix+"_total")) {
		return nil
	}
	want := c.Name + suffix
	if kind == store.Counter {
		want = strings.TrimSuffix(c.Name, "_total") + suffix + "_total"
	}
	return fmt.Errorf("unit: OpenMetrics wants the name to end with the unit: %q does not end with %q (e.g. name: %s)", c.Name, suffix, want)
}

func (c *Config) compileExemplar(r *rule, kind store.Kind) error {
	if len(c.Exemplar) == 0 {
		return nil
	}
	if kind == store.Gauge || c.ResetOnScrape {
		return errors.New("exemplar: only counters and histograms have exemplars (a reset_on_scrape counter is exposed as a gauge)")
	}
	names := make([]string, 0, len(c.Exemplar))
	for name := range c.Exemplar {
		if !labelName.MatchString(name) || strings.HasPrefix(name, "__") {
			return fmt.Errorf("exemplar: %q is not a valid label name (letters, digits and _, not starting with a digit or __)", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		src, err := r.labelSource("exemplar", name, c.Exemplar[name])
		if err != nil {
			return err
		}
		r.exemplar = append(r.exemplar, src)
	}
	r.opts.Exemplar = names
	return nil
}

func (c *Config) checkNative(kind store.Kind) error {
	switch {
	case !c.Native && (c.NativeFactor != 0 || c.NativeMaxBuckets != 0):
		return errors.New("native_factor, native_max_buckets: set native: true too")
	case c.Native && kind != store.Histogram:
		return errors.New("native: only histograms can be native")
	case c.NativeFactor != 0 && (c.NativeFactor <= 1 || math.IsInf(c.NativeFactor, 0) || math.IsNaN(c.NativeFactor)):
		return errors.New("native_factor: must be > 1, e.g. 1.1")
	case c.NativeMaxBuckets < 0:
		return errors.New("native_max_buckets: must not be negative")
	}
	return nil
}

// detail is a Sink's state for the rules whose updates carry an exemplar
// or an event time: a reused key buffer, and the count of exemplars too
// long to expose.
type detail struct {
	key     []byte
	dropped prometheus.Counter
}

func (s *Sink) initDetail(d component.Deps) {
	if len(s.r.exemplar) > 0 {
		s.det.dropped = d.Metrics.Counter("metrics_rule_exemplars_dropped_total",
			"Exemplars a metrics rule did not keep: their labels were longer than the 128 characters OpenMetrics allows.",
			[]string{"rule"}, s.r.opts.Name)
	}
}

// updateDetailed updates the series of s.key by v with the event's time
// and exemplar; false when the series budget refused a new series.
func (s *Sink) updateDetailed(e *event.Event, text []byte, v float64) bool {
	d := store.Detail{Time: e.Timestamp.UnixNano()}
	if e.Timestamp.IsZero() {
		d.Time = s.now().UnixNano()
	}
	if len(s.r.exemplar) > 0 {
		s.det.key = s.appendExemplar(s.det.key[:0], e, text)
		d.Exemplar = s.det.key
	}
	switch s.r.op {
	case opSub:
		return s.fam.AddAt(s.key, -v, d)
	case opSet:
		return s.fam.SetAt(s.key, v, d)
	case opObserve:
		return s.fam.ObserveAt(s.key, v, d)
	}
	return s.fam.AddAt(s.key, v, d)
}

// appendExemplar appends the exemplar key of e to key, or returns key
// empty when the event has none: every value missing or empty, or too
// long for OpenMetrics (then counted as dropped). A missing field is not
// an error: the event still counts, without exemplar.
func (s *Sink) appendExemplar(key []byte, e *event.Event, text []byte) []byte {
	runes, has := 0, false
	for i, l := range s.r.exemplar {
		start := len(s.scr)
		switch {
		case l.capture > 0:
			if a, b := s.subs[2*l.capture], s.subs[2*l.capture+1]; a >= 0 {
				s.scr = append(s.scr, text[a:b]...)
			}
		case l.tpl != nil:
			var err error
			if s.scr, err = l.tpl.Render(s.scr, e); err != nil {
				s.scr = s.scr[:start]
			}
		default:
			if v, ok := e.Get(l.field); ok {
				s.scr = v.AppendText(s.scr)
			}
		}
		v := validUTF8(s.scr[start:])
		if len(v) > 0 {
			has = true
			runes += utf8.RuneCount(v) + utf8.RuneCountInString(s.r.opts.Exemplar[i])
		}
		key = store.AppendKey(key, v)
		s.scr = s.scr[:start]
	}
	if runes > maxExemplarRunes {
		s.det.dropped.Inc()
		return key[:0]
	}
	if !has {
		return key[:0]
	}
	return key
}
