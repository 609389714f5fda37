package syslog

import (
	"bytes"
	"strconv"
	"time"

	"github.com/sluice-log/sluice/internal/event"
)

// Header field lengths allowed by RFC 5424; longer values are cut.
const (
	maxHostname = 255
	maxAppName  = 48
	maxProcID   = 128
	maxMsgID    = 32
	maxSDName   = 32
)

// EncodeOptions supply what an event lacks when it is encoded. The zero
// value encodes facility user, severity notice and "-" for the rest.
type EncodeOptions struct {
	// Facility is the facility name (or alias) used when the event has no
	// valid facility field. Default "user".
	Facility string
	// Severity is the severity name (or alias) used when the event has no
	// valid severity field. Default "notice".
	Severity string
	// AppName is used when the event has neither an appname field nor a
	// stream.
	AppName string
	// Hostname is used when the event's host is empty.
	Hostname string
}

// AppendRFC5424 appends e to buf as "<PRI>1 TIMESTAMP HOSTNAME APP-NAME
// PROCID MSGID STRUCTURED-DATA [SP MSG]", the inverse of Decoder: PRI from
// the facility and severity fields (names, aliases or codes), APP-NAME from
// appname or else the stream, PROCID and MSGID from their fields, the sd
// object as structured data, and the message bytes unchanged (a message
// that itself starts with a BOM gets a second one, which the parser strips).
// Header bytes outside printable ASCII become '_' and over-long values are
// cut; an empty value is the NILVALUE "-". Timestamps have microseconds.
func AppendRFC5424(buf []byte, e *event.Event, opts *EncodeOptions) []byte {
	if opts == nil {
		opts = &EncodeOptions{}
	}
	pri := code(e.Fields, FieldFacility, opts.Facility, 1, FacilityCode, 23)*8 +
		code(e.Fields, FieldSeverity, opts.Severity, 5, SeverityCode, 7)
	buf = append(buf, '<')
	buf = strconv.AppendInt(buf, int64(pri), 10)
	buf = append(buf, ">1 "...)
	buf = appendTimestamp(buf, e.Timestamp)
	buf = append(buf, ' ')
	buf = appendHeader(buf, first(e.Host, opts.Hostname), maxHostname)
	buf = append(buf, ' ')
	buf = appendHeader(buf, first(text(e.Fields, FieldAppName), e.Stream, opts.AppName), maxAppName)
	buf = append(buf, ' ')
	buf = appendHeader(buf, text(e.Fields, FieldProcID), maxProcID)
	buf = append(buf, ' ')
	buf = appendHeader(buf, text(e.Fields, FieldMsgID), maxMsgID)
	buf = append(buf, ' ')
	buf = appendSD(buf, e.Fields)
	if len(e.Message) > 0 {
		buf = append(buf, ' ')
		if bytes.HasPrefix(e.Message, bom) {
			buf = append(buf, bom...)
		}
		buf = append(buf, e.Message...)
	}
	return buf
}

// FrameOctetCounted turns the message at buf[start:] into an RFC 6587
// octet-counted frame by prefixing its length and a space.
func FrameOctetCounted(buf []byte, start int) []byte {
	var tmp [20]byte
	hdr := strconv.AppendInt(tmp[:0], int64(len(buf)-start), 10)
	hdr = append(hdr, ' ')
	n := len(buf)
	buf = append(buf, hdr...)
	copy(buf[start+len(hdr):], buf[start:n])
	copy(buf[start:], hdr)
	return buf
}

func first(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func text(f event.Fields, key string) string {
	if v, ok := f.Get(key); ok {
		return v.Text()
	}
	return ""
}

// code returns the code of a facility or severity field, else of the
// default name, else def.
func code(f event.Fields, key, name string, def int, lookup func(string) (int, bool), maxCode int64) int {
	if v, ok := f.Get(key); ok {
		if v.Kind() == event.KindString {
			if c, ok := lookup(v.Str()); ok {
				return c
			}
		}
		if i, ok := v.Int(); ok && i >= 0 && i <= maxCode {
			return int(i)
		}
	}
	if c, ok := lookup(name); ok {
		return c
	}
	return def
}

func appendTimestamp(buf []byte, t time.Time) []byte {
	if t.IsZero() || t.Year() < 0 || t.Year() > 9999 {
		return append(buf, '-')
	}
	if _, off := t.Zone(); off%60 != 0 {
		t = t.UTC()
	}
	return t.AppendFormat(buf, "2006-01-02T15:04:05.000000Z07:00")
}

func appendHeader(buf []byte, s string, maxLen int) []byte {
	if s == "" {
		return append(buf, '-')
	}
	for i := 0; i < len(s) && i < maxLen; i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f {
			c = '_'
		}
		buf = append(buf, c)
	}
	return buf
}

func appendSDName(buf []byte, s string) []byte {
	for i := 0; i < len(s) && i < maxSDName; i++ {
		c := s[i]
		if !isSDName(c) {
			c = '_'
		}
		buf = append(buf, c)
	}
	return buf
}

// appendSD writes the sd field's object as SD-ELEMENTs, or "-".
func appendSD(buf []byte, f event.Fields) []byte {
	v, _ := f.Get(FieldSD)
	start := len(buf)
	for _, el := range v.Fields() {
		if el.Key == "" {
			continue
		}
		buf = append(buf, '[')
		buf = appendSDName(buf, el.Key)
		for _, p := range el.Value.Fields() {
			if p.Key == "" {
				continue
			}
			buf = append(buf, ' ')
			buf = appendSDName(buf, p.Key)
			buf = append(buf, '=', '"')
			buf = appendEscaped(buf, p.Value)
			buf = append(buf, '"')
		}
		buf = append(buf, ']')
	}
	if len(buf) == start {
		buf = append(buf, '-')
	}
	return buf
}

func appendEscaped(buf []byte, v event.Value) []byte {
	start := len(buf)
	buf = v.AppendText(buf)
	n := 0
	for _, c := range buf[start:] {
		if c == '"' || c == '\\' || c == ']' {
			n++
		}
	}
	if n == 0 {
		return buf
	}
	end := len(buf)
	buf = append(buf, make([]byte, n)...)
	// Shift right to left, inserting a backslash before each special byte.
	w := len(buf)
	for r := end - 1; r >= start; r-- {
		c := buf[r]
		w--
		buf[w] = c
		if c == '"' || c == '\\' || c == ']' {
			w--
			buf[w] = '\\'
		}
	}
	return buf
}
