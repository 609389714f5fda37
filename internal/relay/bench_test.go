package relay

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/event"
)

// SampleEvents returns n events with 200-byte nginx-like messages.
func sampleEvents(n int) []event.Event {
	r := rand.New(rand.NewPCG(1, 2))
	paths := []string{"/api/v1/users", "/static/app.js", "/login", "/api/v1/orders/12345", "/healthz"}
	agents := []string{"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "curl/7.88.1", "Go-http-client/1.1"}
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	evs := make([]event.Event, n)
	for i := range evs {
		msg := fmt.Sprintf(`10.%d.%d.%d - - [22/Nov/2026:10:00:%02d +0000] "GET %s?id=%d HTTP/1.1" %d %d "-" "%s" rt=%.3f uid=%x`,
			r.IntN(256), r.IntN(256), r.IntN(256), i%60, paths[r.IntN(len(paths))], r.IntN(1e6),
			[]int{200, 200, 404, 500}[r.IntN(4)], r.IntN(50000), agents[r.IntN(3)], r.Float64(), r.Uint64())
		for len(msg) < 200 {
			msg += fmt.Sprintf(" %x", r.Uint32())
		}
		evs[i] = event.Event{Timestamp: t0.Add(time.Duration(i) * time.Millisecond), Host: "web-1",
			Stream: "/var/log/nginx/access.log", Message: []byte(msg[:200])}
	}
	return evs
}

func BenchmarkEncode(b *testing.B) {
	evs := sampleEvents(1000)
	var e Encoder
	buf := make([]byte, 0, 512<<10)
	b.ReportAllocs()
	b.SetBytes(200 * int64(len(evs)))
	for b.Loop() {
		e.Reset(buf[:0])
		for i := range evs {
			_ = e.Append(&evs[i])
		}
		buf = e.Bytes()
	}
}

func BenchmarkDecode(b *testing.B) {
	payload := encode(b, sampleEvents(1000))
	b.ReportAllocs()
	b.SetBytes(200 * 1000)
	for b.Loop() {
		if _, err := Decode(payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompress(b *testing.B) {
	payload := encode(b, sampleEvents(1000))
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	var out []byte
	for b.Loop() {
		out = Compress(out[:0], payload)
	}
	b.ReportMetric(float64(len(payload))/float64(len(out)), "ratio")
}

func BenchmarkDecompress(b *testing.B) {
	payload := encode(b, sampleEvents(1000))
	block := Compress(nil, payload)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, err := Decompress(block, len(payload)); err != nil {
			b.Fatal(err)
		}
	}
}
