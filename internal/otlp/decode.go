// Package otlp maps OpenTelemetry log records (pdata's plog) onto sluice's
// events and back, in the one documented way (docs/components/
// source-opentelemetry.md) that the opentelemetry source and sink share, so
// that a record read by the source and written by the sink arrives equal.
//
// A record becomes one event: its body is the message (a structured body
// also stays whole in the body field), its time the timestamp, the
// resource's host.name the host, and everything else lives in a few fixed
// fields: resource, scope, attributes, severity_number, severity_text,
// trace_id, span_id, trace_flags, observed_timestamp, event_name.
package otlp

import (
	"encoding/base64"
	"encoding/hex"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"

	"github.com/sluice-log/sluice/internal/event"
)

// Field names of the mapping.
const (
	FieldResource   = "resource"
	FieldScope      = "scope"
	FieldAttributes = "attributes"
	FieldSevNumber  = "severity_number"
	FieldSevText    = "severity_text"
	FieldTraceID    = "trace_id"
	FieldSpanID     = "span_id"
	FieldFlags      = "trace_flags"
	FieldObserved   = "observed_timestamp"
	FieldEventName  = "event_name"
	FieldBody       = "body"

	scopeName    = "name"
	scopeVersion = "version"
	hostName     = "host.name"
)

// Decoder turns plog.Logs into events.
type Decoder struct {
	// Stream is set on every event.
	Stream string
}

// Count returns the number of log records in ld.
func Count(ld plog.Logs) int { return ld.LogRecordCount() }

// Append appends one event per log record of ld to dst; now stands in for
// records that carry neither time nor observed time.
func (d *Decoder) Append(dst []event.Event, ld plog.Logs, now time.Time) []event.Event {
	var sl slab
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		res := rl.Resource().Attributes()
		var resVal event.Value
		host := ""
		if res.Len() > 0 {
			resVal = event.Object(sl.mapFields(res))
			if h, ok := res.Get(hostName); ok && h.Type() == pcommon.ValueTypeStr {
				host = h.Str()
			}
		}
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			scope := sls.At(j)
			scopeVal := sl.scopeValue(scope.Scope())
			lrs := scope.LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				dst = append(dst, d.record(&sl, lrs.At(k), resVal, scopeVal, host, now))
			}
		}
	}
	return dst
}

func (sl *slab) scopeValue(s pcommon.InstrumentationScope) event.Value {
	var f event.Fields
	if s.Name() != "" {
		f = append(f, event.Field{Key: scopeName, Value: event.String(s.Name())})
	}
	if s.Version() != "" {
		f = append(f, event.Field{Key: scopeVersion, Value: event.String(s.Version())})
	}
	if s.Attributes().Len() > 0 {
		f = append(f, event.Field{Key: FieldAttributes, Value: event.Object(sl.mapFields(s.Attributes()))})
	}
	if f == nil {
		return event.Null()
	}
	return event.Object(f)
}

func (d *Decoder) record(sl *slab, lr plog.LogRecord, res, scope event.Value, host string, now time.Time) event.Event {
	e := event.Event{Host: host, Stream: d.Stream}
	// Resource and scope values are shared by the events of one group:
	// event values are never modified in place (Clone copies), so sharing
	// is safe and saves an allocation per event.
	e.Fields = sl.fields(fieldCount(lr, res, scope))
	if res.Kind() != event.KindNull {
		e.Fields = append(e.Fields, event.Field{Key: FieldResource, Value: res})
	}
	if scope.Kind() != event.KindNull {
		e.Fields = append(e.Fields, event.Field{Key: FieldScope, Value: scope})
	}
	if lr.Attributes().Len() > 0 {
		e.Fields = append(e.Fields, event.Field{Key: FieldAttributes, Value: event.Object(sl.mapFields(lr.Attributes()))})
	}
	if sn := lr.SeverityNumber(); sn != 0 {
		e.Fields = append(e.Fields, event.Field{Key: FieldSevNumber, Value: event.Int(int64(sn))})
	}
	if st := lr.SeverityText(); st != "" {
		e.Fields = append(e.Fields, event.Field{Key: FieldSevText, Value: event.String(st)})
	}
	if tid := lr.TraceID(); !tid.IsEmpty() {
		e.Fields = append(e.Fields, event.Field{Key: FieldTraceID, Value: event.String(hex.EncodeToString(tid[:]))})
	}
	if sid := lr.SpanID(); !sid.IsEmpty() {
		e.Fields = append(e.Fields, event.Field{Key: FieldSpanID, Value: event.String(hex.EncodeToString(sid[:]))})
	}
	if fl := lr.Flags(); fl != 0 {
		e.Fields = append(e.Fields, event.Field{Key: FieldFlags, Value: event.Int(int64(fl))})
	}
	obs := lr.ObservedTimestamp()
	if obs != 0 {
		e.Fields = append(e.Fields, event.Field{Key: FieldObserved, Value: event.Time(obs.AsTime())})
	}
	if en := lr.EventName(); en != "" {
		e.Fields = append(e.Fields, event.Field{Key: FieldEventName, Value: event.String(en)})
	}
	switch ts := lr.Timestamp(); {
	case ts != 0:
		e.Timestamp = ts.AsTime()
	case obs != 0:
		e.Timestamp = obs.AsTime()
	default:
		e.Timestamp = now
	}
	body := lr.Body()
	switch body.Type() {
	case pcommon.ValueTypeStr:
		e.Message = sl.bytes(body.Str())
	case pcommon.ValueTypeEmpty:
	default:
		v := sl.value(body)
		e.Message = v.AppendJSON(nil)
		e.Fields = append(e.Fields, event.Field{Key: FieldBody, Value: v})
	}
	return e
}

