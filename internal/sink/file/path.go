package file

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/codec"
	"github.com/sluice-log/sluice/internal/event"
)

// pathRenderer turns an event into the path of the file it belongs in. It
// appends to buf so that rendering a path costs no allocation per event.
type pathRenderer interface {
	appendPath(buf []byte, e *event.Event) []byte
}

// segment is one piece of a parsed path template: literal text, a strftime
// verb, or a reference to an event attribute or field.
type segment struct {
	lit   string
	verb  byte
	field string
}

// pathTemplate is the file sink's own small template language: strftime
// verbs (%Y, %m, ...) rendered from the event timestamp in UTC, and
// {{ .name }} references to an attribute or field. Substituted values are
// sanitized (see appendSanitized); literal text is used as written.
type pathTemplate struct {
	segs   []segment
	static bool
}

// parsePath parses a path template. Errors name the offending part.
func parsePath(s string) (*pathTemplate, error) {
	if s == "" {
		return nil, errors.New("path is required")
	}
	t := &pathTemplate{static: true}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.segs = append(t.segs, segment{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '%':
			if i+1 >= len(s) || !strings.ContainsRune(strftimeVerbs, rune(s[i+1])) {
				return nil, fmt.Errorf("path %q: unknown strftime verb at offset %d (supported: %%Y %%y %%m %%d %%H %%M %%S %%j %%F %%T %%s %%%%)", s, i)
			}
			i++
			if s[i] == '%' {
				lit.WriteByte('%')
				continue
			}
			flush()
			t.segs, t.static = append(t.segs, segment{verb: s[i]}), false
		case strings.HasPrefix(s[i:], "{{"):
			end := strings.Index(s[i:], "}}")
			if end < 0 {
				return nil, fmt.Errorf("path %q: unclosed {{ at offset %d", s, i)
			}
			name, err := fieldRef(s[i+2 : i+end])
			if err != nil {
				return nil, fmt.Errorf("path %q: %w", s, err)
			}
			flush()
			t.segs, t.static = append(t.segs, segment{field: name}), false
			i += end + 1
		default:
			lit.WriteByte(s[i])
		}
	}
	flush()
	return t, nil
}

const strftimeVerbs = "YymdHMSjFTs%"

// fieldRef parses the inside of {{ .name }}.
func fieldRef(s string) (string, error) {
	s = strings.TrimSpace(s)
	name, ok := strings.CutPrefix(s, ".")
	if !ok || name == "" || strings.ContainsAny(name, " \t{}|()\"'") {
		return "", fmt.Errorf("only field references like {{ .stream }} are supported in paths, got {{%s}}", s)
	}
	return name, nil
}

func (t *pathTemplate) appendPath(buf []byte, e *event.Event) []byte {
	ts := e.Timestamp.UTC()
	for i := range t.segs {
		sg := &t.segs[i]
		switch {
		case sg.lit != "":
			buf = append(buf, sg.lit...)
		case sg.verb != 0:
			buf = appendVerb(buf, sg.verb, ts)
		default:
			buf = appendField(buf, e, sg.field)
		}
	}
	return buf
}

func appendField(buf []byte, e *event.Event, name string) []byte {
	start := len(buf)
	if v, ok := e.Get(name); ok {
		if v.Kind() == event.KindTime {
			buf = codec.AppendTime(buf, v.Time())
		} else {
			buf = v.AppendText(buf)
		}
	}
	return appendSanitized(buf, start)
}

// appendSanitized makes buf[start:], a substituted value, safe as a part of
// one path element: '/', '\', NUL and other control bytes become '_', every
// ".." becomes "__", and an empty value or "." becomes "_". A field can thus
// never climb out of the directory the template names, nor add one.
func appendSanitized(buf []byte, start int) []byte {
	v := buf[start:]
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '/' || c == '\\' || c < 0x20 || c == 0x7f:
			v[i] = '_'
		case c == '.' && i+1 < len(v) && v[i+1] == '.':
			v[i], v[i+1] = '_', '_'
			i++
		}
	}
	if len(v) == 0 || len(v) == 1 && v[0] == '.' {
		return append(buf[:start], '_')
	}
	return buf
}

// appendVerb appends one strftime conversion of t (already in UTC).
func appendVerb(buf []byte, verb byte, t time.Time) []byte {
	switch verb {
	case 'Y':
		return appendInt(buf, t.Year(), 4)
	case 'y':
		return appendInt(buf, t.Year()%100, 2)
	case 'm':
		return appendInt(buf, int(t.Month()), 2)
	case 'd':
		return appendInt(buf, t.Day(), 2)
	case 'H':
		return appendInt(buf, t.Hour(), 2)
	case 'M':
		return appendInt(buf, t.Minute(), 2)
	case 'S':
		return appendInt(buf, t.Second(), 2)
	case 'j':
		return appendInt(buf, t.YearDay(), 3)
	case 'F':
		buf = appendInt(buf, t.Year(), 4)
		buf = append(buf, '-')
		buf = appendInt(buf, int(t.Month()), 2)
		buf = append(buf, '-')
		return appendInt(buf, t.Day(), 2)
	case 'T':
		buf = appendInt(buf, t.Hour(), 2)
		buf = append(buf, ':')
		buf = appendInt(buf, t.Minute(), 2)
		buf = append(buf, ':')
		return appendInt(buf, t.Second(), 2)
	case 's':
		return appendInt(buf, int(t.Unix()), 1)
	}
	return buf
}

// appendInt appends n zero-padded to width digits.
func appendInt(buf []byte, n, width int) []byte {
	if n < 0 {
		buf = append(buf, '-')
		n = -n
	}
	var tmp [20]byte
	i := len(tmp)
	for i > 0 {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
		width--
		if n == 0 && width <= 0 {
			break
		}
	}
	return append(buf, tmp[i:]...)
}
