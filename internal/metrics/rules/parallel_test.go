package rules_test

import (
	"fmt"
	"testing"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// TestParallelBatchCountsEveryEvent: a batch big enough to be split across
// workers counts, skips and fails exactly as one evaluated in order, and a
// gauge that sets still ends at the batch's last value.
func TestParallelBatchCountsEveryEvent(t *testing.T) {
	h := newHarness(t, `  rules:
    - { name: hits_total, type: counter, inputs: [in], regex: 'code=(?P<code>\d+)', labels: { code: code } }
    - { name: bytes, type: histogram, inputs: [in], regex: 'size=(?P<size>\S+)', value: size, buckets: [10, 100] }
    - { name: last_size, type: gauge, inputs: [in], regex: 'size=(?P<size>\d+)', value: size }
`)
	var evs []event.Event
	for i := range 3000 {
		size := fmt.Sprint(i % 150)
		if i%10 == 9 {
			size = "-" // an error for the histogram
		}
		evs = append(evs, ev(fmt.Sprintf("code=%d size=%s", 200+i%3, size)))
	}
	evs = append(evs, ev("no match"), ev("code=200 size=42"))
	h.write(t, evs...)
	testutil.Diff(t, []string{
		`bytes_bucket{le="10"} 200`,
		`bytes_bucket{le="100"} 1821`,
		`bytes_bucket{le="+Inf"} 2701`,
		`bytes_count 2701`,
		`hits_total{code="200"} 1001`,
		`hits_total{code="201"} 1000`,
		`hits_total{code="202"} 1000`,
		`last_size 42`,
		`sluice_metrics_rule_errors_total{component_id="metrics.bytes",component_kind="sink",component_type="metrics_rule",rule="bytes"} 300`,
		`sluice_metrics_rule_skipped_total{component_id="metrics.bytes",component_kind="sink",component_type="metrics_rule",rule="bytes"} 1`,
	}, h.scrape(t, "", "bytes_bucket", "bytes_count", "hits_total", "last_size", "sluice_metrics_rule_errors", "sluice_metrics_rule_skipped_total{component_id=\"metrics.bytes\""))
}
