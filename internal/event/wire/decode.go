package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/sluice-log/sluice/internal/event"
)

// maxKeys bounds the table of interned field keys of one decoder.
const maxKeys = 64

// decoder reads one payload. Messages are slices of the payload; host,
// stream and field keys repeated across events share one string.
type decoder struct {
	buf    []byte
	pos    int
	host   string
	stream string
	keys   []string
	zone   timeZone
}

// Decode decodes a batch payload. The events' messages alias payload,
// which the caller must not modify afterwards (their capacity is cut, so
// appending to one copies it). Malformed input gives an error wrapping
// ErrCorrupt; no input makes Decode panic, and what it allocates is
// bounded by a small multiple of len(payload).
func Decode(payload []byte) ([]event.Event, error) {
	if len(payload) < headerSize || payload[0] != Version {
		return nil, fmt.Errorf("%w: unknown payload version", ErrCorrupt)
	}
	n := uint64(binary.BigEndian.Uint32(payload[1:headerSize]))
	if n > uint64(len(payload)-headerSize)/minEvent {
		return nil, fmt.Errorf("%w: event count %d exceeds payload", ErrCorrupt, n)
	}
	d := decoder{buf: payload, pos: headerSize}
	evs := make([]event.Event, n)
	for i := range evs {
		if err := d.event(&evs[i]); err != nil {
			return nil, fmt.Errorf("decoding event %d: %w", i, err)
		}
	}
	if d.pos != len(d.buf) {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(d.buf)-d.pos)
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
		return fmt.Errorf("%w: bad timestamp", ErrCorrupt)
	}
	off, err := d.varint()
	if err != nil || off < -MaxZoneOffset || off > MaxZoneOffset {
		return fmt.Errorf("%w: bad zone offset", ErrCorrupt)
	}
	e.Timestamp = d.zone.time(sec, nsec, int(off))
	if e.Host, err = d.ref(&d.host); err != nil {
		return err
	}
	if e.Stream, err = d.ref(&d.stream); err != nil {
		return err
	}
	if e.Message, err = d.nbytes(); err != nil {
		return err
	}
	e.Fields, err = d.fields(0)
	return err
}

func (d *decoder) ref(last *string) (string, error) {
	n, err := d.uvarint()
	if err != nil || n == 0 {
		return *last, err
	}
	b, err := d.bytes(n - 1)
	if err != nil {
		return "", err
	}
	if string(b) != *last {
		*last = string(b)
	}
	return *last, nil
}

func (d *decoder) nbytes() ([]byte, error) {
	n, err := d.uvarint()
	if err != nil || n == 0 {
		return nil, err
	}
	b, err := d.bytes(n - 1)
	return b[:len(b):len(b)], err
}

func (d *decoder) fields(depth int) (event.Fields, error) {
	n, err := d.count(minField)
	if err != nil || n < 0 {
		return nil, err
	}
	if depth > MaxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d levels", ErrCorrupt, MaxDepth)
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
	n, err := d.count(minValue)
	if err != nil || n < 0 {
		return nil, err
	}
	if depth > MaxDepth {
		return nil, fmt.Errorf("%w: nested deeper than %d levels", ErrCorrupt, MaxDepth)
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
		return event.Value{}, fmt.Errorf("%w: truncated value", ErrCorrupt)
	}
	kind := d.buf[d.pos]
	d.pos++
	switch kind {
	case kindNull:
		return event.Null(), nil
	case kindString:
		b, err := d.lenBytes()
		return event.String(string(b)), err
	case kindInt:
		i, err := d.varint()
		return event.Int(i), err
	case kindFloat:
		b, err := d.bytes(8)
		if err != nil {
			return event.Value{}, err
		}
		return event.Float(math.Float64frombits(binary.BigEndian.Uint64(b))), nil
	case kindBool:
		b, err := d.bytes(1)
		if err != nil || b[0] > 1 {
			return event.Value{}, fmt.Errorf("%w: bad bool", ErrCorrupt)
		}
		return event.Bool(b[0] == 1), nil
	case kindTime:
		ns, err := d.varint()
		return event.Time(time.Unix(0, ns)), err
	case kindObject:
		f, err := d.fields(depth)
		return event.Object(f), err
	case kindArray:
		a, err := d.array(depth)
		return event.Array(a), err
	}
	return event.Value{}, fmt.Errorf("%w: unknown value kind %d", ErrCorrupt, kind)
}

// count reads an n+1 count; -1 means nil. Each element takes at least
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
		return 0, fmt.Errorf("%w: count %d exceeds payload", ErrCorrupt, n-1)
	}
	return int(n - 1), nil
}

// key reads a field key, sharing one string among equal keys of the
// payload (up to maxKeys distinct ones).
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
	if len(d.keys) < maxKeys {
		d.keys = append(d.keys, k)
	}
	return k, nil
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
		return nil, fmt.Errorf("%w: length %d exceeds payload", ErrCorrupt, n)
	}
	b := d.buf[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return b, nil
}

func (d *decoder) uvarint() (uint64, error) {
	v, n := binary.Uvarint(d.buf[d.pos:])
	if n <= 0 {
		return 0, fmt.Errorf("%w: bad varint", ErrCorrupt)
	}
	d.pos += n
	return v, nil
}

func (d *decoder) varint() (int64, error) {
	v, n := binary.Varint(d.buf[d.pos:])
	if n <= 0 {
		return 0, fmt.Errorf("%w: bad varint", ErrCorrupt)
	}
	d.pos += n
	return v, nil
}
