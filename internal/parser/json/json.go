// Package json parses one JSON object per line into event fields.
//
// It is a hand-written, single-pass scanner: strings without escapes are
// returned as zero-copy views of the input, numbers become event.Int when
// written as integers that fit in 64 bits and event.Float otherwise, nested
// objects and arrays become event.Object and event.Array. It accepts exactly
// what encoding/json.Valid accepts (including its nesting limit), except that
// the top level must be an object. Invalid UTF-8 inside strings is kept
// byte-exact rather than replaced.
package json

import (
	"errors"
	"fmt"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/parser"
)

// MaxDepth is the deepest nesting accepted, the same as encoding/json's.
const MaxDepth = 10000

// ErrNotObject is returned for valid JSON whose top level is not an object.
var ErrNotObject = errors.New("top-level value is not an object")

// SyntaxError reports malformed JSON and where it was found.
type SyntaxError struct {
	Msg    string
	Offset int
}

// Error formats the message with its offset.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s at offset %d", e.Msg, e.Offset)
}

// Parse appends the members of the JSON object in line to dst, with
// duplicate keys resolved last-wins, and returns the extended slice. On
// error the returned slice is dst unchanged. The returned strings may alias
// line, which must not be modified afterwards.
func Parse(dst event.Fields, line []byte) (event.Fields, error) {
	d := decoder{data: line}
	d.skipSpace()
	if d.pos >= len(d.data) {
		return dst, d.errorf("unexpected end of input")
	}
	if d.data[d.pos] != '{' {
		if _, err := d.value(0); err != nil {
			return dst, err
		}
		if err := d.end(); err != nil {
			return dst, err
		}
		return dst, ErrNotObject
	}
	start := len(dst)
	out, err := d.object(dst, 1)
	if err == nil {
		err = d.end()
	}
	if err != nil {
		clear(out[start:])
		return dst[:start], err
	}
	return parser.Unique(out, start), nil
}

type decoder struct {
	data []byte
	pos  int
}

func (d *decoder) errorf(format string, args ...any) error {
	return &SyntaxError{Msg: fmt.Sprintf(format, args...), Offset: d.pos}
}

func (d *decoder) unexpected() error {
	if d.pos >= len(d.data) {
		return d.errorf("unexpected end of input")
	}
	return d.errorf("invalid character %q", d.data[d.pos])
}

func (d *decoder) skipSpace() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// end checks that only whitespace follows the top-level value.
func (d *decoder) end() error {
	d.skipSpace()
	if d.pos < len(d.data) {
		return d.errorf("invalid character %q after top-level value", d.data[d.pos])
	}
	return nil
}

// object parses an object starting at '{' and appends its members to dst.
func (d *decoder) object(dst event.Fields, depth int) (event.Fields, error) {
	if depth > MaxDepth {
		return dst, d.errorf("exceeded max depth")
	}
	d.pos++ // '{'
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == '}' {
		d.pos++
		return dst, nil
	}
	for {
		if d.pos >= len(d.data) || d.data[d.pos] != '"' {
			return dst, d.unexpected()
		}
		key, err := d.str()
		if err != nil {
			return dst, err
		}
		d.skipSpace()
		if d.pos >= len(d.data) || d.data[d.pos] != ':' {
			return dst, d.unexpected()
		}
		d.pos++
		d.skipSpace()
		v, err := d.value(depth)
		if err != nil {
			return dst, err
		}
		dst = append(dst, event.Field{Key: key, Value: v})
		d.skipSpace()
		if d.pos >= len(d.data) {
			return dst, d.unexpected()
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case '}':
			d.pos++
			return dst, nil
		default:
			return dst, d.unexpected()
		}
	}
}

// array parses an array starting at '['.
func (d *decoder) array(depth int) (event.Value, error) {
	if depth > MaxDepth {
		return event.Value{}, d.errorf("exceeded max depth")
	}
	d.pos++ // '['
	d.skipSpace()
	if d.pos < len(d.data) && d.data[d.pos] == ']' {
		d.pos++
		return event.Array([]event.Value{}), nil
	}
	vs := make([]event.Value, 0, 4)
	for {
		v, err := d.value(depth)
		if err != nil {
			return event.Value{}, err
		}
		vs = append(vs, v)
		d.skipSpace()
		if d.pos >= len(d.data) {
			return event.Value{}, d.unexpected()
		}
		switch d.data[d.pos] {
		case ',':
			d.pos++
			d.skipSpace()
		case ']':
			d.pos++
			return event.Array(vs), nil
		default:
			return event.Value{}, d.unexpected()
		}
	}
}

// value parses any JSON value at d.pos; depth is that of its container.
func (d *decoder) value(depth int) (event.Value, error) {
	if d.pos >= len(d.data) {
		return event.Value{}, d.unexpected()
	}
	switch c := d.data[d.pos]; {
	case c == '"':
		s, err := d.str()
		return event.String(s), err
	case c == '{':
		f, err := d.object(make(event.Fields, 0, 4), depth+1)
		if err != nil {
			return event.Value{}, err
		}
		return event.Object(parser.Unique(f, 0)), nil
	case c == '[':
		return d.array(depth + 1)
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	case c == 't':
		return event.Bool(true), d.literal("true")
	case c == 'f':
		return event.Bool(false), d.literal("false")
	case c == 'n':
		return event.Null(), d.literal("null")
	}
	return event.Value{}, d.unexpected()
}

func (d *decoder) literal(word string) error {
	for i := 0; i < len(word); i++ {
		if d.pos >= len(d.data) || d.data[d.pos] != word[i] {
			return d.unexpected()
		}
		d.pos++
	}
	return nil
}
