package json

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/parser"
)

// str parses a string starting at '"'. Without escapes it is a view of the
// input; with escapes it is decoded into a fresh buffer.
func (d *decoder) str() (string, error) {
	d.pos++ // opening quote
	start := d.pos
	for d.pos < len(d.data) {
		switch c := d.data[d.pos]; {
		case c == '"':
			s := parser.View(d.data[start:d.pos])
			d.pos++
			return s, nil
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			return "", d.errorf("invalid control character %q in string", c)
		}
		d.pos++
	}
	return "", d.unexpected()
}

// escaped continues a string from its first backslash, decoding escapes.
func (d *decoder) escaped(start int) (string, error) {
	buf := make([]byte, 0, d.pos-start+16)
	buf = append(buf, d.data[start:d.pos]...)
	for d.pos < len(d.data) {
		c := d.data[d.pos]
		switch {
		case c == '"':
			d.pos++
			return parser.View(buf), nil
		case c < 0x20:
			return "", d.errorf("invalid control character %q in string", c)
		case c != '\\':
			buf = append(buf, c)
			d.pos++
			continue
		}
		var err error
		if buf, err = d.escape(buf); err != nil {
			return "", err
		}
	}
	return "", d.unexpected()
}

// escape decodes one escape sequence at d.pos (a backslash) onto buf.
func (d *decoder) escape(buf []byte) ([]byte, error) {
	d.pos++
	if d.pos >= len(d.data) {
		return buf, d.unexpected()
	}
	c := d.data[d.pos]
	d.pos++
	switch c {
	case '"', '\\', '/':
		return append(buf, c), nil
	case 'b':
		return append(buf, '\b'), nil
	case 'f':
		return append(buf, '\f'), nil
	case 'n':
		return append(buf, '\n'), nil
	case 'r':
		return append(buf, '\r'), nil
	case 't':
		return append(buf, '\t'), nil
	case 'u':
		return d.unicode(buf)
	}
	d.pos--
	return buf, d.errorf("invalid escape character %q", c)
}

// unicode decodes \uXXXX (d.pos is past the 'u'), pairing surrogates.
// A lone surrogate becomes U+FFFD, as encoding/json does.
func (d *decoder) unicode(buf []byte) ([]byte, error) {
	r, ok := d.hex4()
	if !ok {
		return buf, d.errorf("invalid \\u escape")
	}
	if utf16.IsSurrogate(r) {
		if r2, ok := d.lowSurrogate(); ok {
			if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
				return utf8.AppendRune(buf, dec), nil
			}
			d.pos -= 6
		}
		r = utf8.RuneError
	}
	return utf8.AppendRune(buf, r), nil
}

// lowSurrogate consumes a following \uXXXX when there is a valid one.
func (d *decoder) lowSurrogate() (rune, bool) {
	if d.pos+6 > len(d.data) || d.data[d.pos] != '\\' || d.data[d.pos+1] != 'u' {
		return 0, false
	}
	save := d.pos
	d.pos += 2
	r, ok := d.hex4()
	if !ok {
		d.pos = save
		return 0, false
	}
	return r, true
}

func (d *decoder) hex4() (rune, bool) {
	r, ok := parser.Hex4(d.data[d.pos:])
	if !ok {
		if d.pos+4 > len(d.data) {
			d.pos = len(d.data)
		}
		return 0, false
	}
	d.pos += 4
	return r, true
}

// number parses a JSON number. Integer syntax that fits in int64 gives an
// Int; anything else a Float. A number too large for float64 is kept as its
// literal text, so nothing is lost.
func (d *decoder) number() (event.Value, error) {
	start := d.pos
	integral, err := d.numberSyntax()
	if err != nil {
		return event.Value{}, err
	}
	lit := d.data[start:d.pos]
	if integral {
		if i, ok := parseInt(lit); ok {
			return event.Int(i), nil
		}
	}
	f, err := strconv.ParseFloat(parser.View(lit), 64)
	if err != nil {
		return event.String(parser.View(lit)), nil
	}
	return event.Float(f), nil
}

// numberSyntax advances over -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
// and reports whether it had neither fraction nor exponent.
func (d *decoder) numberSyntax() (bool, error) {
	if d.data[d.pos] == '-' {
		d.pos++
	}
	switch {
	case d.pos < len(d.data) && d.data[d.pos] == '0':
		d.pos++
	case d.pos < len(d.data) && d.data[d.pos] >= '1' && d.data[d.pos] <= '9':
		d.digits()
	default:
		return false, d.unexpected()
	}
	integral := true
	if d.pos < len(d.data) && d.data[d.pos] == '.' {
		integral = false
		d.pos++
		if d.digits() == 0 {
			return false, d.unexpected()
		}
	}
	if d.pos < len(d.data) && (d.data[d.pos] == 'e' || d.data[d.pos] == 'E') {
		integral = false
		d.pos++
		if d.pos < len(d.data) && (d.data[d.pos] == '+' || d.data[d.pos] == '-') {
			d.pos++
		}
		if d.digits() == 0 {
			return false, d.unexpected()
		}
	}
	return integral, nil
}

func (d *decoder) digits() int {
	start := d.pos
	for d.pos < len(d.data) && d.data[d.pos] >= '0' && d.data[d.pos] <= '9' {
		d.pos++
	}
	return d.pos - start
}

// parseInt converts an already validated integer literal, reporting false
// on overflow.
func parseInt(lit []byte) (int64, bool) {
	b := lit
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) > 18 {
		i, err := strconv.ParseInt(parser.View(lit), 10, 64)
		return i, err == nil
	}
	var n int64
	for _, c := range b {
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}
