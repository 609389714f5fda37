// Package event defines the log record that flows through sluice and the
// batch it travels in.
//
// An Event is a timestamp, host, stream, the raw message bytes and parsed
// fields. Events move in Batches; a batch carries the ack.Token of
// the source that produced it, and whoever holds a batch last releases it.
// Message bytes are immutable once an event is emitted: parsers may keep
// string views into them, so a transform replaces Message instead of
// writing into it.
package event

import (
	"time"

	"github.com/sluice-log/sluice/internal/ack"
)

// Reserved names address an event's own attributes rather than its fields,
// in expressions, templates, the set transform and the encoders.
const (
	KeyTimestamp = "timestamp"
	KeyHost      = "host"
	KeyStream    = "stream"
	KeyMessage   = "message"
)

// Event is one log record.
type Event struct {
	Timestamp time.Time
	Host      string
	Stream    string
	Message   []byte
	Fields    Fields
}

// Get returns the named attribute or field.
func (e *Event) Get(name string) (Value, bool) {
	switch name {
	case KeyTimestamp:
		return Time(e.Timestamp), true
	case KeyHost:
		return String(e.Host), true
	case KeyStream:
		return String(e.Stream), true
	case KeyMessage:
		return String(string(e.Message)), true
	}
	return e.Fields.Get(name)
}

// Set sets the named attribute or field. Setting timestamp from a string
// that is not RFC 3339 leaves the timestamp unchanged and returns false.
func (e *Event) Set(name string, v Value) bool {
	switch name {
	case KeyTimestamp:
		switch v.Kind() {
		case KindTime:
			e.Timestamp = v.Time()
		case KindString:
			t, err := time.Parse(time.RFC3339Nano, v.Str())
			if err != nil {
				return false
			}
			e.Timestamp = t
		default:
			return false
		}
	case KeyHost:
		e.Host = v.Text()
	case KeyStream:
		e.Stream = v.Text()
	case KeyMessage:
		e.Message = []byte(v.Text())
	default:
		e.Fields.Set(name, v)
	}
	return true
}

// Delete removes a field; attributes cannot be removed, only emptied.
func (e *Event) Delete(name string) bool {
	switch name {
	case KeyHost:
		e.Host = ""
	case KeyStream:
		e.Stream = ""
	case KeyMessage:
		e.Message = nil
	case KeyTimestamp:
		return false
	default:
		return e.Fields.Delete(name)
	}
	return true
}

// Map returns the event as a map of plain values: its fields plus the four
// attributes. Expressions and templates see this.
func (e *Event) Map() map[string]any {
	m := e.Fields.Map()
	m[KeyTimestamp] = e.Timestamp
	m[KeyHost] = e.Host
	m[KeyStream] = e.Stream
	m[KeyMessage] = string(e.Message)
	return m
}

// Clone returns a deep copy that shares nothing mutable with e.
func (e *Event) Clone() Event {
	c := *e
	c.Fields = e.Fields.Clone()
	// Message bytes are immutable after emit, so sharing them is safe.
	return c
}

// Size estimates the memory an event holds, for byte-bounded buffers and
// the bytes counters.
func (e *Event) Size() int {
	n := len(e.Message) + len(e.Host) + len(e.Stream) + 64
	for _, f := range e.Fields {
		n += len(f.Key) + len(f.Value.str) + 40
	}
	return n
}

// Batch is the unit that moves between components.
type Batch struct {
	Events []Event
	// Ack is released by the last holder of the batch. Nil when the source
	// needs no acknowledgement.
	Ack *ack.Token
}

// Size is the sum of the events' sizes.
func (b *Batch) Size() int {
	n := 0
	for i := range b.Events {
		n += b.Events[i].Size()
	}
	return n
}

// Clone returns a deep copy of b sharing its ack token; the caller must
// Retain the token for the copy.
func (b *Batch) Clone() *Batch {
	c := &Batch{Events: make([]Event, len(b.Events)), Ack: b.Ack}
	for i := range b.Events {
		c.Events[i] = b.Events[i].Clone()
	}
	return c
}
