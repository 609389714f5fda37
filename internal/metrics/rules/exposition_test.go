package rules_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluice-log/sluice/internal/testutil"
)

// TestExposition scrapes a rule's series through promhttp, in the
// Prometheus text format and in OpenMetrics, and checks the text exactly:
// label values with quotes, backslashes, newlines and invalid UTF-8.
func TestExposition(t *testing.T) {
	t.Parallel()
	h := newHarness(t, `  rules:
    - name: odd_total
      type: counter
      help: 'Odd "values", with a \ backslash.'
      inputs: [in]
      labels: { v: v }
    - name: reset_total
      type: counter
      inputs: [in]
      reset_on_scrape: true
`)
	h.write(t, ev("", "v", `a"b`), ev("", "v", `c\d`), ev("", "v", "e\nf"), ev("", "v", "g\xffh"), ev("", "v", "g\xfeh"))
	for _, tc := range []struct {
		name, accept, want string
	}{
		{"prometheus text", "text/plain", `# HELP odd_total Odd "values", with a \\ backslash.
# TYPE odd_total counter
odd_total{v="a\"b"} 1
odd_total{v="c\\d"} 1
odd_total{v="e\nf"} 1
odd_total{v="g\ufffdh"} 2
# HELP reset_total log-derived metric from rule reset_total
# TYPE reset_total gauge
reset_total 5
`},
		{"openmetrics", "application/openmetrics-text; version=1.0.0", `# HELP odd Odd \"values\", with a \\ backslash.
# TYPE odd counter
odd_total{v="a\"b"} 1.0
odd_total{v="c\\d"} 1.0
odd_total{v="e\nf"} 1.0
odd_total{v="g\ufffdh"} 2.0
# HELP reset_total log-derived metric from rule reset_total
# TYPE reset_total gauge
reset_total 0.0
`},
	} {
		// In order, not in parallel: the first scrape resets reset_total.
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/metrics", nil)
			req.Header.Set("Accept", tc.accept)
			promhttp.HandlerFor(h.reg, promhttp.HandlerOpts{EnableOpenMetrics: true}).ServeHTTP(rec, req)
			testutil.Diff(t, strings.ReplaceAll(tc.want, `\ufffd`, "\ufffd"), families(rec.Body.String()))
		})
	}
}

// families keeps the lines of the families odd and reset_total.
func families(text string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(text, "\n") {
		for _, p := range []string{"odd", "# HELP odd", "# TYPE odd", "reset_total", "# HELP reset_total", "# TYPE reset_total"} {
			if strings.HasPrefix(l, p) {
				b.WriteString(l)
				break
			}
		}
	}
	return b.String()
}
