package rules_test

import (
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/metrics/rules"
	_ "github.com/sluice-log/sluice/internal/source/stdin"
	"github.com/sluice-log/sluice/internal/testutil"
)

func noEnv(string) (string, bool) { return "", false }

// parse loads a config of one stdin source "in" and the given metrics section.
func parse(t *testing.T, metrics string) (*config.Config, error) {
	t.Helper()
	return config.Parse("m.yaml", []byte("sources:\n  in: { type: stdin }\nmetrics:\n"+metrics), noEnv)
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, rules, want string
	}{
		{"unknown type", `
  rules:
    - { name: x, type: countr, inputs: [in] }`, "m.yaml:5:24: metrics.rules.x: type: unknown metric type \"countr\" (known: counter, gauge, histogram)"},
		{"bad metric name", `
  rules:
    - { name: 1x, type: counter, inputs: [in] }`, `m.yaml:5:15: metrics.rules.1x: name: "1x" is not a valid metric name`},
		{"reserved prefix", `
  rules:
    - { name: sluice_x, type: counter, inputs: [in] }`, `m.yaml:5:15: metrics.rules.sluice_x: name: "sluice_x": the sluice_ prefix is reserved`},
		{"bad label name", `
  rules:
    - name: x
      type: counter
      inputs: [in]
      labels: { "a-b": method }`, `m.yaml:8:15: metrics.rules.x: labels: "a-b" is not a valid label name`},
		{"bad regex", `
  rules:
    - name: x
      type: counter
      inputs: [in]
      regex: 'a(b'`, "m.yaml:8:14: metrics.rules.x: regex: error parsing regexp: missing closing )"},
		{"bad condition", `
  rules:
    - name: x
      type: counter
      inputs: [in]
      condition: 'status >='`, "m.yaml:8:18: metrics.rules.x: condition:"},
		{"bad template", `
  rules:
    - name: x
      type: counter
      inputs: [in]
      labels: { a: "{{ .x " }`, "m.yaml:8:15: metrics.rules.x: labels: a:"},
		{"gauge without value", `
  rules:
    - { name: x, type: gauge, inputs: [in] }`, "m.yaml:5:7: metrics.rules.x: value: required for a gauge"},
		{"gauge bad operation", `
  rules:
    - { name: x, type: gauge, inputs: [in], value: v, operation: mul }`, `m.yaml:5:66: metrics.rules.x: operation: unknown gauge operation "mul"`},
		{"counter buckets", `
  rules:
    - { name: x, type: counter, inputs: [in], buckets: [1, 2] }`, "m.yaml:5:56: metrics.rules.x: buckets: only histograms have buckets"},
		{"unsorted buckets", `
  rules:
    - { name: x, type: histogram, value: v, inputs: [in], buckets: [2, 1] }`, "buckets: bounds must be finite and increasing"},
		{"two bucket kinds", `
  rules:
    - name: x
      type: histogram
      value: v
      inputs: [in]
      buckets: [1]
      linear_buckets: { start: 0, width: 1, count: 3 }`, "buckets: set one of buckets"},
		{"bad exponential", `
  rules:
    - name: x
      type: histogram
      value: v
      inputs: [in]
      exponential_buckets: { start: 0, factor: 2, count: 3 }`, "m.yaml:9:28: metrics.rules.x: exponential_buckets: needs start > 0"},
		{"reset on scrape gauge", `
  rules:
    - { name: x, type: gauge, value: v, inputs: [in], reset_on_scrape: true }`, "reset_on_scrape: only counters"},
		{"negative counter constant", `
  rules:
    - { name: x, type: counter, value: -1, inputs: [in] }`, "value: a counter cannot add a negative number"},
		{"unknown key", `
  rules:
    - { name: x, type: counter, inputs: [in], lables: {} }`, `m.yaml:5:47: metrics.rules.x: unknown key "lables" (hint: did you mean "labels"?)`},
		{"missing inputs", `
  rules:
    - { name: x, type: counter }`, "m.yaml:5:7: metrics.rules.x: missing `inputs`"},
		{"dangling input", `
  rules:
    - { name: x, type: counter, inputs: [nope] }`, `metrics.rules.x: input "nope" is not a source or transform`},
		{"duplicate name", `
  rules:
    - { name: x, type: counter, inputs: [in] }
    - { name: x, type: gauge, inputs: [in], value: "1" }`, `m.yaml:6:15: metrics.rules.x: rule "x" is also defined at line 5`},
		{"histogram suffix clash", `
  rules:
    - { name: x, type: histogram, value: v, inputs: [in] }
    - { name: x_count, type: counter, inputs: [in] }`, `m.yaml:6:15: metrics.rules.x_count: name "x_count" clashes with the histogram rule "x" in the exposition`},
		{"openmetrics counter clash", `
  rules:
    - { name: x, type: gauge, value: v, inputs: [in] }
    - { name: x_total, type: counter, inputs: [in] }`, `m.yaml:6:15: metrics.rules.x_total: name "x_total" clashes with the gauge rule "x" in the exposition`},
		{"allow of an unknown label", `
  rules:
    - { name: x, type: counter, inputs: [in], labels: { a: b }, allow: { c: [d] } }`, `m.yaml:5:72: metrics.rules.x: allow: "c" is not one of the rule's labels`},
		{"empty deny list", `
  rules:
    - { name: x, type: counter, inputs: [in], labels: { a: b }, deny: { a: [] } }`, `metrics.rules.x: deny: a: list at least one value`},
		{"missing name", `
  rules:
    - { type: counter, inputs: [in] }`, "m.yaml:5:7: metrics.rules: name: required"},
		{"rule not a mapping", `
  rules: [ x ]`, "m.yaml:4:12: metrics.rules: expected a mapping"},
		{"negative global budget", `
  max_series: -1`, "m.yaml:4:15: metrics: max_series: must not be negative"},
		{"unknown metrics key", `
  rule: []`, `m.yaml:4:3: metrics: unknown key "rule"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parse(t, strings.TrimPrefix(tc.rules, "\n"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
		})
	}
}

func TestRuleAsSinkRefused(t *testing.T) {
	t.Parallel()
	_, err := config.Parse("m.yaml", []byte(`
sources:
  in: { type: stdin }
sinks:
  x: { type: metrics_rule, inputs: [in], name: x_total }
`), noEnv)
	want := "m.yaml:5:14: sinks.x: a metrics rule is not a sink of its own (hint: write it as an entry of metrics.rules (docs/metrics.md))"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("error:\n%v\nwant:\n%s", err, want)
	}
}

func TestCompile(t *testing.T) {
	t.Parallel()
	cfg, err := parse(t, `  max_series: 500
  rules:
    - name: http_requests_total
      type: counter
      inputs: ["*"]
      labels: { code: "{{ .status }}", method: method }
    - name: lat
      type: histogram
      value: took
      inputs: [in]
      exponential_buckets: { start: 0.001, factor: 10, count: 3 }
      expire_after: 0
`)
	if err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, 500, cfg.Metrics.MaxSeries)
	var got []string
	for _, c := range cfg.Components {
		if c.Type == config.RuleType {
			r := c.Options.(*rules.Config)
			got = append(got, c.ID+" "+c.Name()+" "+strings.Join(c.Inputs, ",")+" "+r.ExpireAfter.String())
		}
	}
	testutil.Diff(t, []string{
		"metrics.http_requests_total metrics.rules.http_requests_total in 10m0s",
		"metrics.lat metrics.rules.lat in 0s",
	}, got)
}
