package relay

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/sluice-log/sluice/internal/event"
)

// PayloadVersion is the first byte of a batch payload.
const PayloadVersion = 1

// MaxDepth bounds the nesting of objects and arrays in fields.
const MaxDepth = 100

// minEvent is the fewest bytes an encoded event takes (seconds,
// nanoseconds, zone, host, stream, message, fields: one byte each).
const minEvent = 7

// maxZoneOffset bounds a timestamp's zone offset in seconds.
const maxZoneOffset = 86400

// The payload of a batch (all varints as in encoding/binary):
//
//	payload: version u8 (=1) | count u32 big-endian | count × event
//	event:   varint unix seconds | uvarint nanoseconds (< 1e9)
//	         | varint zone offset seconds | ref host | ref stream
//	         | nbytes message | fields
//	ref:     uvarint 0 = same as the previous event's (empty for the
//	         first) | uvarint n+1 then n bytes
//	nbytes:  uvarint 0 = nil | uvarint n+1 then n bytes
//	fields:  uvarint 0 = nil | uvarint n+1 then n × (string key, value)
//	string:  uvarint n then n bytes
//	value:   kind u8 then 0 null | 1 string | 2 varint | 3 float64 bits u64
//	         big-endian | 4 bool u8 (0 or 1) | 5 varint unix nanoseconds
//	         | 6 fields | 7 array: uvarint 0 = nil | n+1 then n × value

// Encoder appends events to a batch payload. Host and stream equal to the
// previous event's are written as one byte. The zero Encoder is ready for
// Reset.
type Encoder struct {
	buf    []byte
	start  int
	count  uint32
	host   string
	stream string
}

// Mark is an encoder's state between two events, for Undo.
type Mark struct {
	n            int
	count        uint32
	host, stream string
}

// Reset starts a payload at the end of buf, which the encoder then owns
// until Bytes.
func (e *Encoder) Reset(buf []byte) {
	e.start = len(buf)
	e.buf = append(buf, PayloadVersion, 0, 0, 0, 0)
	e.count, e.host, e.stream = 0, "", ""
}

// Len is the size of the payload so far.
func (e *Encoder) Len() int { return len(e.buf) - e.start }

// Count is the number of events appended since Reset.
func (e *Encoder) Count() int { return int(e.count) }

// Mark returns the current state, to Undo later appends.
func (e *Encoder) Mark() Mark {
	return Mark{n: len(e.buf), count: e.count, host: e.host, stream: e.stream}
}

// Undo returns to a state taken by Mark since the last Reset.
func (e *Encoder) Undo(m Mark) {
	e.buf, e.count, e.host, e.stream = e.buf[:m.n], m.count, m.host, m.stream
}

// Bytes returns buf as given to Reset with the payload appended.
func (e *Encoder) Bytes() []byte {
	binary.BigEndian.PutUint32(e.buf[e.start+1:], e.count)
	return e.buf
}

// Append encodes one event. On error (fields nested deeper than MaxDepth,
// more than 2^32-1 events) the payload is unchanged.
func (e *Encoder) Append(ev *event.Event) error {
	if e.count == math.MaxUint32 {
		return fmt.Errorf("encoding event: more than %d events in one batch", uint32(math.MaxUint32))
	}
	m := e.Mark()
	b := binary.AppendVarint(e.buf, ev.Timestamp.Unix())
	b = binary.AppendUvarint(b, uint64(ev.Timestamp.Nanosecond()))
	_, off := ev.Timestamp.Zone()
	if off > maxZoneOffset || off < -maxZoneOffset {
		off = 0 // not representable; the instant is kept, in UTC
	}
	b = binary.AppendVarint(b, int64(off))
	b = appendRef(b, ev.Host, &e.host)
	b = appendRef(b, ev.Stream, &e.stream)
	b = appendNBytes(b, ev.Message)
	b, err := appendFields(b, ev.Fields, 0)
	if err != nil {
		e.Undo(m)
		return fmt.Errorf("encoding event: %w", err)
	}
	e.buf = b
	e.count++
	return nil
}

func appendRef(b []byte, s string, last *string) []byte {
	if s == *last {
		return append(b, 0)
	}
	*last = s
	b = binary.AppendUvarint(b, uint64(len(s))+1)
	return append(b, s...)
}

func appendNBytes(b, p []byte) []byte {
	if p == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(p))+1)
	return append(b, p...)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendFields(b []byte, f event.Fields, depth int) ([]byte, error) {
	if f == nil {
		return append(b, 0), nil
	}
	if depth > MaxDepth {
		return b, fmt.Errorf("fields nested deeper than %d levels", MaxDepth)
	}
	b = binary.AppendUvarint(b, uint64(len(f))+1)
	var err error
	for i := range f {
		b = appendString(b, f[i].Key)
		if b, err = appendValue(b, f[i].Value, depth+1); err != nil {
			return b, err
		}
	}
	return b, nil
}

// Wire kinds of values. They are fixed by the protocol.
const (
	kindNull byte = iota
	kindString
	kindInt
	kindFloat
	kindBool
	kindTime
	kindObject
	kindArray
)

func appendValue(b []byte, v event.Value, depth int) ([]byte, error) {
	switch v.Kind() {
	case event.KindString:
		return appendString(append(b, kindString), v.Str()), nil
	case event.KindInt:
		i, _ := v.Int()
		return binary.AppendVarint(append(b, kindInt), i), nil
	case event.KindFloat:
		f, _ := v.Float()
		return binary.BigEndian.AppendUint64(append(b, kindFloat), math.Float64bits(f)), nil
	case event.KindBool:
		if v.Bool() {
			return append(b, kindBool, 1), nil
		}
		return append(b, kindBool, 0), nil
	case event.KindTime:
		return binary.AppendVarint(append(b, kindTime), v.Time().UnixNano()), nil
	case event.KindObject:
		return appendFields(append(b, kindObject), v.Fields(), depth)
	case event.KindArray:
		return appendArray(append(b, kindArray), v.Array(), depth)
	}
	return append(b, kindNull), nil
}

func appendArray(b []byte, a []event.Value, depth int) ([]byte, error) {
	if a == nil {
		return append(b, 0), nil
	}
	if depth > MaxDepth {
		return b, fmt.Errorf("array nested deeper than %d levels", MaxDepth)
	}
	b = binary.AppendUvarint(b, uint64(len(a))+1)
	var err error
	for _, v := range a {
		if b, err = appendValue(b, v, depth+1); err != nil {
			return b, err
		}
	}
	return b, nil
}

// timeZone converts a zone offset to a location, reusing the last one.
type timeZone struct {
	off int
	loc *time.Location
}

func (z *timeZone) get(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}
	if z.loc == nil || z.off != off {
		z.off, z.loc = off, time.FixedZone("", off)
	}
	return z.loc
}

// time builds a timestamp; seconds far outside the representable range
// are clamped so that the result stays well defined.
func (z *timeZone) time(sec int64, nsec uint64, off int) time.Time {
	const limit = 1 << 62
	sec = max(min(sec, limit), -limit)
	return time.Unix(sec, int64(nsec)).In(z.get(off))
}

func unixNano(ns int64) time.Time { return time.Unix(0, ns) }
