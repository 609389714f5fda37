package wssink

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	wssource "github.com/sluice-log/sluice/internal/source/websocket"
)

// benchBatch returns n events with 200-byte access-log-like messages.
func benchBatch(n int) *event.Batch {
	r := rand.New(rand.NewPCG(7, 8))
	paths := []string{"/api/v1/users", "/static/app.js", "/login", "/api/v1/orders", "/healthz"}
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	b := &event.Batch{Events: make([]event.Event, n)}
	for i := range b.Events {
		msg := fmt.Sprintf(`10.%d.%d.%d - - [22/Nov/2026:10:00:%02d +0000] "GET %s?id=%d HTTP/1.1" %d %d "-" "Mozilla/5.0 (X11; Linux x86_64)" rt=%.3f`,
			r.IntN(256), r.IntN(256), r.IntN(256), i%60, paths[r.IntN(len(paths))], r.IntN(1e6),
			[]int{200, 200, 404, 500}[r.IntN(4)], r.IntN(50000), r.Float64())
		for len(msg) < 200 {
			msg += fmt.Sprintf(" %x", r.Uint32())
		}
		b.Events[i] = event.Event{Timestamp: t0.Add(time.Duration(i) * time.Millisecond), Host: "web-1",
			Stream: "nginx", Message: []byte(msg[:200])}
	}
	return b
}

// discard acknowledges every batch at once, like a pipeline whose sinks
// are instant.
func discard(_ context.Context, b *event.Batch) error {
	b.Ack.Release(ack.Delivered)
	return nil
}

// BenchmarkRelay measures one sink relaying 200-byte events to one source
// over loopback, each Write waiting for its receipt.
func BenchmarkRelay(b *testing.B) {
	p := newPKI(b)
	for _, tls := range []bool{false, true} {
		for _, compress := range []bool{false, true} {
			for _, size := range []int{1000, 5000} {
				name := fmt.Sprintf("tls=%v/compression=%v/batch=%d", tls, compress, size)
				b.Run(name, func(b *testing.B) { benchRelay(b, p, tls, compress, size) })
			}
		}
	}
}

func benchRelay(b *testing.B, p pki, tls, compress bool, size int) {
	rcv := startReceiver(b, "127.0.0.1:0", discard, func(c *wssource.Config) {
		if tls {
			c.TLS = config.ServerTLS{Cert: p.cert, Key: p.key}
		}
	})
	scheme := "ws"
	if tls {
		scheme = "wss"
	}
	s := newTestSink(b, scheme+"://"+rcv.addr+"/relay", func(c *Config) {
		c.Compression = compress
		if tls {
			c.TLS.CA = p.ca
		}
	})
	batch := benchBatch(size)
	b.ReportAllocs()
	b.SetBytes(200 * int64(size))
	for b.Loop() {
		if err := s.Write(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(size*b.N)/b.Elapsed().Seconds(), "events/s")
}
