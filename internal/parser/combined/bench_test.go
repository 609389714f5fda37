package combined

import (
	"testing"

	"github.com/sluice-log/sluice/internal/event"
)

// BenchmarkNginxCombined measures parsing one typical line into a reused
// field slice: the parser's own cost, without event plumbing.
func BenchmarkNginxCombined(b *testing.B) {
	line := []byte(nginxLine)
	f := make(event.Fields, 0, MaxFields)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if f, _, err = Parse(f[:0], line, Nginx); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseTime measures the hand-written time_local parser.
func BenchmarkParseTime(b *testing.B) {
	t := []byte("10/Oct/2023:13:55:36 -0700")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := ParseTime(t); !ok {
			b.Fatal("bad time")
		}
	}
}
