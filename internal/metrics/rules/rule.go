// Package rules implements log-derived metric rules: each entry of
// metrics.rules is compiled once at load into a rule, and runs as a sink
// (type metrics_rule) fed by the pipeline like any other, so inputs,
// globs, buffers and acknowledgement work as for every sink.
//
// Write evaluates each event of a batch (condition, regex, value, labels),
// updates the rule's family in the shared store and acknowledges the whole
// batch: an event that does not match is skipped, and one whose value or
// labels cannot be had is counted as a rule error, never retried.
package rules

import (
	"context"
	"errors"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/expr"
	"github.com/sluice-log/sluice/internal/metrics/store"
	"github.com/sluice-log/sluice/internal/template"
)

func init() {
	component.MustRegister(component.SinkSpec("metrics_rule",
		"A log-derived metric rule (written under metrics.rules, not sinks).", New))
}

type op int

const (
	opAdd op = iota
	opSub
	opSet
	opObserve
)

// source is where a value or a label comes from: a constant, a regex
// capture, a field or a template.
type source struct {
	constant bool
	num      float64
	capture  int // submatch index, > 0
	field    string
	tpl      *template.Template
	// allow and deny (labels only): a value not in allow, or in deny, is
	// replaced by Other.
	allow, deny map[string]bool
}

// Other replaces a label value that allow or deny does not let through.
const Other = "__other__"

// rule is a compiled Config.
type rule struct {
	opts   store.Options
	cond   *expr.Program
	re     *regexp.Regexp
	pre    *prefilter // nil: no literal to look for first
	subs   bool       // value or labels use captures: FindSubmatchIndex, not Match
	field  string
	value  source
	op     op
	labels []source
	// exemplar are the sources of Options.Exemplar's labels; detailed:
	// updates carry a store.Detail (exemplar or event time).
	exemplar []source
	detailed bool
}

// Errors the evaluation counts; they are never returned from Write.
var (
	errMissing    = errors.New("field missing")
	errNotNumeric = errors.New("value is not a finite number")
	errNegative   = errors.New("a counter cannot add a negative value")
)

// Sink is one running rule.
type Sink struct {
	r       *rule
	fam     *store.Family
	deps    component.Deps
	skipped prometheus.Counter
	errs    prometheus.Counter
	dur     prometheus.Observer
	now     func() time.Time

	// reused across events; Write is never called concurrently
	key  []byte
	scr  []byte
	subs []int
	det  detail
	// helpers evaluate parts of a large batch beside s (parallel.go)
	helpers []*Sink
	// group is the rules sharing s's condition and regex (group.go), pos
	// s's place in it; nil for a rule on its own.
	group   *group
	pos     int
	peerBuf []*Sink
	copies  []*Sink // a helper's scratch copies of the group's peers
}

// New builds the sink of a rule, taking its family from the shared store
// in deps (kept from before a reload when the rule is unchanged).
func New(c *Config, d component.Deps) (component.Sink, error) {
	if d.MetricsStore == nil {
		return nil, errors.New("metrics rules need the metrics store (not available here)")
	}
	s := &Sink{r: c.compiled, deps: d, fam: d.MetricsStore.Family(c.compiled.opts), now: time.Now}
	rl, name := []string{"rule"}, c.compiled.opts.Name
	s.skipped = d.Metrics.Counter("metrics_rule_skipped_total", "Events a metrics rule skipped: condition false or regex not matching.", rl, name)
	s.errs = d.Metrics.Counter("metrics_rule_errors_total", "Events a metrics rule could not count: a missing field, a value that is not a number, a template that failed, or the series budget.", rl, name)
	s.dur = d.Metrics.Histogram("metrics_rule_duration_seconds", "Time a metrics rule took to evaluate one batch.", prometheus.ExponentialBuckets(1e-6, 4, 10), rl, name)
	s.initDetail(d)
	s.join(c)
	return s, nil
}

