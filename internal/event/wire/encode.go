package wire

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/sluice-log/sluice/internal/event"
)

// Encoder appends events to a batch payload, one at a time, so that a
// caller can stop when the payload reaches a size (Mark, Undo). Host and
// stream equal to the previous event's are written as one byte. The zero
// Encoder is ready for Reset; the payload is complete only after Bytes,
// which writes the event count.
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
	e.buf = append(buf, Version, 0, 0, 0, 0)
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
	if off > MaxZoneOffset || off < -MaxZoneOffset {
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

// AppendBatch appends the payload holding evs to buf. When an event cannot
// be encoded it returns buf as given and the error.
func AppendBatch(buf []byte, evs []event.Event) ([]byte, error) {
	var e Encoder
	e.Reset(buf)
	for i := range evs {
		if err := e.Append(&evs[i]); err != nil {
			return buf, fmt.Errorf("event %d: %w", i, err)
		}
	}
	return e.Bytes(), nil
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
