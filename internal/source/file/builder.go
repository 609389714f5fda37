package file

import (
	"time"

	"github.com/sluice-log/sluice/internal/event"
)

// arenaChunk is the size of the blocks messages are copied into: one
// allocation serves many lines.
const arenaChunk = 64 << 10

// builder collects the events of the next batch. Messages are copied out of
// the line reader into shared arena blocks, each message capped so that an
// append by a downstream component reallocates instead of overwriting its
// neighbour.
type builder struct {
	host    string
	field   string
	max     int
	events  []event.Event
	marks   []mark
	arena   []byte
	fields  []event.Field
	lastLen int
}

// mark is the end offset of a stream's last event in a batch.
type mark struct {
	st  *stream
	end int64
	seq uint64
}

func (b *builder) init(s *Source) {
	b.host, b.field, b.max = s.host, s.cfg.FileField, s.cfg.BatchLines
}

func (b *builder) full() bool { return len(b.events) >= b.max }

// add appends an event for msg, a line or record of f ending at end.
func (b *builder) add(f *file, msg []byte, end int64, now time.Time) {
	if b.events == nil {
		b.events = make([]event.Event, 0, min(max(b.lastLen, 16), b.max))
	}
	if cap(b.arena)-len(b.arena) < len(msg) {
		b.arena = make([]byte, 0, max(arenaChunk, len(msg)))
	}
	start := len(b.arena)
	b.arena = append(b.arena, msg...)
	e := event.Event{Timestamp: now, Host: b.host, Stream: f.path, Message: b.arena[start:len(b.arena):len(b.arena)]}
	if b.field != "" {
		if len(b.fields) == cap(b.fields) {
			b.fields = make([]event.Field, 0, 256)
		}
		b.fields = append(b.fields, event.Field{Key: b.field, Value: event.String(f.path)})
		n := len(b.fields)
		e.Fields = b.fields[n-1 : n : n]
	}
	b.events = append(b.events, e)
	st := f.st
	if st.markIdx == 0 {
		b.marks = append(b.marks, mark{st: st, end: end})
		st.markIdx = len(b.marks)
	} else {
		b.marks[st.markIdx-1].end = end
	}
}

// take hands over the batch built so far and starts a new one.
func (b *builder) take() ([]event.Event, []mark) {
	events, marks := b.events, b.marks
	for _, m := range marks {
		m.st.markIdx = 0
	}
	b.events, b.marks = nil, nil
	if len(events) > 0 {
		b.lastLen = len(events)
	}
	return events, marks
}
