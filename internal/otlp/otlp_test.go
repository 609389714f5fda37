package otlp

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

func sample(t testing.TB) plog.Logs {
	t.Helper()
	data, err := os.ReadFile("testdata/records.json")
	if err != nil {
		t.Fatal(err)
	}
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalJSON(data); err != nil {
		t.Fatal(err)
	}
	return req.Logs()
}

// Structural returns ld as plain JSON values, for comparisons.
func structural(t testing.TB, ld plog.Logs) any {
	t.Helper()
	b, err := (&plog.JSONMarshaler{}).MarshalLogs(ld)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestRoundTrip: records decoded into events and encoded back are equal,
// every attribute, severity, id, timestamp and body included.
func TestRoundTrip(t *testing.T) {
	in := sample(t)
	d := Decoder{Stream: "otel"}
	events := d.Append(nil, in, time.Now())
	if len(events) != in.LogRecordCount() {
		t.Fatalf("%d events for %d records", len(events), in.LogRecordCount())
	}
	var c Encoder
	testutil.Diff(t, structural(t, in), structural(t, c.Encode(events)))
	// Twice: the encoder's reused state must not leak between batches.
	testutil.Diff(t, structural(t, in), structural(t, c.Encode(events)))
}

// TestEventShape pins the documented mapping of one record.
func TestEventShape(t *testing.T) {
	events := (&Decoder{Stream: "otel"}).Append(nil, sample(t), time.Now())
	e := events[0]
	if e.Host != "web-1" || e.Stream != "otel" || string(e.Message) != "GET /cart 200" {
		t.Fatalf("host %q stream %q message %q", e.Host, e.Stream, e.Message)
	}
	if want := time.Unix(0, 1764990000123456789).UTC(); !e.Timestamp.Equal(want) {
		t.Fatalf("timestamp %v, want %v", e.Timestamp, want)
	}
	for name, want := range map[string]any{
		"resource.service.name":       "checkout",
		"scope.name":                  "checkout.http",
		"scope.version":               "1.4.2",
		"attributes.http.status_code": int64(200),
		"attributes.user.tier":        "gold",
		"severity_number":             int64(9),
		"severity_text":               "INFO",
		"trace_id":                    "5b8efff798038103d269b633813fc60c",
		"span_id":                     "eee19b7ec3c1b174",
		"trace_flags":                 int64(1),
	} {
		v, ok := e.Get(name)
		if !ok || v.Any() != want {
			t.Errorf("%s = %v (%v), want %v", name, v.Any(), ok, want)
		}
	}
	// A structured body is kept whole and shown as JSON in the message.
	b := events[1]
	if v, ok := b.Get("body.reason"); !ok || v.Str() != "card declined" {
		t.Errorf("body.reason = %v", v.Any())
	}
	if string(b.Message) != `{"reason":"card declined","amount":12.5,"items":[1,3]}` {
		t.Errorf("message %s", b.Message)
	}
}

// TestForeignEvents: events from other sources become records with their
// message as body, their host as host.name and their fields as attributes.
func TestForeignEvents(t *testing.T) {
	ts := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	events := []event.Event{
		{Timestamp: ts, Host: "a", Message: []byte("one"), Fields: event.Fields{{Key: "level", Value: event.String("info")}}},
		{Timestamp: ts, Host: "b", Message: []byte("two")},
		{Timestamp: ts, Host: "a", Message: []byte("three"), Fields: event.Fields{{Key: "trace_id", Value: event.String("zz")}}},
	}
	var c Encoder
	ld := c.Encode(events)
	if ld.ResourceLogs().Len() != 2 {
		t.Fatalf("%d resources, want 2 (hosts a and b)", ld.ResourceLogs().Len())
	}
	lrs := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	if lrs.Len() != 2 || lrs.At(1).Body().Str() != "three" {
		t.Fatalf("host a's records: %d", lrs.Len())
	}
	if v, _ := lrs.At(0).Attributes().Get("level"); v.Str() != "info" {
		t.Errorf("level attribute %q", v.Str())
	}
	if c.Invalid != 1 {
		t.Errorf("invalid ids %d, want 1", c.Invalid)
	}
}

func BenchmarkDecode(b *testing.B) {
	ld := bigLogs(100)
	d := Decoder{Stream: "otel"}
	now := time.Now()
	buf := make([]event.Event, 0, 100)
	b.ReportAllocs()
	for b.Loop() {
		buf = d.Append(buf[:0], ld, now)
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkEncode(b *testing.B) {
	events := (&Decoder{}).Append(nil, bigLogs(100), time.Now())
	var c Encoder
	b.ReportAllocs()
	for b.Loop() {
		req := plogotlp.NewExportRequestFromLogs(c.Encode(events))
		if _, err := req.MarshalProto(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "records/s")
}

// bigLogs is n typical records: a 200-byte body, three attributes, one
// resource and scope.
func bigLogs(n int) plog.Logs {
	ld := plog.NewLogs()
	rl := ld.ResourceLogs().AppendEmpty()
	rl.Resource().Attributes().PutStr("service.name", "bench")
	rl.Resource().Attributes().PutStr("host.name", "h1")
	sl := rl.ScopeLogs().AppendEmpty()
	sl.Scope().SetName("bench")
	for i := range n {
		lr := sl.LogRecords().AppendEmpty()
		lr.SetTimestamp(pcommon.Timestamp(1764990000000000000 + i))
		lr.SetSeverityNumber(plog.SeverityNumberInfo)
		lr.SetSeverityText("INFO")
		lr.Body().SetStr("127.0.0.1 - - [06/Dec/2026:05:00:00 +0000] \"GET /api/v1/items?page=2 HTTP/1.1\" 200 5123 \"-\" \"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\" rt=0.012 uct=0.001")
		lr.Attributes().PutStr("http.method", "GET")
		lr.Attributes().PutInt("http.status_code", 200)
		lr.Attributes().PutStr("http.route", "/api/v1/items")
	}
	return ld
}
