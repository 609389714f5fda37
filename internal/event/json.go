package event

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as a quoted JSON string. Bytes that are not
// valid UTF-8 are escaped as \u00XX so that the original byte value stays
// recoverable and no input is silently replaced or dropped.
func AppendJSONString[S string | []byte](buf []byte, s S) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			var tmp [utf8.UTFMax]byte
			n := copy(tmp[:], s[i:min(i+utf8.UTFMax, len(s))])
			r, size := utf8.DecodeRune(tmp[:n])
			if r != utf8.RuneError || size > 1 {
				// U+2028 and U+2029 are valid JSON but break JavaScript consumers.
				if r == '\u2028' || r == '\u2029' {
					buf = append(buf, s[start:i]...)
					buf = append(buf, `\u202`...)
					buf = append(buf, hexDigits[r&0xF])
					i += size
					start = i
					continue
				}
				i += size
				continue
			}
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '"', '\\':
			buf = append(buf, '\\', c)
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
