package opentelemetry

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// BenchmarkWrite: batches of 1000 200-byte events with three fields, as
// OTLP/HTTP protobuf to a loopback server that discards them.
func BenchmarkWrite(b *testing.B) {
	for _, compression := range []string{"none", "gzip"} {
		b.Run(compression, func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
			}))
			defer srv.Close()
			cfg := testutil.NewConfig(b, func(c *Config) { c.URL, c.Compression = config.URL(srv.URL), compression })
			s, err := New(cfg, testutil.Deps(b, "bench"))
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = s.Close(b.Context()) }()
			batch := &event.Batch{}
			msg := []byte(strings.Repeat("x", 200))
			for range 1000 {
				batch.Events = append(batch.Events, event.Event{Timestamp: time.Now(), Host: "h1", Message: msg,
					Fields: event.Fields{{Key: "level", Value: event.String("info")}, {Key: "status", Value: event.Int(200)},
						{Key: "path", Value: event.String("/api/v1/items")}}})
			}
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Write(b.Context(), batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
