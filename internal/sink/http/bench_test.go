package http

import (
	"fmt"
	"io"
	nethttp "net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

func benchmarkWrite(b *testing.B, edit func(*Config)) {
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer srv.Close()
	cfg := cfgFor(srv.URL)
	edit(cfg)
	s, err := newSink(testutil.Validated(b, cfg))
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := s.Close(b.Context()); err != nil {
			b.Errorf("Close: %v", err)
		}
	}()
	bt := &event.Batch{Events: make([]event.Event, 1000)}
	size := 0
	for i := range bt.Events {
		bt.Events[i] = event.Event{Timestamp: time.Unix(int64(i), 0), Host: "web1", Stream: "api",
			Message: []byte(fmt.Sprintf(`203.0.113.9 - - "GET /api/items/%d HTTP/1.1" 200 512 "-" "curl/8.5"`, i)),
			Fields:  event.Fields{{Key: "status", Value: event.Int(200)}}}
		size += len(bt.Events[i].Message)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Write(b.Context(), bt); err != nil {
			b.Fatal(err)
		}
	}
}

// SetBytes counts message bytes of the 1000-event batch.
func BenchmarkWriteNDJSON(b *testing.B) { benchmarkWrite(b, func(*Config) {}) }
func BenchmarkWriteGzip(b *testing.B)   { benchmarkWrite(b, func(c *Config) { c.Compression = "gzip" }) }
