package combined

import (
	"bytes"

	"github.com/sluice-log/sluice/internal/event"
)

// request scans the quoted request line and splits it into method, path
// and protocol. A request that does not start with an HTTP method token
// and a space (garbage sent to an HTTP port, escaped by the server) is kept
// whole as the field "request"; "-" and "" give no field.
func (s *scanner) request(dst event.Fields) (event.Fields, error) {
	r, err := s.quoted("request")
	if err != nil {
		return dst, err
	}
	if len(r) == 0 || dash(r) {
		return dst, nil
	}
	sp := bytes.IndexByte(r, ' ')
	if sp <= 0 || !isToken(r[:sp]) {
		return append(dst, str(FieldRequest, r)), nil
	}
	dst = append(dst, str(FieldMethod, r[:sp]))
	rest := r[sp+1:]
	if last := bytes.LastIndexByte(rest, ' '); last >= 0 && bytes.HasPrefix(rest[last+1:], []byte("HTTP/")) {
		return append(dst, str(FieldPath, rest[:last]), str(FieldProtocol, rest[last+1:])), nil
	}
	return append(dst, str(FieldPath, rest)), nil
}

// isToken reports whether b is an RFC 9110 token, as a method is.
func isToken(b []byte) bool {
	for _, c := range b {
		if c <= ' ' || c >= 0x7f || bytes.IndexByte([]byte(`"(),/:;<=>?@[\]{}`), c) >= 0 {
			return false
		}
	}
	return true
}

// numbers scans the status and the body size. A status of "-" is omitted;
// a size of "-" (Apache's %b for an empty body) is 0.
func (s *scanner) numbers(dst event.Fields) (event.Fields, error) {
	status := s.token()
	if !dash(status) {
		n, ok := atoi(status)
		if !ok {
			return dst, s.errorf("bad status %q", status)
		}
		dst = append(dst, event.Field{Key: FieldStatus, Value: event.Int(n)})
	}
	size := s.token()
	var n int64
	if !dash(size) {
		var ok bool
		if n, ok = atoi(size); !ok {
			return dst, s.errorf("bad body size %q", size)
		}
	}
	return append(dst, event.Field{Key: FieldBodyBytesSent, Value: event.Int(n)}), nil
}

// atoi parses 1 to 18 decimal digits.
func atoi(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// trailer scans the optional quoted referer and user agent. A line that
// ends after the body size is in the common log format.
func (s *scanner) trailer(dst event.Fields) (event.Fields, error) {
	s.skipSpaces()
	if s.pos >= len(s.data) {
		return dst, nil
	}
	ref, err := s.quoted("referer")
	if err != nil {
		return dst, err
	}
	if !dash(ref) {
		dst = append(dst, str(FieldHTTPReferer, ref))
	}
	ua, err := s.quoted("user agent")
	if err != nil {
		return dst, err
	}
	if !dash(ua) {
		dst = append(dst, str(FieldHTTPUserAgent, ua))
	}
	return dst, nil
}
