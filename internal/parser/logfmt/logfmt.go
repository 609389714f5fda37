// Package logfmt parses logfmt lines (`key=value key2="quoted \" value"
// flag`) into event fields.
//
// Pairs are separated by whitespace (any byte up to and including ' ').
// A key is a run of bytes other than whitespace, '=' and '"'. A value is
// either unquoted, running to the next whitespace (so `url=/a?b=c` keeps
// its '='), or double-quoted with JSON-style escapes. A key without '=' is
// the boolean true; `key=` is the empty string. All values are strings.
// Unquoted values and quoted values without escapes are zero-copy views of
// the input; invalid UTF-8 is kept byte-exact.
package logfmt

import (
	"fmt"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/parser"
)

// SyntaxError reports a malformed line and where it was found.
type SyntaxError struct {
	Msg    string
	Offset int
}

// Error formats the message with its offset.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s at offset %d", e.Msg, e.Offset)
}

// Parse appends the pairs of line to dst, with duplicate keys resolved
// last-wins, and returns the extended slice. On error it returns dst
// unchanged. An empty or blank line gives no fields and no error.
func Parse(dst event.Fields, line []byte) (event.Fields, error) {
	start := len(dst)
	s := scanner{data: line}
	for {
		s.skipSpace()
		if s.pos >= len(s.data) {
			return parser.Unique(dst, start), nil
		}
		f, err := s.pair()
		if err != nil {
			clear(dst[start:])
			return dst[:start], err
		}
		dst = append(dst, f)
	}
}

type scanner struct {
	data []byte
	pos  int
}

func (s *scanner) errorf(format string, args ...any) error {
	return &SyntaxError{Msg: fmt.Sprintf(format, args...), Offset: s.pos}
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) && s.data[s.pos] <= ' ' {
		s.pos++
	}
}

// pair scans one key with its optional value.
func (s *scanner) pair() (event.Field, error) {
	start := s.pos
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		if c <= ' ' || c == '=' {
			break
		}
		if c == '"' {
			return event.Field{}, s.errorf("unexpected '\"' in key")
		}
		s.pos++
	}
	if s.pos == start {
		return event.Field{}, s.errorf("missing key before '='")
	}
	key := parser.View(s.data[start:s.pos])
	if s.pos >= len(s.data) || s.data[s.pos] != '=' {
		return event.Field{Key: key, Value: event.Bool(true)}, nil
	}
	s.pos++ // '='
	if s.pos < len(s.data) && s.data[s.pos] == '"' {
		v, err := s.quoted()
		return event.Field{Key: key, Value: event.String(v)}, err
	}
	vstart := s.pos
	for s.pos < len(s.data) && s.data[s.pos] > ' ' {
		s.pos++
	}
	return event.Field{Key: key, Value: event.String(parser.View(s.data[vstart:s.pos]))}, nil
}

// quoted scans a quoted value starting at '"'; it must be followed by
// whitespace or the end of the line.
func (s *scanner) quoted() (string, error) {
	s.pos++
	start := s.pos
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case '"':
			v := parser.View(s.data[start:s.pos])
			s.pos++
			return v, s.afterQuote()
		case '\\':
			return s.escaped(start)
		}
		s.pos++
	}
	return "", s.errorf("unterminated quoted value")
}

func (s *scanner) afterQuote() error {
	if s.pos < len(s.data) && s.data[s.pos] > ' ' {
		return s.errorf("unexpected %q after quoted value", s.data[s.pos])
	}
	return nil
}

// escaped continues a quoted value from its first backslash.
func (s *scanner) escaped(start int) (string, error) {
	buf := make([]byte, 0, s.pos-start+16)
	buf = append(buf, s.data[start:s.pos]...)
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch c {
		case '"':
			s.pos++
			return parser.View(buf), s.afterQuote()
		case '\\':
			buf = s.escape(buf)
		default:
			buf = append(buf, c)
			s.pos++
		}
	}
	return "", s.errorf("unterminated quoted value")
}

// escape decodes the escape at s.pos. Unknown escapes, and a \u not
// followed by four hex digits, are kept as written.
func (s *scanner) escape(buf []byte) []byte {
	if s.pos+1 >= len(s.data) {
		s.pos++
		return append(buf, '\\')
	}
	c := s.data[s.pos+1]
	s.pos += 2
	switch c {
	case 'n':
		return append(buf, '\n')
	case 't':
		return append(buf, '\t')
	case 'r':
		return append(buf, '\r')
	case 'b':
		return append(buf, '\b')
	case 'f':
		return append(buf, '\f')
	case '"', '\\', '/':
		return append(buf, c)
	case 'u':
		if r, ok := s.unicode(); ok {
			return utf8.AppendRune(buf, r)
		}
	}
	return append(buf, '\\', c)
}

// unicode decodes the four hex digits at s.pos, and a following low
// surrogate escape when the first is a high surrogate.
func (s *scanner) unicode() (rune, bool) {
	r, ok := parser.Hex4(s.data[s.pos:])
	if !ok {
		return 0, false
	}
	s.pos += 4
	if !utf16.IsSurrogate(r) {
		return r, true
	}
	rest := s.data[s.pos:]
	if len(rest) >= 6 && rest[0] == '\\' && rest[1] == 'u' {
		if r2, ok := parser.Hex4(rest[2:]); ok {
			if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
				s.pos += 6
				return dec, true
			}
		}
	}
	return utf8.RuneError, true
}