// fieldCount is how many fields record will fill.
func fieldCount(lr plog.LogRecord, res, scope event.Value) int {
	n := 0
	for _, b := range [...]bool{res.Kind() != event.KindNull, scope.Kind() != event.KindNull,
		lr.Attributes().Len() > 0, lr.SeverityNumber() != 0, lr.SeverityText() != "",
		!lr.TraceID().IsEmpty(), !lr.SpanID().IsEmpty(), lr.Flags() != 0,
		lr.ObservedTimestamp() != 0, lr.EventName() != "",
		lr.Body().Type() != pcommon.ValueTypeStr && lr.Body().Type() != pcommon.ValueTypeEmpty} {
		if b {
			n++
		}
	}
	return n
}

// slab hands out the fields and message bytes of one request's events
// from a few shared arrays instead of several allocations per event.
// Each piece is capped (three-index slices), so a transform that appends
// to an event's fields reallocates instead of writing into a neighbour's;
// message bytes are never written after emit.
type slab struct {
	f event.Fields
	b []byte
}

func (sl *slab) fields(n int) event.Fields {
	if cap(sl.f)-len(sl.f) < n {
		sl.f = make(event.Fields, 0, max(n, 512))
	}
	i := len(sl.f)
	sl.f = sl.f[:i+n]
	return sl.f[i : i : i+n]
}

func (sl *slab) bytes(s string) []byte {
	if len(s) > 4096 {
		return []byte(s)
	}
	if cap(sl.b)-len(sl.b) < len(s) {
		sl.b = make([]byte, 0, 32<<10)
	}
	i := len(sl.b)
	sl.b = append(sl.b, s...)
	return sl.b[i:len(sl.b):len(sl.b)]
}

func (sl *slab) mapFields(m pcommon.Map) event.Fields {
	f := sl.fields(m.Len())
	m.Range(func(k string, v pcommon.Value) bool {
		f = append(f, event.Field{Key: k, Value: sl.value(v)})
		return true
	})
	return f
}

// value converts an OTLP AnyValue. Bytes have no kind of their own in
// sluice: they become their standard base64 text, as in OTLP/JSON.
func (sl *slab) value(v pcommon.Value) event.Value {
	switch v.Type() {
	case pcommon.ValueTypeStr:
		return event.String(v.Str())
	case pcommon.ValueTypeInt:
		return event.Int(v.Int())
	case pcommon.ValueTypeDouble:
		return event.Float(v.Double())
	case pcommon.ValueTypeBool:
		return event.Bool(v.Bool())
	case pcommon.ValueTypeBytes:
		return event.String(base64.StdEncoding.EncodeToString(v.Bytes().AsRaw()))
	case pcommon.ValueTypeMap:
		return event.Object(sl.mapFields(v.Map()))
	case pcommon.ValueTypeSlice:
		s := v.Slice()
		a := make([]event.Value, s.Len())
		for i := range a {
			a[i] = sl.value(s.At(i))
		}
		return event.Array(a)
	}
	return event.Null()
}
