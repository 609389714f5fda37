package disk

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/sluice-log/sluice/internal/event"
)

// codecVersion is the first byte of every record payload, so that a later
// format can be told apart from this one.
const codecVersion = 1

// maxDepth bounds the nesting of objects and arrays in fields, so that
// encoding and decoding recurse a bounded number of times.
const maxDepth = 1000

// errCorrupt marks a record or payload that cannot be decoded.
var errCorrupt = errors.New("corrupt record")

// The payload of a record is one batch:
//
//	version byte | uvarint event count | events
//	event: varint unix seconds | uvarint nanoseconds | varint zone offset seconds
//	       | string host | string stream | bytes message | fields
//	string: uvarint length | bytes
//	bytes, fields, array: uvarint (count+1), 0 meaning nil
//	field: string key | value
//	value: kind byte | null: - | string: string | int: varint | float: 8 bytes LE
//	       | bool: 0 or 1 | time: varint unix nanoseconds | object: fields | array: values
//
// The zone is kept as a fixed offset; a zone's name is not kept.

// appendBatch appends the encoding of evs to buf.
func appendBatch(buf []byte, evs []event.Event) ([]byte, error) {
	buf = append(buf, codecVersion)
	buf = binary.AppendUvarint(buf, uint64(len(evs)))
	var err error
	for i := range evs {
		if buf, err = appendEvent(buf, &evs[i]); err != nil {
			return buf, err
		}
	}
	return buf, nil
}

func appendEvent(buf []byte, e *event.Event) ([]byte, error) {
	buf = binary.AppendVarint(buf, e.Timestamp.Unix())
	buf = binary.AppendUvarint(buf, uint64(e.Timestamp.Nanosecond()))
	_, off := e.Timestamp.Zone()
	buf = binary.AppendVarint(buf, int64(off))
	buf = appendString(buf, e.Host)
	buf = appendString(buf, e.Stream)
	if e.Message == nil {
		buf = append(buf, 0)
	} else {
		buf = binary.AppendUvarint(buf, uint64(len(e.Message))+1)
		buf = append(buf, e.Message...)
	}
	return appendFields(buf, e.Fields, 0)
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

func appendFields(buf []byte, f event.Fields, depth int) ([]byte, error) {
	if f == nil {
		return append(buf, 0), nil
	}
	if depth > maxDepth {
		return buf, fmt.Errorf("encoding fields: nested deeper than %d levels", maxDepth)
	}
	buf = binary.AppendUvarint(buf, uint64(len(f))+1)
	var err error
	for i := range f {
		buf = appendString(buf, f[i].Key)
		if buf, err = appendValue(buf, f[i].Value, depth+1); err != nil {
			return buf, err
		}
	}
	return buf, nil
}

func appendValue(buf []byte, v event.Value, depth int) ([]byte, error) {
	buf = append(buf, byte(v.Kind()))
	switch v.Kind() {
	case event.KindString:
		buf = appendString(buf, v.Str())
	case event.KindInt:
		i, _ := v.Int()
		buf = binary.AppendVarint(buf, i)
	case event.KindFloat:
		f, _ := v.Float()
		buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(f))
	case event.KindBool:
		buf = append(buf, boolByte(v.Bool()))
	case event.KindTime:
		buf = binary.AppendVarint(buf, v.Time().UnixNano())
	case event.KindObject:
		return appendFields(buf, v.Fields(), depth)
	case event.KindArray:
		return appendArray(buf, v.Array(), depth)
	}
	return buf, nil
}

func appendArray(buf []byte, a []event.Value, depth int) ([]byte, error) {
	if a == nil {
		return append(buf, 0), nil
	}
	if depth > maxDepth {
		return buf, fmt.Errorf("encoding array: nested deeper than %d levels", maxDepth)
	}
	buf = binary.AppendUvarint(buf, uint64(len(a))+1)
	var err error
	for _, e := range a {
		if buf, err = appendValue(buf, e, depth+1); err != nil {
			return buf, err
		}
	}
	return buf, nil
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// decoder reads one payload. Messages are slices of the payload, which the
// decoded batch then owns; host, stream and field keys repeated from one
// event to the next share one string.
type decoder struct {
	buf  []byte
	pos  int
	host string
	strm string
	keys []string
	zone *time.Location
	off  int // offset of zone
}

// minEventSize is the fewest bytes one encoded event takes, used to reject
// absurd counts before allocating.
const minEventSize = 7

// decodeBatch decodes a payload written by appendBatch. The returned events
// keep references into payload. Any malformed input gives an error wrapping
// errCorrupt; no input makes it panic or allocate much more than its length.
func decodeBatch(payload []byte) ([]event.Event, error) {
	d := decoder{buf: payload}
	if len(payload) == 0 || payload[0] != codecVersion {
		return nil, fmt.Errorf("%w: unknown payload version", errCorrupt)
	}
	d.pos = 1
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if n > uint64((len(d.buf)-d.pos)/minEventSize) {
		return nil, fmt.Errorf("%w: event count %d exceeds payload", errCorrupt, n)
	}
	evs := make([]event.Event, n)
	for i := range evs {
		if err := d.event(&evs[i]); err != nil {
			return nil, fmt.Errorf("decoding event %d: %w", i, err)
		}
	}
	if d.pos != len(d.buf) {
		return nil, fmt.Errorf("%w: %d trailing bytes", errCorrupt, len(d.buf)-d.pos)
	}
	return evs, nil
}

func (d *decoder) event(e *event.Event) error {
	sec, err := d.varint()
	if err != nil {
		return err
	}
	nsec, err := d.uvarint()
	if err != nil || nsec >= 1e9 {
		return fmt.Errorf("%w: bad timestamp", errCorrupt)
	}
	off, err := d.varint()
	if err != nil || off < -86400*2 || off > 86400*2 {
		return fmt.Errorf("%w: bad zone offset", errCorrupt)
	}
	e.Timestamp = time.Unix(sec, int64(nsec)).In(d.location(int(off)))
	if e.Host, err = d.interned(&d.host); err != nil {
		return err
	}
	if e.Stream, err = d.interned(&d.strm); err != nil {
		return err
	}
	if e.Message, err = d.message(); err != nil {
		return err
	}
	e.Fields, err = d.fields(0)
	return err
}

// location returns UTC for offset 0 and a fixed zone otherwise, reusing the
// previous event's zone when the offset is the same.
func (d *decoder) location(off int) *time.Location {
	if off == 0 {
		return time.UTC
	}
	if d.zone == nil || d.off != off {
		d.zone, d.off = time.FixedZone("", off), off
	}
	return d.zone
}

func (d *decoder) message() ([]byte, error) {
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, nil
	}
	b, err := d.bytes(n - 1)
	return b[:len(b):len(b)], err
}

