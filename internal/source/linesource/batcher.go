package linesource

import (
	"context"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/lines"
)

// minArena is the smallest arena allocated for a batch.
const minArena = 512

// batcher collects line events into a batch. The messages of one batch
// live in an arena allocated for that batch (a few, when it has to grow)
// and handed over with it: emitted bytes are never written again.
type batcher struct {
	o    *Options
	emit component.Emit

	events []event.Event
	arena  []byte
	bytes  int       // message bytes in the batch
	first  time.Time // arrival of the batch's first line

	// lastLines and lastBytes are the size of the previous batch, to size
	// the next one.
	lastLines, lastBytes int
	prevLong             bool // the last line added was a cut piece of a long line
}

func newBatcher(o *Options, emit component.Emit) *batcher {
	return &batcher{o: o, emit: emit}
}

// add appends one line that arrived at at. avail is how many bytes are
// known to be waiting, this line included; it sizes a new batch's arena.
func (b *batcher) add(line []byte, long bool, at time.Time, avail int) {
	b.countLong(long)
	if len(b.events) == 0 {
		b.start(len(line), at, avail)
	}
	if cap(b.arena)-len(b.arena) < len(line) {
		b.arena = make([]byte, 0, b.arenaSize(len(line), 2*cap(b.arena)))
	}
	s := len(b.arena)
	b.arena = append(b.arena, line...)
	ev := event.Event{Timestamp: at, Host: b.o.Host, Stream: b.o.Stream, Message: b.arena[s:len(b.arena):len(b.arena)]}
	if b.o.Fields != nil {
		ev.Fields = b.o.Fields.Clone()
	}
	b.events = append(b.events, ev)
	b.bytes += len(line)
}

// start begins a batch. While input floods in (the previous batch was
// full) it is sized like the previous one; otherwise by the bytes known to
// be waiting, which are about to become its lines.
func (b *batcher) start(need int, at time.Time, avail int) {
	b.first = at
	avgLine := 128
	if b.lastLines > 0 {
		avgLine = max(b.lastBytes/b.lastLines, 1)
	}
	lines, bytes := b.lastLines, b.lastBytes
	if lines < b.o.BatchLines && bytes < b.o.BatchBytes {
		lines, bytes = avail/avgLine, avail
	}
	lines = min(max(lines, 4), b.o.BatchLines)
	b.events = make([]event.Event, 0, lines)
	b.arena = make([]byte, 0, b.arenaSize(need, min(bytes, (lines+1)*avgLine)))
}

// arenaSize is want clamped to [minArena, BatchBytes], and at least need.
func (b *batcher) arenaSize(need, want int) int {
	return max(min(max(want, minArena), b.o.BatchBytes), need)
}

// countLong counts a line longer than the limit once: a truncated line
// yields one long piece, a split one several in a row.
func (b *batcher) countLong(long bool) {
	if long && (b.o.Mode == lines.Truncate || !b.prevLong) {
		b.o.LongLines.Inc()
	}
	b.prevLong = long
}

// due reports whether the batch must be emitted: it is full, or its first
// line has waited FlushInterval by now. The events slice is sized when the
// batch starts and never grown (growing would copy every event so far):
// a batch whose estimate fell short is emitted when its slice is full.
func (b *batcher) due(now time.Time) bool {
	n := len(b.events)
	return n >= b.o.BatchLines || (n > 0 && n == cap(b.events)) || b.bytes >= b.o.BatchBytes ||
		(n > 0 && b.o.FlushInterval > 0 && now.Sub(b.first) >= b.o.FlushInterval)
}

// flush emits the batch, if any, and starts a new one.
func (b *batcher) flush(ctx context.Context) error {
	if len(b.events) == 0 {
		return nil
	}
	// The input cannot replay, so nothing waits for the token; it is
	// attached because every batch carries one (acknowledgements: false
	// is the pipeline's business).
	batch := &event.Batch{Events: b.events, Ack: ack.New(nil)}
	b.lastLines, b.lastBytes = len(b.events), b.bytes
	b.events, b.arena, b.bytes = nil, nil, 0
	return b.emit(ctx, batch)
}
