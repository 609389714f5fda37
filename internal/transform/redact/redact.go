// Package redact implements the redact transform: it finds e-mail
// addresses, IP addresses, credit card numbers, bearer tokens and custom
// regexes in the message and chosen fields and replaces each match with a
// fixed text or a keyed hash of it.
//
// Every pattern has a prefilter (a byte or substring that any match must
// contain), so text with nothing to redact costs a few scans and no
// allocation. Matches of all patterns are merged, overlapping ones into
// one, and the text is rebuilt once; a message is replaced, never written
// into, since parsed fields may be views of it.
package redact

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/parser"
)

func init() {
	component.MustRegister(component.TransformSpec("redact",
		"Replace or hash e-mails, IPs, card numbers, tokens and custom patterns.", New))
}

// Transform is a running redact transform. Its scratch buffers are reused
// between events: Process is called from one goroutine.
type Transform struct {
	pats      []*pattern
	fields    []string
	message   bool // fields holds "message"
	mac       hash.Hash
	hashBytes int
	counts    []prometheus.Counter // redactions, by pattern index

	spans []span
	buf   []byte
	sum   []byte
}

// New builds a redact transform from its config.
func New(c *Config, deps component.Deps) (component.Transform, error) {
	t := &Transform{pats: c.pats, hashBytes: c.HashBytes}
	for _, f := range c.Fields {
		if f == event.KeyMessage {
			t.message = true
		} else {
			t.fields = append(t.fields, f)
		}
	}
	if c.Mode == ModeHash {
		t.mac = hmac.New(sha256.New, []byte(c.HashKey.Reveal()))
	}
	for _, p := range t.pats {
		t.counts = append(t.counts, deps.Metrics.Counter("redact_redactions_total",
			"Matches the redact transform replaced, by pattern.", []string{"pattern"}, p.name))
	}
	return t, nil
}

// Process redacts every event of b in place and passes b on.
func (t *Transform) Process(ctx context.Context, b *event.Batch, out component.Output) error {
	if len(b.Events) == 0 {
		return nil
	}
	for i := range b.Events {
		t.event(&b.Events[i])
	}
	return out(ctx, "", b)
}

func (t *Transform) event(e *event.Event) {
	if t.message {
		if r, ok := t.redact(parser.View(e.Message)); ok {
			e.Message = append(make([]byte, 0, len(r)), r...)
		}
	}
	for _, name := range t.fields {
		if v := lookup(e.Fields, name); v != nil && v.Kind() == event.KindString {
			if r, ok := t.redact(v.Str()); ok {
				*v = event.String(string(r))
			}
		}
	}
}

// lookup finds a field as event.Fields.Get does (an exact name first,
// then a dotted path through nested objects) and returns it in place, so
// that it can be replaced. Nested objects share their backing array with
// the event, which owns them (route clones an event before fanning out).
func lookup(f event.Fields, name string) *event.Value {
	for i := range f {
		if f[i].Key == name {
			return &f[i].Value
		}
	}
	head, rest, ok := strings.Cut(name, ".")
	if !ok {
		return nil
	}
	v := lookup(f, head)
	if v == nil || v.Kind() != event.KindObject {
		return nil
	}
	return lookup(v.Fields(), rest)
}

// Redact returns s with every match replaced, for tests and tools.
func (t *Transform) Redact(s string) string {
	if r, ok := t.redact(s); ok {
		return string(r)
	}
	return s
}

// redact returns the redacted text and true, or false when nothing
// matched. The text is in a scratch buffer, valid until the next call: the
// caller copies it, so only a match allocates.
func (t *Transform) redact(s string) ([]byte, bool) {
	t.spans = t.spans[:0]
	for _, p := range t.pats {
		if p.maybe(s) {
			t.spans = p.find(s, p.index, t.spans)
		}
	}
	if len(t.spans) == 0 {
		return nil, false
	}
	slices.SortFunc(t.spans, func(a, b span) int { return a.start - b.start })
	buf := t.buf[:0]
	last := 0
	for i := 0; i < len(t.spans); {
		sp := t.spans[i]
		// Overlapping matches are redacted as one, under the first name.
		j := i + 1
		for j < len(t.spans) && t.spans[j].start < sp.end {
			sp.end = max(sp.end, t.spans[j].end)
			j++
		}
		buf = append(buf, s[last:sp.start]...)
		buf = t.replace(buf, s[sp.start:sp.end], t.pats[sp.pat])
		t.counts[sp.pat].Inc()
		last, i = sp.end, j
	}
	buf = append(buf, s[last:]...)
	t.buf = buf
	return buf, true
}

// replace appends the replacement of match.
func (t *Transform) replace(buf []byte, match string, p *pattern) []byte {
	if t.mac == nil {
		return append(buf, p.replacement...)
	}
	t.mac.Reset()
	_, _ = t.mac.Write(parser.Bytes(match)) // a hash.Hash never fails
	t.sum = t.mac.Sum(t.sum[:0])
	r := p.replacement
	for {
		i := strings.Index(r, "{hash}")
		if i < 0 {
			return append(buf, r...)
		}
		buf = append(buf, r[:i]...)
		buf = hex.AppendEncode(buf, t.sum[:t.hashBytes])
		r = r[i+len("{hash}"):]
	}
}

var _ component.Transform = (*Transform)(nil)
