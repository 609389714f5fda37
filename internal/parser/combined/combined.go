// Package combined parses the NCSA combined access-log format written by
// nginx (`log_format combined`) and Apache httpd (`LogFormat "%h %l %u %t
// \"%r\" %>s %b \"%{Referer}i\" \"%{User-agent}i\"" combined`).
//
// It is a hand-written byte scanner, not a regular expression: one pass,
// no allocation. Every string field is a zero-copy view of the line, which
// relies on event messages being immutable once emitted; quoted values are
// kept as logged, escapes included. Lines in the common format (no referer
// and user agent) are accepted too, and anything after the user agent
// (extra fields some configs append) is ignored.
package combined

import (
	"bytes"
	"fmt"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/parser"
)

// Flavor selects the server whose dialect a line is in. The formats differ
// only in the second column: nginx always writes "-", Apache writes the
// identd user (%l), which the Apache flavor keeps as the field "ident".
type Flavor uint8

// The flavors.
const (
	Nginx Flavor = iota
	Apache
)

// Field names. A column logged as "-" is omitted, except body_bytes_sent,
// which is then 0.
const (
	FieldRemoteAddr    = "remote_addr"
	FieldIdent         = "ident"
	FieldRemoteUser    = "remote_user"
	FieldTimeLocal     = "time_local"
	FieldMethod        = "method"
	FieldPath          = "path"
	FieldProtocol      = "protocol"
	FieldRequest       = "request"
	FieldStatus        = "status"
	FieldBodyBytesSent = "body_bytes_sent"
	FieldHTTPReferer   = "http_referer"
	FieldHTTPUserAgent = "http_user_agent"
)

// MaxFields is the most fields one line yields.
const MaxFields = 11

// SyntaxError reports a malformed line and where it was found.
type SyntaxError struct {
	Msg    string
	Offset int
}

// Error formats the message with its offset.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s at offset %d", e.Msg, e.Offset)
}

// Parse appends the fields of line to dst and returns the extended slice
// together with the request time from time_local, in UTC. On error it
// returns dst unchanged and the zero time.
func Parse(dst event.Fields, line []byte, fl Flavor) (event.Fields, time.Time, error) {
	s := scanner{data: line}
	start := len(dst)
	out, ts, err := s.line(dst, fl)
	if err != nil {
		clear(out[start:])
		return dst[:start], time.Time{}, err
	}
	return out, ts, nil
}

type scanner struct {
	data []byte
	pos  int
}

func (s *scanner) errorf(format string, args ...any) error {
	return &SyntaxError{Msg: fmt.Sprintf(format, args...), Offset: s.pos}
}

func str(key string, b []byte) event.Field {
	return event.Field{Key: key, Value: event.String(parser.View(b))}
}

func dash(b []byte) bool { return len(b) == 1 && b[0] == '-' }

// line scans the whole line; on error the fields it appended are returned
// for clearing.
func (s *scanner) line(dst event.Fields, fl Flavor) (event.Fields, time.Time, error) {
	addr := s.token()
	if len(addr) == 0 {
		return dst, time.Time{}, s.errorf("missing remote address")
	}
	dst = append(dst, str(FieldRemoteAddr, addr))
	ident := s.token()
	if len(ident) == 0 {
		return dst, time.Time{}, s.errorf("missing ident column")
	}
	if fl == Apache && !dash(ident) {
		dst = append(dst, str(FieldIdent, ident))
	}
	user, err := s.user()
	if err != nil {
		return dst, time.Time{}, err
	}
	if !dash(user) {
		dst = append(dst, str(FieldRemoteUser, user))
	}
	tl, ts, err := s.time()
	if err != nil {
		return dst, time.Time{}, err
	}
	dst = append(dst, str(FieldTimeLocal, tl))
	if dst, err = s.request(dst); err != nil {
		return dst, time.Time{}, err
	}
	if dst, err = s.numbers(dst); err != nil {
		return dst, time.Time{}, err
	}
	dst, err = s.trailer(dst)
	return dst, ts, err
}

func (s *scanner) skipSpaces() {
	for s.pos < len(s.data) && s.data[s.pos] == ' ' {
		s.pos++
	}
}

// token returns the next run of non-space bytes, after skipping spaces.
func (s *scanner) token() []byte {
	s.skipSpaces()
	start := s.pos
	if i := bytes.IndexByte(s.data[start:], ' '); i >= 0 {
		s.pos += i
	} else {
		s.pos = len(s.data)
	}
	return s.data[start:s.pos]
}

// user returns everything up to the " [" that opens the time, since a
// basic-auth user name may contain spaces.
func (s *scanner) user() ([]byte, error) {
	s.skipSpaces()
	start := s.pos
	for s.pos < len(s.data) {
		if s.data[s.pos] == '[' && s.pos > start && s.data[s.pos-1] == ' ' {
			end := s.pos - 1
			for end > start && s.data[end-1] == ' ' {
				end--
			}
			return s.data[start:end], nil
		}
		s.pos++
	}
	return nil, s.errorf("missing '[' before time")
}

// time scans "[02/Jan/2006:15:04:05 -0700]".
func (s *scanner) time() ([]byte, time.Time, error) {
	s.pos++ // '['
	start := s.pos
	for s.pos < len(s.data) && s.data[s.pos] != ']' {
		s.pos++
	}
	if s.pos >= len(s.data) {
		return nil, time.Time{}, s.errorf("missing ']' after time")
	}
	tl := s.data[start:s.pos]
	ts, ok := ParseTime(tl)
	if !ok {
		s.pos = start
		return nil, time.Time{}, s.errorf("bad time %q", tl)
	}
	s.pos++ // ']'
	return tl, ts, nil
}

// escapedQuote reports whether a quote following b is escaped, that is
// preceded by an odd number of backslashes.
func escapedQuote(b []byte) bool {
	n := 0
	for i := len(b) - 1; i >= 0 && b[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// quoted scans a double-quoted value, skipping backslash escapes, and
// returns its contents as logged.
func (s *scanner) quoted(what string) ([]byte, error) {
	s.skipSpaces()
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return nil, s.errorf("missing '\"' before %s", what)
	}
	s.pos++
	start := s.pos
	for {
		i := bytes.IndexByte(s.data[s.pos:], '"')
		if i < 0 {
			s.pos = len(s.data)
			return nil, s.errorf("unterminated %s", what)
		}
		s.pos += i + 1
		if !escapedQuote(s.data[start : s.pos-1]) {
			return s.data[start : s.pos-1], nil
		}
	}
}
