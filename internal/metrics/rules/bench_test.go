package rules_test

import (
	"fmt"
	"testing"

	"github.com/sluice-log/sluice/internal/event"
)

// benchRule writes batches of 100 events whose series all exist to the
// rules of metrics and reports the time per event; allocs/op are per batch.
func benchRule(b *testing.B, metrics string, evs []event.Event) {
	h := newHarness(b, metrics)
	batch := make([]event.Event, 100)
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