func (d *decoder) fields(depth int) (event.Fields, error) {
	n, err := d.count(2)
	if err != nil || n < 0 {
		return nil, err
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d levels", errCorrupt, maxDepth)
	}
	f := make(event.Fields, n)
	for i := range f {
		if f[i].Key, err = d.key(); err != nil {
			return nil, err
		}
		if f[i].Value, err = d.value(depth + 1); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (d *decoder) array(depth int) ([]event.Value, error) {
	n, err := d.count(1)
	if err != nil || n < 0 {
		return nil, err
	}
	if depth > maxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d levels", errCorrupt, maxDepth)
	}
	a := make([]event.Value, n)
	for i := range a {
		if a[i], err = d.value(depth + 1); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (d *decoder) value(depth int) (event.Value, error) {
	if d.pos >= len(d.buf) {
		return event.Value{}, fmt.Errorf("%w: truncated value", errCorrupt)
	}
	kind := event.Kind(d.buf[d.pos])
	d.pos++
	switch kind {
	case event.KindNull:
		return event.Null(), nil
	case event.KindString:
		s, err := d.string()
		return event.String(s), err
	case event.KindInt:
		i, err := d.varint()
		return event.Int(i), err
	case event.KindFloat:
		b, err := d.bytes(8)
		if err != nil {
			return event.Value{}, err
		}
		return event.Float(math.Float64frombits(binary.LittleEndian.Uint64(b))), nil
	case event.KindBool:
		b, err := d.bytes(1)
		if err != nil || b[0] > 1 {
			return event.Value{}, fmt.Errorf("%w: bad bool", errCorrupt)
		}
		return event.Bool(b[0] == 1), nil
	case event.KindTime:
		ns, err := d.varint()
		return event.Time(time.Unix(0, ns)), err
	case event.KindObject:
		f, err := d.fields(depth)
		return event.Object(f), err
	case event.KindArray:
		a, err := d.array(depth)
		return event.Array(a), err
	}
	return event.Value{}, fmt.Errorf("%w: unknown value kind %d", errCorrupt, kind)
}

// count reads a count+1 encoding; -1 means nil. Each element takes at least
// minSize bytes, so a count the rest of the payload cannot hold is corrupt.
func (d *decoder) count(minSize int) (int, error) {
	n, err := d.uvarint()
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return -1, nil
	}
	if n-1 > uint64((len(d.buf)-d.pos)/minSize) {
		return 0, fmt.Errorf("%w: count %d exceeds payload", errCorrupt, n-1)
	}
	return int(n - 1), nil
}

func (d *decoder) key() (string, error) {
	b, err := d.lenBytes()
	if err != nil {
		return "", err
	}
	for _, k := range d.keys {
		if k == string(b) {
			return k, nil
		}
	}
	k := string(b)
	if len(d.keys) < 64 {
		d.keys = append(d.keys, k)
	}
	return k, nil
}

func (d *decoder) interned(last *string) (string, error) {
	b, err := d.lenBytes()
	if err != nil {
		return "", err
	}
	if string(b) != *last {
		*last = string(b)
	}
	return *last, nil
}

func (d *decoder) string() (string, error) {
	b, err := d.lenBytes()
	return string(b), err
}

func (d *decoder) lenBytes() ([]byte, error) {
	n, err := d.uvarint()
	if err != nil {
		return nil, err
	}
	return d.bytes(n)
}

func (d *decoder) bytes(n uint64) ([]byte, error) {
	if n > uint64(len(d.buf)-d.pos) {
		return nil, fmt.Errorf("%w: length %d exceeds payload", errCorrupt, n)
	}
	b := d.buf[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return b, nil
}

func (d *decoder) uvarint() (uint64, error) {
	v, n := binary.Uvarint(d.buf[d.pos:])
	if n <= 0 {
		return 0, fmt.Errorf("%w: bad varint", errCorrupt)
	}
	d.pos += n
	return v, nil
}

func (d *decoder) varint() (int64, error) {
	v, n := binary.Varint(d.buf[d.pos:])
	if n <= 0 {
		return 0, fmt.Errorf("%w: bad varint", errCorrupt)
	}
	d.pos += n
	return v, nil
}
