package codec

import (
	"testing"

	"github.com/sluice-log/sluice/internal/event"
)

func benchEvent() event.Event {
	return event.Event{
		Timestamp: testTime, Host: "web-01.example.net", Stream: "/var/log/nginx/access.log",
		Message: []byte(`203.0.113.9 - - [06/May/2024:07:08:09 +0200] "GET /api/v1/items?id=42 HTTP/1.1" 200 512 "-" "curl/8.5"`),
		Fields: event.Fields{
			{Key: "status", Value: event.Int(200)},
			{Key: "method", Value: event.String("GET")},
			{Key: "path", Value: event.String("/api/v1/items")},
			{Key: "bytes", Value: event.Int(512)},
			{Key: "agent", Value: event.String("curl/8.5")},
		},
	}
}

func benchmarkEncoder(b *testing.B, enc Encoder) {
	ev := benchEvent()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		buf = enc.Encode(buf[:0], &ev)
		n = len(buf)
	}
	b.SetBytes(int64(n))
}

func BenchmarkJSON(b *testing.B)   { benchmarkEncoder(b, JSON) }
func BenchmarkText(b *testing.B)   { benchmarkEncoder(b, Text) }
func BenchmarkLogfmt(b *testing.B) { benchmarkEncoder(b, Logfmt) }

func TestEncodersDoNotAllocate(t *testing.T) {
	ev := benchEvent()
	ev.Fields = append(ev.Fields, event.Field{Key: "obj", Value: event.Object(event.Fields{{Key: "a", Value: event.Int(1)}})})
	buf := make([]byte, 0, 4096)
	for _, name := range []string{"json", "text", "logfmt"} {
		enc, _ := Lookup(name)
		if n := testing.AllocsPerRun(100, func() { buf = enc.Encode(buf[:0], &ev) }); n != 0 {
			t.Errorf("%s: %v allocations per event, want 0", name, n)
		}
	}
}
