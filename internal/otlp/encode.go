package otlp

import (
	"encoding/hex"
	"math"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sluice-log/sluice/internal/event"
)

// Encoder builds plog.Logs from events, one ResourceLogs per distinct
// resource and one ScopeLogs per distinct scope within it, in the order
// they first appear. It is used by one goroutine at a time and reuses its
// grouping state between batches.
type Encoder struct {
	groups map[string]plog.ScopeLogs
	key    []byte
	// Invalid counts trace or span ids that were not valid hex of the
	// right length and were left out.
	Invalid int
}

// Encode returns the events as plog.Logs.
func (c *Encoder) Encode(events []event.Event) plog.Logs {
	ld := plog.NewLogs()
	if c.groups == nil {
		c.groups = make(map[string]plog.ScopeLogs)
	}
	clear(c.groups)
	resources := make(map[string]plog.ResourceLogs)
	for i := range events {
		e := &events[i]
		res, _ := e.Fields.Get(FieldResource)
		scope, _ := e.Fields.Get(FieldScope)
		c.key = res.AppendJSON(c.key[:0])
		if res.Kind() == event.KindNull {
			// Events from other sources: their host is the resource.
			c.key = append(append(c.key, 0), e.Host...)
		}
		resLen := len(c.key)
		c.key = append(c.key, 0)
		c.key = scope.AppendJSON(c.key)
		sl, ok := c.groups[string(c.key)]
		if !ok {
			rkey := string(c.key[:resLen])
			rl, ok := resources[rkey]
			if !ok {
				rl = ld.ResourceLogs().AppendEmpty()
				fillResource(rl.Resource(), res, e.Host)
				resources[rkey] = rl
			}
			sl = rl.ScopeLogs().AppendEmpty()
			fillScope(sl.Scope(), scope)
			c.groups[string(c.key)] = sl
		}
		c.record(sl.LogRecords().AppendEmpty(), e)
	}
	return ld
}

func fillResource(r pcommon.Resource, res event.Value, host string) {
	if res.Kind() == event.KindObject {
		putFields(r.Attributes(), res.Fields())
		return
	}
	if host != "" {
		r.Attributes().PutStr(hostName, host)
	}
}

func fillScope(s pcommon.InstrumentationScope, scope event.Value) {
	if scope.Kind() != event.KindObject {
		return
	}
	for _, f := range scope.Fields() {
		switch f.Key {
		case scopeName:
			s.SetName(f.Value.Text())
		case scopeVersion:
			s.SetVersion(f.Value.Text())
		case FieldAttributes:
			if f.Value.Kind() == event.KindObject {
				putFields(s.Attributes(), f.Value.Fields())
			}
		}
	}
}

func (c *Encoder) record(lr plog.LogRecord, e *event.Event) {
	if !e.Timestamp.IsZero() {
		lr.SetTimestamp(pcommon.NewTimestampFromTime(e.Timestamp))
	}
	hasBody := false
	attrs := lr.Attributes()
	if n := attrCount(e.Fields); n > 0 {
		attrs.EnsureCapacity(n)
	}
	for _, f := range e.Fields {
		v := f.Value
		switch f.Key {
		case FieldResource, FieldScope:
		case FieldAttributes:
			if v.Kind() == event.KindObject {
				putAll(attrs, v.Fields())
			} else {
				setValue(attrs.PutEmpty(f.Key), v)
			}
		case FieldSevNumber:
			if n, ok := v.Int(); ok && n >= 0 && n <= math.MaxInt32 {
				lr.SetSeverityNumber(plog.SeverityNumber(n))
			}
		case FieldSevText:
			lr.SetSeverityText(v.Text())
		case FieldTraceID:
			var id pcommon.TraceID
			if decodeID(id[:], v.Str()) {
				lr.SetTraceID(id)
			} else {
				c.Invalid++
			}
		case FieldSpanID:
			var id pcommon.SpanID
			if decodeID(id[:], v.Str()) {
				lr.SetSpanID(id)
			} else {
				c.Invalid++
			}
		case FieldFlags:
			if n, ok := v.Int(); ok && n >= 0 && n <= math.MaxUint32 {
				lr.SetFlags(plog.LogRecordFlags(n))
			}
		case FieldObserved:
			if v.Kind() == event.KindTime {
				lr.SetObservedTimestamp(pcommon.NewTimestampFromTime(v.Time()))
			}
		case FieldEventName:
			lr.SetEventName(v.Text())
		case FieldBody:
			hasBody = true
			setValue(lr.Body(), v)
		default:
			// Fields of events from other sources, or added by
			// transforms, are attributes.
			setValue(attrs.PutEmpty(f.Key), v)
		}
	}
	if !hasBody && len(e.Message) > 0 {
		lr.Body().SetStr(string(e.Message))
	}
}

// attrCount is how many attributes the fields of an event make, so the
// record's attribute map is sized once.
func attrCount(f event.Fields) int {
	n := 0
	for _, fl := range f {
		switch fl.Key {
		case FieldResource, FieldScope, FieldSevNumber, FieldSevText, FieldTraceID, FieldSpanID,
			FieldFlags, FieldObserved, FieldEventName, FieldBody:
		case FieldAttributes:
			n += max(len(fl.Value.Fields()), 1)
		default:
			n++
		}
	}
	return n
}

// decodeID decodes hex s into dst, which it must fill exactly.
func decodeID(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	_, err := hex.Decode(dst, []byte(s))
	return err == nil
}

func putFields(m pcommon.Map, f event.Fields) {
	m.EnsureCapacity(m.Len() + len(f))
	putAll(m, f)
}

func putAll(m pcommon.Map, f event.Fields) {
	for _, fl := range f {
		setValue(m.PutEmpty(fl.Key), fl.Value)
	}
}

// setValue converts an event value to an OTLP AnyValue. Timestamps have no
// OTLP kind: they become RFC 3339 strings.
func setValue(dst pcommon.Value, v event.Value) {
	switch v.Kind() {
	case event.KindString:
		dst.SetStr(v.Str())
	case event.KindInt:
		n, _ := v.Int()
		dst.SetInt(n)
	case event.KindFloat:
		f, _ := v.Float()
		dst.SetDouble(f)
	case event.KindBool:
		dst.SetBool(v.Bool())
	case event.KindTime:
		dst.SetStr(v.Text())
	case event.KindObject:
		putFields(dst.SetEmptyMap(), v.Fields())
	case event.KindArray:
		a := v.Array()
		s := dst.SetEmptySlice()
		s.EnsureCapacity(len(a))
		for _, e := range a {
			setValue(s.AppendEmpty(), e)
		}
	}
}
