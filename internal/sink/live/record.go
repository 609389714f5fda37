package live

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/sluice-log/sluice/internal/codec"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/parser/json"
)

// A record is one event as the ring keeps it:
//
//	uvarint len(host) host  uvarint len(stream) stream  uvarint len(message) message  fields
//
// where fields is the event's fields already encoded as JSON members
// (`,"k":v,...`, as the json encoding writes them after the message). The
// message stays raw so that grep matches what was logged, not its JSON
// escaping; rendering a record as the json encoding's object is then a few
// appends (appendEventJSON). The timestamp lives in the ring's slot.

// appendFields encodes e's fields as JSON members, skipping reserved names
// as the json encoding does.
func appendFields(buf []byte, e *event.Event) []byte {
	for i := range e.Fields {
		f := &e.Fields[i]
		if codec.Reserved(f.Key) {
			continue
		}
		buf = append(buf, ',')
		buf = event.AppendJSONString(buf, f.Key)
		buf = append(buf, ':')
		buf = f.Value.AppendJSON(buf)
	}
	return buf
}

// recordSize is the encoded size of a record.
func recordSize(host, stream string, msg, fields []byte) int {
	return uvarintLen(len(host)) + len(host) + uvarintLen(len(stream)) + len(stream) +
		uvarintLen(len(msg)) + len(msg) + len(fields)
}

func uvarintLen(n int) int {
	l := 1
	for n >= 0x80 {
		n >>= 7
		l++
	}
	return l
}

// putRecord writes a record into dst, which has exactly recordSize bytes.
func putRecord(dst []byte, host, stream string, msg, fields []byte) {
	i := binary.PutUvarint(dst, uint64(len(host)))
	i += copy(dst[i:], host)
	i += binary.PutUvarint(dst[i:], uint64(len(stream)))
	i += copy(dst[i:], stream)
	i += binary.PutUvarint(dst[i:], uint64(len(msg)))
	i += copy(dst[i:], msg)
	copy(dst[i:], fields)
}

// record is a decoded view of a record's bytes.
type record struct {
	host, stream, msg, fields []byte
}

var errCorrupt = errors.New("corrupt live record")

func parseRecord(b []byte) (record, error) {
	var r record
	var err error
	if r.host, b, err = lenPrefixed(b); err != nil {
		return r, err
	}
	if r.stream, b, err = lenPrefixed(b); err != nil {
		return r, err
	}
	if r.msg, b, err = lenPrefixed(b); err != nil {
		return r, err
	}
	r.fields = b
	return r, nil
}

func lenPrefixed(b []byte) (field, rest []byte, _ error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, errCorrupt
	}
	return b[k : k+int(n)], b[k+int(n):], nil
}

// appendEventJSON renders a record as the json encoding does.
func appendEventJSON(buf []byte, r *record, ts int64) []byte {
	buf = append(buf, `{"timestamp":"`...)
	buf = codec.AppendTime(buf, time.Unix(0, ts).UTC())
	return appendEventRest(buf, r)
}

// appendEventRest renders a record after its timestamp's digits.
func appendEventRest(buf []byte, r *record) []byte {
	buf = append(buf, `","host":`...)
	buf = event.AppendJSONString(buf, r.host)
	buf = append(buf, `,"stream":`...)
	buf = event.AppendJSONString(buf, r.stream)
	buf = append(buf, `,"message":`...)
	buf = event.AppendJSONString(buf, r.msg)
	buf = append(buf, r.fields...)
	return append(buf, '}')
}

// toEvent rebuilds an event from a record, for expression filters: the
// fields are decoded from their JSON, so numbers and strings keep their
// types and nested objects their shape. Message aliases r.
func (r *record) toEvent(ts int64, scratch []byte) (event.Event, []byte, error) {
	e := event.Event{Timestamp: time.Unix(0, ts).UTC(), Host: string(r.host), Stream: string(r.stream), Message: r.msg}
	if len(r.fields) == 0 {
		return e, scratch, nil
	}
	scratch = append(append(append(scratch[:0], '{'), r.fields[1:]...), '}')
	f, err := json.Parse(nil, scratch)
	e.Fields = f
	return e, scratch, err
}
