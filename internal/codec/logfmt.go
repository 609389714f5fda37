package codec

import (
	"unicode/utf8"

	"github.com/sluice-log/sluice/internal/event"
)

// Logfmt encodes an event as logfmt: timestamp, host, stream and message,
// then the fields, as key=value pairs separated by spaces. A value is quoted
// (with JSON string escapes, so invalid UTF-8 becomes \u00XX) when it is
// empty or holds a space, '=', '"', a control character or invalid UTF-8.
// Objects and arrays are written as quoted JSON, null as an empty value.
// Bytes of a key that logfmt cannot carry become '_'.
var Logfmt Encoder = EncoderFunc(appendLogfmt)

func appendLogfmt(buf []byte, e *event.Event) []byte {
	buf = append(buf, "timestamp="...)
	buf = AppendTime(buf, e.Timestamp)
	buf = append(buf, " host="...)
	buf = appendLogfmtValue(buf, e.Host)
	buf = append(buf, " stream="...)
	buf = appendLogfmtValue(buf, e.Stream)
	buf = append(buf, " message="...)
	buf = appendLogfmtValue(buf, e.Message)
	for i := range e.Fields {
		f := &e.Fields[i]
		if Reserved(f.Key) {
			continue
		}
		buf = append(buf, ' ')
		buf = appendLogfmtKey(buf, f.Key)
		buf = append(buf, '=')
		buf = appendLogfmtField(buf, f.Value)
	}
	return buf
}

func appendLogfmtField(buf []byte, v event.Value) []byte {
	switch v.Kind() {
	case event.KindNull:
		return buf
	case event.KindString:
		return appendLogfmtValue(buf, v.Str())
	case event.KindTime:
		return AppendTime(buf, v.Time())
	case event.KindObject, event.KindArray:
		// Encode as JSON, then quote that text in place: append the quoted
		// copy after it and move it down, so no scratch buffer is needed.
		start := len(buf)
		buf = v.AppendJSON(buf)
		end := len(buf)
		buf = event.AppendJSONString(buf, buf[start:end])
		n := copy(buf[start:], buf[end:])
		return buf[:start+n]
	}
	return v.AppendJSON(buf) // numbers and booleans never need quotes
}

// appendLogfmtValue appends s bare when logfmt allows it, quoted otherwise.
func appendLogfmtValue[S string | []byte](buf []byte, s S) []byte {
	if needsQuote(s) {
		return event.AppendJSONString(buf, s)
	}
	return append(buf, s...)
}

func needsQuote[S string | []byte](s S) bool {
	if len(s) == 0 {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == '=' || c == '"' || c == 0x7f {
				return true
			}
			i++
			continue
		}
		size, ok := validRune(s, i)
		if !ok {
			return true
		}
		i += size
	}
	return false
}

// validRune decodes the multi-byte rune at s[i] and reports its size and
// whether it may appear unquoted: valid UTF-8 and not a line or paragraph
// separator (which some readers treat as line breaks).
func validRune[S string | []byte](s S, i int) (int, bool) {
	var tmp [utf8.UTFMax]byte
	n := copy(tmp[:], s[i:min(i+utf8.UTFMax, len(s))])
	r, size := utf8.DecodeRune(tmp[:n])
	if r == utf8.RuneError && size <= 1 || r == '\u2028' || r == '\u2029' {
		return 1, false
	}
	return size, true
}

// appendLogfmtKey appends key with every byte that would end or confuse a
// key (space, '=', '"', control characters, invalid UTF-8) replaced by '_'.
func appendLogfmtKey(buf []byte, key string) []byte {
	if key == "" {
		return append(buf, '_')
	}
	for i := 0; i < len(key); {
		c := key[i]
		if c >= utf8.RuneSelf {
			size, ok := validRune(key, i)
			if ok {
				buf = append(buf, key[i:i+size]...)
			} else {
				buf = append(buf, '_')
			}
			i += size
			continue
		}
		if c <= ' ' || c == '=' || c == '"' || c == 0x7f {
			c = '_'
		}
		buf = append(buf, c)
		i++
	}
	return buf
}
