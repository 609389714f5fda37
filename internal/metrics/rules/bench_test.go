package rules_test

import (
	"fmt"
	"testing"

	"github.com/sluice-log/sluice/internal/event"
)

// benchRule writes batches of 100 events whose series all exist to the
// rules of metrics and reports the time per event; allocs/op are per batch.
func benchRule(b *testing.B, metrics string, evs []event.Event) {
	benchRuleBatch(b, metrics, evs, 100)
}

// benchRuleBatch is benchRule with batches of n events: from 512 on, a
// rule with a regex or a condition splits them across cores.
func benchRuleBatch(b *testing.B, metrics string, evs []event.Event, n int) {
	h := newHarness(b, metrics)
	batch := make([]event.Event, n)
	for i := range batch {
		batch[i] = evs[i%len(evs)]
	}
	h.write(b, batch...) // create the series
	bt := &event.Batch{Events: batch}
	b.ReportAllocs()
	for b.Loop() {
		for _, s := range h.sinks {
			if err := s.Write(b.Context(), bt); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/event")
}

func accessEvents() []event.Event {
	var out []event.Event
	for i, m := range []string{"GET", "POST", "GET", "HEAD"} {
		out = append(out, ev("", "status", int64(200+i), "method", m, "body_bytes_sent", int64(100*i+1), "path", fmt.Sprintf("/p%d", i)))
	}
	return out
}

func BenchmarkCounterTemplateLabels(b *testing.B) {
	benchRule(b, `  rules:
    - { name: http_requests_total, type: counter, inputs: [in], labels: { code: "{{ .status }}", method: "{{ .method }}" } }
`, accessEvents())
}

func BenchmarkCounterFieldLabels(b *testing.B) {
	benchRule(b, `  rules:
    - { name: http_requests_total, type: counter, inputs: [in], labels: { code: status, method: method } }
`, accessEvents())
}

func BenchmarkHistogramFieldValue(b *testing.B) {
	benchRule(b, `  rules:
    - { name: bytes, type: histogram, inputs: [in], value: body_bytes_sent, labels: { method: method }, exponential_buckets: { start: 1, factor: 4, count: 10 } }
`, accessEvents())
}

func BenchmarkCondition(b *testing.B) {
	benchRule(b, `  rules:
    - { name: errors_total, type: counter, inputs: [in], condition: "status >= 201", labels: { code: status } }
`, accessEvents())
}

func BenchmarkRegexCaptures(b *testing.B) {
	benchRule(b, `  rules:
    - name: ssh_failed_logins_total
      type: counter
      inputs: [in]
      regex: 'Failed password for \S+ from (?P<ip>[0-9.]+)'
      labels: { ip: ip }
`, []event.Event{ev("Failed password for root from 10.0.0.1 port 22 ssh2"), ev("Failed password for admin from 10.0.0.2 port 22 ssh2")})
}

// apacheLines are Apache combined lines as bench/genapache writes them.
func apacheLines() []event.Event {
	return []event.Event{
		ev(`10.0.1.162 - bob [01/Jan/2026:00:00:00 +0000] "GET /static/app.js HTTP/1.0" 502 57773 "http://localhost:8080/" "curl/7.88.1"`),
		ev(`10.0.10.8 - - [01/Jan/2026:00:00:00 +0000] "OPTIONS /healthz HTTP/2.0" 200 28244 "-" "python-requests/2.31.0"`),
		ev(`10.0.1.229 - - [01/Jan/2026:00:00:00 +0000] "DELETE /api/v1/users HTTP/1.1" 404 - "https://example.org/blog/2026/11/metrics" "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"`),
	}
}

// BenchmarkRegexPrefilterSkips: a regex whose literal is in no line (most
// of the rules, for most lines, when there are many): the prefilter skips
// the line without running the regex.
func BenchmarkRegexPrefilterSkips(b *testing.B) {
	benchRule(b, `  rules:
    - { name: orders_total, type: counter, inputs: [in], regex: '"(POST|PUT) \/api\/v1\/orders\/\d+' }
`, apacheLines())
}

// BenchmarkRegexNoCapture: a matching regex whose captures nothing uses:
// Match instead of FindSubmatchIndex.
func BenchmarkRegexNoCapture(b *testing.B) {
	benchRule(b, `  rules:
    - { name: requests_total, type: counter, inputs: [in], regex: '" [1-5]\d\d (\d+|-) ' }
`, apacheLines())
}

// BenchmarkRegexCapturesBatch1000: mtail's Apache regex as a rule with
// three capture labels, on batches of 1000 (the pipeline's default), which
// are split across the cores (-cpu 1,2 shows the difference).
func BenchmarkRegexCapturesBatch1000(b *testing.B) {
	benchRuleBatch(b, `  rules:
    - name: apache_http_requests_total
      type: counter
      inputs: [in]
      regex: '^(?P<hostname>[0-9A-Za-z\.:-]+) (?P<remote_logname>[0-9A-Za-z-]+) (?P<remote_username>[0-9A-Za-z-]+) \[(?P<timestamp>\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} (\+|-)\d{4})\] "(?P<request_method>[A-Z]+) (?P<URI>\S+) (?P<http_version>HTTP\/[0-9\.]+)" (?P<request_status>\d{3}) ((?P<response_size>\d+)|-) "(?P<referer>\S+)" "(?P<user_agent>[[:print:]]+)"$'
      labels: { request_method: request_method, http_version: http_version, request_status: request_status }
`, apacheLines(), 1000)
}

// BenchmarkGroupTwoRulesBatch1000: bench/metrics.sh case b, mtail's
// two counters as two rules over its regex, which share one evaluation
// (group.go): compare with BenchmarkRegexCapturesBatch1000's one rule.
func BenchmarkGroupTwoRulesBatch1000(b *testing.B) {
	benchRuleBatch(b, `  rules:
    - name: apache_http_requests_total
      type: counter
      inputs: [in]
      regex: '^(?P<hostname>[0-9A-Za-z\.:-]+) (?P<remote_logname>[0-9A-Za-z-]+) (?P<remote_username>[0-9A-Za-z-]+) \[(?P<timestamp>\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} (\+|-)\d{4})\] "(?P<request_method>[A-Z]+) (?P<URI>\S+) (?P<http_version>HTTP\/[0-9\.]+)" (?P<request_status>\d{3}) ((?P<response_size>\d+)|-) "(?P<referer>\S+)" "(?P<user_agent>[[:print:]]+)"$'
      labels: { request_method: request_method, http_version: http_version, request_status: request_status }
    - name: apache_http_bytes_total
      type: counter
      inputs: [in]
      regex: '^(?P<hostname>[0-9A-Za-z\.:-]+) (?P<remote_logname>[0-9A-Za-z-]+) (?P<remote_username>[0-9A-Za-z-]+) \[(?P<timestamp>\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} (\+|-)\d{4})\] "(?P<request_method>[A-Z]+) (?P<URI>\S+) (?P<http_version>HTTP\/[0-9\.]+)" (?P<request_status>\d{3}) ((?P<response_size>\d+)|-) "(?P<referer>\S+)" "(?P<user_agent>[[:print:]]+)"$'
      value: response_size
      labels: { request_method: request_method, http_version: http_version, request_status: request_status }
`, apacheLines(), 1000)
}

// TestNoAllocsForExistingSeries guards what the benchmarks show: counting
// into series that exist allocates nothing, for rules without a regex.
func TestNoAllocsForExistingSeries(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	h := newHarness(t, `  rules:
    - { name: a_total, type: counter, inputs: [in], labels: { code: "{{ .status }}", method: method }, allow: { method: [GET] } }
    - { name: b, type: histogram, inputs: [in], value: body_bytes_sent, condition: "status >= 200", labels: { p: path } }
    - { name: c, type: gauge, inputs: [in], value: status, operation: sub }
`)
	bt := &event.Batch{Events: accessEvents()}
	h.write(t, bt.Events...)
	allocs := testing.AllocsPerRun(100, func() {
		for _, s := range h.sinks {
			if err := s.Write(t.Context(), bt); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per batch, want 0", allocs)
	}
}
