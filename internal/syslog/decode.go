package syslog

import (
	"time"
	"unsafe"

	"github.com/sluice-log/sluice/internal/event"
)

// Field names a Decoder sets, in this order, and the encoder reads.
const (
	FieldFacility = "facility"
	FieldSeverity = "severity"
	FieldAppName  = "appname"
	FieldProcID   = "procid"
	FieldMsgID    = "msgid"
	FieldSD       = "sd"
	FieldFormat   = "syslog_format"
	// FieldTruncated is set to true by the syslog source on an event whose
	// octet-counted frame was cut short by the end of its connection: the
	// message holds only the bytes that arrived.
	FieldTruncated = "syslog_truncated"
)

// Parse recognises b as RFC 5424, else RFC 3164, and fills m. It returns
// false when b is neither (m.Format is then FormatRaw and m.Msg is b).
// loc is the zone of timestamps without one, now the receive time that
// yearless RFC 3164 timestamps are resolved against.
func Parse(b []byte, m *Message, loc *time.Location, now time.Time) bool {
	if ParseRFC5424(b, m, loc) || ParseRFC3164(b, m, loc, now) {
		return true
	}
	*m = Message{Msg: b}
	return false
}

// Decoder turns frames into events. The zero value uses UTC for timestamps
// without a zone. A Decoder reuses internal state and is not safe for
// concurrent use; use one per connection or goroutine.
//
// Events map as follows: timestamp is the sender's (the receive time when
// the message has none), host is HOSTNAME (else the fallback host), stream
// is APP-NAME (else the host; see StreamFromHost), message is MSG byte for
// byte, and the fields are facility and severity by name, appname, procid,
// msgid when present, structured data as sd: {id: {param: value}}, and
// syslog_format. A frame that does not parse becomes an event whose message
// is the whole frame, with only syslog_format: raw.
type Decoder struct {
	// Location is the zone of timestamps that carry none (RFC 3164).
	Location *time.Location
	// StreamFromHost sets stream to the host instead of APP-NAME.
	StreamFromHost bool

	msg Message
}

// Decode parses a copy of frame into ev, which it overwrites, and returns
// the format found. recv is the receive time, fallbackHost the host to use
// when the message names none (the sender's address). The event's strings
// are views into the one copy, so an event costs two allocations plus its
// structured data.
func (d *Decoder) Decode(frame []byte, recv time.Time, fallbackHost string, ev *event.Event) Format {
	return d.DecodeOwned(append(make([]byte, 0, len(frame)), frame...), recv, fallbackHost, ev)
}

// DecodeOwned is Decode without the copy: the event keeps views into frame,
// which must never be modified afterwards (an emitted event's Message, for
// example).
func (d *Decoder) DecodeOwned(frame []byte, recv time.Time, fallbackHost string, ev *event.Event) Format {
	loc := d.Location
	if loc == nil {
		loc = time.UTC
	}
	m := &d.msg
	*ev = event.Event{Timestamp: recv, Host: fallbackHost, Stream: fallbackHost}
	if !Parse(frame, m, loc, recv) {
		ev.Message = frame
		ev.Fields = event.Fields{{Key: FieldFormat, Value: event.String(FormatRaw.String())}}
		return FormatRaw
	}
	if !m.Timestamp.IsZero() {
		ev.Timestamp = m.Timestamp
	}
	if m.Hostname != nil {
		ev.Host = view(m.Hostname)
	}
	ev.Stream = ev.Host
	if m.AppName != nil && !d.StreamFromHost {
		ev.Stream = view(m.AppName)
	}
	ev.Message = m.Msg
	ev.Fields = d.fields(m)
	return m.Format
}

func (d *Decoder) fields(m *Message) event.Fields {
	n := 3
	for _, p := range [...][]byte{m.AppName, m.ProcID, m.MsgID, m.StructuredData} {
		if p != nil {
			n++
		}
	}
	f := make(event.Fields, 0, n)
	f = append(f,
		event.Field{Key: FieldFacility, Value: event.String(FacilityName(m.Facility()))},
		event.Field{Key: FieldSeverity, Value: event.String(SeverityName(m.Severity()))})
	for _, p := range [...]struct {
		key string
		val []byte
	}{{FieldAppName, m.AppName}, {FieldProcID, m.ProcID}, {FieldMsgID, m.MsgID}} {
		if p.val != nil {
			f = append(f, event.Field{Key: p.key, Value: event.String(view(p.val))})
		}
	}
	if m.StructuredData != nil {
		f = append(f, event.Field{Key: FieldSD, Value: event.Object(sdFields(m.StructuredData))})
	}
	return append(f, event.Field{Key: FieldFormat, Value: event.String(m.Format.String())})
}

// sdFields converts structured data to {id: {param: value}}. A repeated
// SD-ID or PARAM-NAME keeps its last value. Counting first lets every
// element's parameters share one allocation.
func sdFields(sd []byte) event.Fields {
	elements, params := 0, 0
	it := NewSDIter(sd)
	for _, ok := it.NextElement(); ok; _, ok = it.NextElement() {
		elements++
		for _, _, ok := it.NextParam(); ok; _, _, ok = it.NextParam() {
			params++
		}
	}
	out := make(event.Fields, 0, elements)
	slab := make(event.Fields, 0, params)
	it = NewSDIter(sd)
	for id, ok := it.NextElement(); ok; id, ok = it.NextElement() {
		start := len(slab)
		for name, raw, ok := it.NextParam(); ok; name, raw, ok = it.NextParam() {
			f := event.Field{Key: view(name), Value: event.String(view(UnescapeSD(raw)))}
			if i := index(slab[start:], f.Key); i >= 0 {
				slab[start+i] = f
			} else {
				slab = append(slab, f)
			}
		}
		f := event.Field{Key: view(id), Value: event.Object(slab[start:len(slab):len(slab)])}
		if i := index(out, f.Key); i >= 0 {
			out[i] = f
		} else {
			out = append(out, f)
		}
	}
	return out
}

func index(f event.Fields, key string) int {
	for i := range f {
		if f[i].Key == key {
			return i
		}
	}
	return -1
}

// view returns b as a string without copying. The bytes must never change
// afterwards, which holds for the frames a Decoder owns: event messages are
// immutable once emitted (see package event).
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// StructuredDataFields converts a message's raw structured data to
// {id: {param: value}}, as Decoder does.
func StructuredDataFields(sd []byte) event.Fields { return sdFields(sd) }
