package relay

import (
	"testing"

	"github.com/sluice-log/sluice/internal/event/wire"
	"github.com/sluice-log/sluice/internal/testutil"
)

// benchPayload is the payload of 1000 200-byte access log events.
func benchPayload(b *testing.B) []byte {
	payload, err := wire.AppendBatch(nil, testutil.AccessLogEvents(1000))
	if err != nil {
		b.Fatal(err)
	}
	return payload
}

func BenchmarkCompress(b *testing.B) {
	payload := benchPayload(b)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	var out []byte
	for b.Loop() {
		out = Compress(out[:0], payload)
	}
	b.ReportMetric(float64(len(payload))/float64(len(out)), "ratio")
}

func BenchmarkDecompress(b *testing.B) {
	payload := benchPayload(b)
	block := Compress(nil, payload)
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		if _, err := Decompress(block, len(payload)); err != nil {
			b.Fatal(err)
		}
	}
}
