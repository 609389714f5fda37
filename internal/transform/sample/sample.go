// Package sample implements the sample transform: it keeps one event in N,
// or a fraction of them, and drops the rest.
//
// By default it counts: of every N events it keeps the first, exactly, per
// key when key_field is set. With hash_field it decides by a hash of that
// field instead, so all events of one trace or request are kept or dropped
// together, the same way on every instance and across restarts. Dropped
// events are simply left out of the batch, which releases their share of
// the source's acknowledgement: sampling never holds a checkpoint back.
package sample

import (
	"context"
	"math"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/expr"
)

func init() {
	component.MustRegister(component.TransformSpec("sample",
		"Keep one event in N, or a fraction, per key or by a hash of a field.", New))
}

// Transform is a running sampler. Its counters and scratch buffer belong
// to the one goroutine that calls Process.
type Transform struct {
	rate      uint64  // keep 1 in rate when counting by rate
	ratio     float64 // fraction kept
	threshold uint64  // hash mode: keep when the hash is below it
	keyField  string
	hashField string
	exclude   *expr.Program
	maxKeys   int

	seen   uint64             // events counted without a key
	counts map[string]*uint64 // events counted, by key
	buf    []byte

	deps                    component.Deps
	dropped, resets, errors prometheus.Counter
}

// New builds a sampler from its config.
func New(c *Config, deps component.Deps) (component.Transform, error) {
	t := &Transform{rate: uint64(c.Rate), ratio: c.ratio(), keyField: c.KeyField, hashField: c.HashField,
		exclude: c.exclude, maxKeys: c.MaxKeys, counts: map[string]*uint64{}, deps: deps,
		dropped: deps.Metrics.Counter("transform_dropped_events_total",
			"Events a transform dropped on purpose, by reason.", []string{"reason"}, "sampled"),
		resets: deps.Metrics.Counter("sample_key_resets_total",
			"Times the sample transform forgot its per-key counts because max_keys was reached.", nil),
		errors: deps.Metrics.Errors,
	}
	t.threshold = math.MaxUint64
	if t.ratio < 1 {
		t.threshold = uint64(t.ratio * (1 << 64))
	}
	return t, nil
}

// Process keeps the sampled events of b, in order, and passes b on.
func (t *Transform) Process(ctx context.Context, b *event.Batch, out component.Output) error {
	kept, failed := 0, 0
	var firstErr error
	for i := range b.Events {
		e := &b.Events[i]
		keep := false
		if t.exclude != nil {
			ok, err := t.exclude.Bool(e)
			if err != nil {
				failed++
				if firstErr == nil {
					firstErr = err
				}
			}
			keep = ok
		}
		if !keep && !t.sample(e) {
			continue
		}
		if kept != i {
			b.Events[kept] = *e
		}
		kept++
	}
	if dropped := len(b.Events) - kept; dropped > 0 {
		t.dropped.Add(float64(dropped))
	}
	clear(b.Events[kept:])
	b.Events = b.Events[:kept]
	if failed > 0 {
		t.errors.Add(float64(failed))
		t.deps.Logger.Warn("exclude condition could not be evaluated; events sampled", "events", failed, "error", firstErr)
	}
	if kept == 0 {
		return nil
	}
	return out(ctx, "", b)
}

// sample decides one event.
func (t *Transform) sample(e *event.Event) bool {
	if t.hashField != "" {
		if v, ok := t.value(e, t.hashField); ok {
			return mix(fnv1a(v)) < t.threshold || t.threshold == math.MaxUint64
		}
		return t.count(&t.seen)
	}
	if t.keyField == "" {
		return t.count(&t.seen)
	}
	v, _ := t.value(e, t.keyField)
	n, ok := t.counts[string(v)] // no allocation: a lookup
	if !ok {
		if len(t.counts) >= t.maxKeys {
			clear(t.counts)
			t.resets.Inc()
		}
		n = new(uint64)
		t.counts[string(v)] = n
	}
	return t.count(n)
}

// count advances one counter and says whether its event is kept: the
// first of every rate events, or, for a ratio, each event that takes
// ceil(events × ratio) up by one (the first event is always kept).
func (t *Transform) count(n *uint64) bool {
	i := *n
	*n = i + 1
	if t.rate != 0 {
		return i%t.rate == 0
	}
	return math.Ceil(float64(i+1)*t.ratio) > math.Ceil(float64(i)*t.ratio)
}

// value renders a field (or message, host, stream) into the scratch
// buffer, without allocating for strings.
func (t *Transform) value(e *event.Event, name string) ([]byte, bool) {
	switch name {
	case event.KeyMessage:
		return e.Message, true
	case event.KeyHost:
		t.buf = append(t.buf[:0], e.Host...)
		return t.buf, true
	case event.KeyStream:
		t.buf = append(t.buf[:0], e.Stream...)
		return t.buf, true
	}
	v, ok := e.Fields.Get(name)
	if !ok || v.Kind() == event.KindNull {
		return nil, false
	}
	t.buf = v.AppendText(t.buf[:0])
	return t.buf, true
}

// fnv1a is the 64-bit FNV-1a hash: stable across processes and versions,
// unlike hash/maphash, so every instance samples alike.
func fnv1a(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// mix is the splitmix64 finalizer: it spreads FNV's weak low bits over the
// whole word, so comparing with a threshold samples evenly.
func mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	return h ^ h>>31
}

var _ component.Transform = (*Transform)(nil)
