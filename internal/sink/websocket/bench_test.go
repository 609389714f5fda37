package wssink

import (
	"context"
	"fmt"
	"testing"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	wssource "github.com/sluice-log/sluice/internal/source/websocket"
	"github.com/sluice-log/sluice/internal/testutil"
)

// benchBatch returns n events with 200-byte access-log-like messages.
func benchBatch(n int) *event.Batch {
	return &event.Batch{Events: testutil.AccessLogEvents(n)}
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
