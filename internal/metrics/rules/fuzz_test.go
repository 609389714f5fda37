package rules_test

import (
	"testing"

	"github.com/sluice-log/sluice/internal/event"
)

// FuzzEvaluate feeds rules random messages and field values: evaluation
// never panics and the exposition stays valid (a scrape that fails would
// fail /metrics as a whole).
func FuzzEvaluate(f *testing.F) {
	for _, s := range [][3]string{
		{`took=0.5 user="a\"b" path=/x`, "GET", "200"},
		{"took=- user= path=", "", "-"},
		{"took=1e309 user=\xff\xfe path=\n", "G\x00T", "NaN"},
		{"", "__overflow__", "+Inf"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, msg, method, status string) {
		h := newHarness(t, `  max_series: 20
  rules:
    - name: took_seconds
      type: histogram
      inputs: [in]
      regex: 'took=(?P<took>\S*) user=(?P<user>\S*)'
      value: took
      labels: { user: user, method: method }
      max_series: 5
    - { name: requests_total, type: counter, inputs: [in], labels: { code: "{{ .status }}", m: "{{ .method | lower }}" } }
    - { name: level, type: gauge, inputs: [in], value: status, operation: add, labels: { msg: message } }
    - { name: since_total, type: counter, inputs: [in], condition: 'status startsWith "2"', reset_on_scrape: true }
`)
		e := event.Event{Message: []byte(msg)}
		e.Fields.Set("method", event.String(method))
		e.Fields.Set("status", event.String(status))
		h.write(t, e, e)
		h.scrape(t, "")
		h.scrape(t, "application/openmetrics-text; version=1.0.0")
	})
}
