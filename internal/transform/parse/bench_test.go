package parse

import (
	"context"
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

const batchSize = 1000

// benchProcess runs batches of one repeated line through a transform and
// reports the cost per line, including filling event fields.
func benchProcess(b *testing.B, c Config, line string) {
	b.Helper()
	tr, err := New(testutil.Validated(b, &c), testutil.Deps(b, "bench"))
	if err != nil {
		b.Fatal(err)
	}
	evs := make([]event.Event, batchSize)
	batch := &event.Batch{}
	var out component.Output = func(context.Context, string, *event.Batch) error { return nil }
	msg := []byte(line)
	b.SetBytes(int64(len(line)) * batchSize)
	b.ReportAllocs()
	for b.Loop() {
		for i := range evs {
			evs[i] = event.Event{Message: msg}
		}
		batch.Events = evs
		if err := tr.Process(context.Background(), batch, out); err != nil {
			b.Fatal(err)
		}
		if len(batch.Events) != batchSize || len(batch.Events[0].Fields) == 0 {
			b.Fatal("events were not parsed")
		}
	}
	perLine := float64(b.Elapsed().Nanoseconds()) / float64(b.N*batchSize)
	b.ReportMetric(perLine, "ns/line")
	b.ReportMetric(1e9/perLine, "lines/s")
}

func BenchmarkProcessNginxCombined(b *testing.B) {
	benchProcess(b, cfg("nginx_combined"),
		`203.0.113.7 - alice [10/Oct/2023:13:55:36 -0700] "GET /index.html?q=1 HTTP/1.1" 200 2326 "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64)"`)
}

func BenchmarkProcessJSON(b *testing.B) {
	benchProcess(b, cfg("json"),
		`{"timestamp":"2024-01-02T03:04:05.123Z","level":"info","msg":"request done","status":200,"duration_ms":12.5,"path":"/api/v1/items","user":{"id":42,"name":"bob"},"tags":["a","b"]}`)
}

func BenchmarkProcessLogfmt(b *testing.B) {
	benchProcess(b, cfg("logfmt"),
		`ts=2024-01-02T03:04:05.123Z level=info msg="request done" status=200 duration=12.5ms path=/api/v1/items user=bob`)
}

func BenchmarkProcessRegex(b *testing.B) {
	benchProcess(b, cfg("regex", func(c *Config) {
		c.Pattern = `^(?P<client>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<method>\S+) (?P<path>\S+) (?P<proto>[^"]+)" (?P<status>\d+) (?P<size>\d+)`
	}), `203.0.113.7 - alice [10/Oct/2023:13:55:36 -0700] "GET /index.html?q=1 HTTP/1.1" 200 2326 "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64)"`)
}

func BenchmarkProcessGrok(b *testing.B) {
	benchProcess(b, cfg("grok", func(c *Config) { c.Pattern = `^%{COMBINEDAPACHELOG}` }),
		`203.0.113.7 - alice [10/Oct/2023:13:55:36 -0700] "GET /index.html?q=1 HTTP/1.1" 200 2326 "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64)"`)
}