// Write counts every event of b and acknowledges it: returns nil. A rule
// that follows another of its group (group.go) counts nothing here: the
// group's first rule counts the events for it.
func (s *Sink) Write(_ context.Context, b *event.Batch) error {
	if s.following() {
		return nil
	}
	start := s.now()
	peers := s.peers()
	var ts []tally
	if n := s.workers(len(b.Events), peers); n > 1 {
		ts = s.evalParallel(b.Events, n, peers)
	} else {
		ts = s.evalAll(b.Events, peers, make([]tally, 1+len(peers)))
	}
	s.dur.Observe(s.now().Sub(start).Seconds())
	s.report(ts[0])
	for i, p := range peers {
		p.report(ts[i+1])
	}
	return nil
}

// report counts what evaluating a batch came to in s's own metrics.
func (s *Sink) report(t tally) {
	if t.skipped > 0 {
		s.skipped.Add(float64(t.skipped))
	}
	if t.failed > 0 {
		s.errs.Add(float64(t.failed))
		s.deps.Logger.Warn("metrics rule could not count events", "rule", s.r.opts.Name, "events", t.failed, "error", t.first)
	}
}

// tally is what evaluating some events came to.
type tally struct {
	skipped, failed int
	first           error
}

func (t *tally) add(o tally) {
	t.skipped += o.skipped
	t.failed += o.failed
	if t.first == nil {
		t.first = o.first
	}
}

func (t *tally) note(err error) {
	switch {
	case err == nil:
	case err == errSkip: // eval returns it as is; errors.Is costs more per event
		t.skipped++
	default:
		t.failed++
		if t.first == nil {
			t.first = err
		}
	}
}

// evalAll evaluates events in order with s's scratch buffers, for s and
// its peers, which share s's condition and regex: ts[0] is s's tally,
// ts[i+1] peers[i]'s.
func (s *Sink) evalAll(events []event.Event, peers []*Sink, ts []tally) []tally {
	subs := s.r.subs
	for _, p := range peers {
		subs = subs || p.r.subs
	}
	for i := range events {
		e := &events[i]
		text, err := s.match(e, subs)
		if err != nil {
			for j := range ts {
				ts[j].note(err)
			}
			continue
		}
		ts[0].note(s.count(e, text))
		for j, p := range peers {
			p.subs = s.subs
			ts[j+1].note(p.count(e, text))
		}
	}
	return ts
}

var errSkip = errors.New("skipped")
var errBudget = errors.New("series budget reached (metrics.max_series)")

// match applies the rule's condition and regex to e: the text the regex
// matched (its submatch positions in s.subs when subs), errSkip when
// either rejects the event.
func (s *Sink) match(e *event.Event, subs bool) ([]byte, error) {
	r := s.r
	if r.cond != nil {
		ok, err := r.cond.Bool(e)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errSkip
		}
	}
	var text []byte
	if r.re != nil {
		var err error
		if text, err = s.matchText(e); err != nil {
			return nil, err
		}
		if r.pre != nil && !r.pre.mayMatch(text) {
			return nil, errSkip
		}
		if !subs {
			if !r.re.Match(text) {
				return nil, errSkip
			}
		} else if s.subs = r.re.FindSubmatchIndex(text); s.subs == nil {
			return nil, errSkip
		}
	}
	return text, nil
}

// count updates the rule's series for a matched event.
func (s *Sink) count(e *event.Event, text []byte) error {
	r := s.r
	v, err := s.number(e, text)
	if err != nil {
		return err
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return errNotNumeric
	}
	if v < 0 && r.opts.Kind == store.Counter {
		return errNegative
	}
	if s.key, err = s.appendLabels(s.key[:0], e, text); err != nil {
		return err
	}
	if r.detailed {
		if !s.updateDetailed(e, text, v) {
			return errBudget
		}
		return nil
	}
	var ok bool
	switch r.op {
	case opAdd:
		ok = s.fam.Add(s.key, v)
	case opSub:
		ok = s.fam.Add(s.key, -v)
	case opSet:
		ok = s.fam.Set(s.key, v)
	case opObserve:
		ok = s.fam.Observe(s.key, v)
	}
	if !ok {
		return errBudget
	}
	return nil
}

