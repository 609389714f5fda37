package logfmt

import (
	"testing"

	"github.com/sluice-log/sluice/internal/event"
)

// BenchmarkParse measures parsing a typical line into a reused field slice.
func BenchmarkParse(b *testing.B) {
	in := []byte(`ts=2024-01-02T03:04:05.123Z level=info msg="request done" status=200 duration=12.5ms path=/api/v1/items user=bob`)
	var f event.Fields
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if f, err = Parse(f[:0], in); err != nil {
			b.Fatal(err)
		}
	}
}
