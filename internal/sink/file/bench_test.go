package file

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

func benchmarkWrite(b *testing.B, encoding, path string) {
	cfg := config0(filepath.Join(b.TempDir(), path))
	cfg.Encoding = encoding
	s := newSink(testutil.Validated(b, cfg), testutil.Deps(b, "bench"))
	defer func() {
		if err := s.Close(b.Context()); err != nil {
			b.Errorf("Close: %v", err)
		}
	}()
	bt := &event.Batch{Events: make([]event.Event, 1000)}
	size := 0
	for i := range bt.Events {
		bt.Events[i] = ev(fmt.Sprintf("s%d", i%4), fmt.Sprintf(`203.0.113.9 - - [07/Mar/2024:23:00:00 +0000] "GET /api/items/%d HTTP/1.1" 200 512 "-" "curl/8.5"`, i))
		bt.Events[i].Fields = event.Fields{{Key: "status", Value: event.Int(200)}, {Key: "path", Value: event.String("/api/items")}}
		size += len(bt.Events[i].Message) + 1
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Write(b.Context(), bt); err != nil {
			b.Fatal(err)
		}
	}
}

// SetBytes counts message bytes, so MB/s is comparable across encodings.
func BenchmarkWriteText(b *testing.B) { benchmarkWrite(b, "text", "out.log") }
func BenchmarkWriteJSON(b *testing.B) { benchmarkWrite(b, "json", "out.log") }
func BenchmarkWriteTextTemplated(b *testing.B) {
	benchmarkWrite(b, "text", "{{ .stream }}-%Y-%m-%d.log")
}
