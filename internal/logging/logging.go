// Package logging builds sluice's own structured logger: slog, with repeated
// messages rate-limited so that a flood of bad input cannot flood the log.
//
// The limiter keys on level, component and message text; the first message
// of a key in each interval passes, later ones are counted and the count is
// reported as "suppressed" on the next one that passes.
package logging

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// New returns a logger writing JSON or text to w at the given level, with
// messages of the same key limited to one per interval.
func New(w io.Writer, level slog.Level, json bool, interval time.Duration) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	if json {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(NewLimiter(h, interval, time.Now))
}

// Limiter is a slog.Handler that rate-limits repeated messages.
type Limiter struct {
	next     slog.Handler
	interval time.Duration
	now      func() time.Time
	attrKey  string // component id from WithAttrs, part of the key
	state    *limitState
}

type limitState struct {
	mu   sync.Mutex
	seen map[string]*limitEntry
}

type limitEntry struct {
	last       time.Time
	suppressed int
}

// NewLimiter wraps next. now is injectable for tests.
func NewLimiter(next slog.Handler, interval time.Duration, now func() time.Time) *Limiter {
	return &Limiter{next: next, interval: interval, now: now, state: &limitState{seen: map[string]*limitEntry{}}}
}

// Enabled implements slog.Handler.
func (l *Limiter) Enabled(ctx context.Context, lv slog.Level) bool { return l.next.Enabled(ctx, lv) }

// Handle implements slog.Handler.
func (l *Limiter) Handle(ctx context.Context, r slog.Record) error {
	if l.interval <= 0 || r.Level < slog.LevelWarn {
		return l.next.Handle(ctx, r)
	}
	key := r.Level.String() + "\x00" + l.attrKey + "\x00" + r.Message
	now := l.now()
	s := l.state
	s.mu.Lock()
	e, ok := s.seen[key]
	if !ok {
		if len(s.seen) > 10000 { // bound memory if messages are unique
			clear(s.seen)
		}
		e = &limitEntry{}
		s.seen[key] = e
	}
	if ok && now.Sub(e.last) < l.interval {
		e.suppressed++
		s.mu.Unlock()
		return nil
	}
	suppressed := e.suppressed
	e.last, e.suppressed = now, 0
	s.mu.Unlock()
	if suppressed > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("suppressed", suppressed))
	}
	return l.next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (l *Limiter) WithAttrs(as []slog.Attr) slog.Handler {
	c := *l
	c.next = l.next.WithAttrs(as)
	for _, a := range as {
		c.attrKey += a.Key + "=" + a.Value.String() + ";"
	}
	return &c
}

// WithGroup implements slog.Handler.
func (l *Limiter) WithGroup(name string) slog.Handler {
	c := *l
	c.next = l.next.WithGroup(name)
	c.attrKey += name + "."
	return &c
}

var _ slog.Handler = (*Limiter)(nil)
