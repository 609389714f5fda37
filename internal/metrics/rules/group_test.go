package rules_test

import (
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// groupRules: three rules over one regex (a group), one with another
// condition (on its own), one with a capture that is not always there.
const groupRules = `  rules:
    - { name: req_total, type: counter, inputs: [in], regex: '^(?P<m>[A-Z]+) (?P<s>\d+) ((?P<n>\d+)|-)$', labels: { method: m } }
    - { name: bytes_total, type: counter, inputs: [in], regex: '^(?P<m>[A-Z]+) (?P<s>\d+) ((?P<n>\d+)|-)$', value: n, labels: { status: s } }
    - { name: bad_total, type: counter, inputs: [in], regex: '^(?P<m>[A-Z]+) (?P<s>\d+) ((?P<n>\d+)|-)$', value: nope }
    - { name: post_total, type: counter, inputs: [in], regex: '^(?P<m>[A-Z]+) (?P<s>\d+) ((?P<n>\d+)|-)$', condition: 'zone == "a"' }
`

func groupEvents() []event.Event {
	return []event.Event{ev("GET 200 10", "zone", "a"), ev("GET 404 -", "zone", "b"), ev("POST 200 5", "zone", "a"), ev("junk", "zone", "a")}
}

// TestGroupSharesOneEvaluation: rules with the same inputs, condition and
// regex count each event once each, exactly as on their own, with their
// own skipped and error counters; a rule with another condition is not in
// the group.
func TestGroupSharesOneEvaluation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, groupRules)
	h.write(t, groupEvents()...)
	got := h.scrape(t, "text/plain", "req_total", "bytes_total", "bad_total", "post_total", "sluice_metrics_rule_skipped_total", "sluice_metrics_rule_errors_total")
	testutil.Diff(t, []string{
		`bytes_total{status="200"} 15`,
		`post_total 2`,
		`req_total{method="GET"} 2`,
		`req_total{method="POST"} 1`,
		`sluice_metrics_rule_errors_total{component_id="metrics.bad_total",component_kind="sink",component_type="metrics_rule",rule="bad_total"} 3`,
		`sluice_metrics_rule_skipped_total{component_id="metrics.bad_total",component_kind="sink",component_type="metrics_rule",rule="bad_total"} 1`,
		`sluice_metrics_rule_skipped_total{component_id="metrics.bytes_total",component_kind="sink",component_type="metrics_rule",rule="bytes_total"} 2`,
		`sluice_metrics_rule_skipped_total{component_id="metrics.post_total",component_kind="sink",component_type="metrics_rule",rule="post_total"} 2`,
		`sluice_metrics_rule_skipped_total{component_id="metrics.req_total",component_kind="sink",component_type="metrics_rule",rule="req_total"} 1`,
	}, got)
}

// TestGroupParallel: a batch large enough to be split across workers
// counts the same for every member.
func TestGroupParallel(t *testing.T) {
	t.Parallel()
	h := newHarness(t, groupRules)
	var evs []event.Event
	for range 1000 {
		evs = append(evs, groupEvents()...)
	}
	h.write(t, evs...)
	got := h.scrape(t, "text/plain", "req_total", "bytes_total", "post_total")
	testutil.Diff(t, []string{
		`bytes_total{status="200"} 15000`,
		`post_total 2000`,
		`req_total{method="GET"} 2000`,
		`req_total{method="POST"} 1000`,
	}, got)
}

// TestGroupHash: a member's hash takes in the group, so changing one rule
// rebuilds the others; a rule outside the group keeps its hash.
func TestGroupHash(t *testing.T) {
	t.Parallel()
	hashes := func(rules string) map[string]string {
		cfg, err := config.Parse("m.yaml", []byte("sources:\n  in: { type: stdin }\nmetrics:\n"+rules), noEnv)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, c := range cfg.Components {
			out[c.ID] = c.Hash
		}
		return out
	}
	a := hashes(groupRules)
	b := hashes(strings.Replace(groupRules, "labels: { status: s }", "labels: { code: s }", 1))
	for _, id := range []string{"metrics.req_total", "metrics.bytes_total", "metrics.bad_total"} {
		if a[id] == b[id] {
			t.Errorf("%s: hash unchanged when a member of its group changed", id)
		}
	}
	if a["metrics.post_total"] != b["metrics.post_total"] {
		t.Error("post_total (not in the group) changed hash")
	}
}