// matchText is the text the regex runs on.
func (s *Sink) matchText(e *event.Event) ([]byte, error) {
	if s.r.field == event.KeyMessage {
		return e.Message, nil
	}
	v, ok := e.Get(s.r.field)
	if !ok {
		return nil, errMissing
	}
	s.scr = v.AppendText(s.scr[:0])
	return s.scr, nil
}

// number reads the rule's value for e.
func (s *Sink) number(e *event.Event, text []byte) (float64, error) {
	src := s.r.value
	switch {
	case src.constant:
		return src.num, nil
	case src.capture > 0:
		a, b := s.subs[2*src.capture], s.subs[2*src.capture+1]
		if a < 0 {
			// The capture took no part in the match (an alternative
			// without it, as in `(?P<size>\d+)|-`): no value to count,
			// like mtail's `$size > 0 { ... }` guard.
			return 0, errSkip
		}
		return parseNumber(text[a:b])
	}
	v, ok := e.Get(src.field)
	if !ok {
		return 0, errMissing
	}
	switch v.Kind() {
	case event.KindInt, event.KindFloat:
		f, _ := v.Float()
		return f, nil
	case event.KindString:
		return parseNumberString(v.Str())
	}
	return 0, errNotNumeric
}

func parseNumber(b []byte) (float64, error) {
	if len(b) > 64 {
		return 0, errNotNumeric
	}
	return parseNumberString(string(b)) // does not escape: no allocation
}

func parseNumberString(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, errNotNumeric
	}
	return f, nil
}

// appendLabels appends the series key of e to key.
func (s *Sink) appendLabels(key []byte, e *event.Event, text []byte) ([]byte, error) {
	for _, l := range s.r.labels {
		start := len(s.scr)
		var err error
		switch {
		case l.capture > 0:
			a, b := s.subs[2*l.capture], s.subs[2*l.capture+1]
			if a >= 0 {
				s.scr = append(s.scr, text[a:b]...)
			}
		case l.tpl != nil:
			s.scr, err = l.tpl.Render(s.scr, e)
		default:
			v, ok := e.Get(l.field)
			if !ok {
				return key, errMissing
			}
			s.scr = v.AppendText(s.scr)
		}
		if err != nil {
			return key, err
		}
		if v := validUTF8(s.scr[start:]); (l.allow != nil && !l.allow[string(v)]) || l.deny[string(v)] {
			key = store.AppendKeyString(key, Other)
		} else {
			key = store.AppendKey(key, v)
		}
		s.scr = s.scr[:start]
	}
	return key, nil
}

// validUTF8 replaces invalid UTF-8 in b, in place when it can: label
// values must be UTF-8 in every exposition format.
func validUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out = utf8.AppendRune(out, utf8.RuneError)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return out
}

// ReadOnlyEvents implements component.ReadOnly: a rule only reads events,
// so rules fed by one output share its events instead of a copy each.
func (s *Sink) ReadOnlyEvents() {}

// Close implements component.Sink; the rule's series stay in the store.
func (s *Sink) Close(context.Context) error { return nil }

// Retain applies cfg's global metrics settings to s, makes the families of
// cfg's rules current (a changed rule's new, empty family replaces the old
// one) and drops the series of the rules cfg no longer has. Call it after
// each successful apply of a config, and not after one that failed.
func Retain(s *store.Store, cfg *config.Config) {
	s.SetMaxSeries(cfg.Metrics.MaxSeries)
	keep := map[string]string{}
	for _, c := range cfg.Components {
		if r, ok := c.Options.(*Config); ok && c.Kind == component.KindSink && r.compiled != nil {
			keep[strings.TrimPrefix(c.ID, config.RulePrefix)] = r.compiled.opts.Hash
		}
	}
	s.Retain(keep)
}

var (
	_ component.Sink     = (*Sink)(nil)
	_ component.ReadOnly = (*Sink)(nil)
)
