package rules

import (
	"testing"

	"github.com/sluice-log/sluice/internal/config"
)

// TestLoaderGroupsRules: the config loader puts the rules with the same
// inputs, condition, field and regex in one group, in config order, and
// leaves the others alone.
func TestLoaderGroupsRules(t *testing.T) {
	t.Parallel()
	const re = `'^(?P<m>[A-Z]+) (?P<n>\d+)$'`
	cfg, err := config.Parse("m.yaml", []byte(`sources:
  in: { type: stdin }
  in2: { type: stdin }
metrics:
  rules:
    - { name: a_total, type: counter, inputs: [in], regex: `+re+` }
    - { name: b_total, type: counter, inputs: [in2], regex: `+re+` }
    - { name: c_total, type: counter, inputs: [in], regex: `+re+`, value: n }
    - { name: d_total, type: counter, inputs: [in], regex: `+re+`, condition: 'm == "GET"' }
    - { name: e_total, type: counter, inputs: [in], regex: `+re+`, field: other }
    - { name: f_total, type: counter, inputs: [in] }
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]*Config{}
	for _, c := range cfg.Components {
		if r, ok := c.Options.(*Config); ok {
			rules[r.Name] = r
		}
	}
	a, c := rules["a_total"], rules["c_total"]
	if a.group == nil || a.group != c.group || a.pos != 0 || c.pos != 1 || len(a.group.members) != 2 {
		t.Fatalf("a_total and c_total are not one group: %+v %+v", a.group, c.group)
	}
	for _, n := range []string{"b_total", "d_total", "e_total", "f_total"} {
		if rules[n].group != nil {
			t.Errorf("%s is in a group", n)
		}
	}
}
