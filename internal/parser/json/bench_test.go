package json

import (
	stdjson "encoding/json"
	"testing"

	"github.com/sluice-log/sluice/internal/event"
)

var benchLines = map[string]string{
	"flat":   `{"timestamp":"2024-01-02T03:04:05.123Z","level":"info","msg":"request done","status":200,"duration_ms":12.5,"path":"/api/v1/items","user":"bob","ok":true}`,
	"nested": `{"timestamp":"2024-01-02T03:04:05.123Z","level":"info","msg":"request done","status":200,"duration_ms":12.5,"path":"/api/v1/items","user":{"id":42,"name":"bob"},"tags":["a","b"]}`,
}

// BenchmarkParse measures parsing into a reused field slice.
func BenchmarkParse(b *testing.B) {
	for name, line := range benchLines {
		b.Run(name, func(b *testing.B) {
			in := []byte(line)
			var f event.Fields
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if f, err = Parse(f[:0], in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncodingJSON is the baseline: encoding/json into a map.
func BenchmarkEncodingJSON(b *testing.B) {
	for name, line := range benchLines {
		b.Run(name, func(b *testing.B) {
			in := []byte(line)
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				var m map[string]any
				if err := stdjson.Unmarshal(in, &m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
