package config

import (
	"crypto/sha256"
	"encoding/hex"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/sluice-log/sluice/internal/component"
)

// RuleType is the sink type a metrics rule runs as (internal/metrics/rules).
const RuleType = "metrics_rule"

// RulePrefix starts the component ID of a metrics rule: metrics.<name>. A
// user's component name cannot contain a dot, so rule IDs never clash.
const RulePrefix = "metrics."

// RuleBufferEvents is a metrics rule's default buffer.max_events (a sink's
// is 10000).
const RuleBufferEvents = 1000

// Metrics is the top-level metrics section's global settings; its rules
// are in Config.Components as sinks of type metrics_rule.
type Metrics struct {
	// MaxSeries is the budget of series over all rules: once it is
	// reached, new series are refused, counted and logged. Default 100000.
	MaxSeries int `yaml:"max_series"`
	// Push sends the rules' series to graphite, statsd, collectd or a
	// remote_write endpoint every interval, one pusher per name.
	Push map[string]Pusher `yaml:"push"`
	// Listen, when set, serves /metrics on a listener of its own besides
	// the api's: host:port, or unix:///path for a unix socket. Default: none.
	Listen string `yaml:"listen"`
	// TLS enables HTTPS on that listener, as api.tls does.
	TLS ServerTLS `yaml:"tls"`
	// Auth protects that listener, as api.auth does.
	Auth Auth `yaml:"auth"`
}

// metricsSection is the shape of the metrics: section.
type metricsSection struct {
	MaxSeries int               `yaml:"max_series"`
	Listen    string            `yaml:"listen"`
	TLS       ServerTLS         `yaml:"tls"`
	Auth      Auth              `yaml:"auth"`
	Rules     []yaml.Node       `yaml:"rules"`
	Push      map[string]Pusher `yaml:"push"`
	Mtail     yaml.Node         `yaml:"mtail"`
}

// MtailType is the sink type metrics.mtail runs as (internal/mtail/mtailsink),
// with the ID MtailID.
const (
	MtailType = "mtail"
	MtailID   = "metrics.mtail"
)

// ruleKeys are the keys of a rule the loader handles as a sink's; the
// rest are the rule's own.
var ruleKeys = []string{"inputs", "buffer", "batch"}

// metrics decodes the metrics section and turns each rule into a sink.
func (p *parser) metrics(n *yaml.Node, cfg *Config) {
	var sec metricsSection
	if !p.section(n, &sec, "metrics") {
		return
	}
	if sec.MaxSeries < 0 {
		p.errorf(findKey(n, "max_series"), "metrics", "", "max_series: must not be negative")
	}
	cfg.Metrics.MaxSeries = sec.MaxSeries
	cfg.Metrics.Push = p.pushers(n, sec.Push)
	cfg.Metrics.Listen, cfg.Metrics.TLS, cfg.Metrics.Auth = sec.Listen, sec.TLS, sec.Auth
	if (sec.TLS.Enabled() || sec.Auth.Enabled()) && sec.Listen == "" {
		p.errorf(findKey(n, "listen"), "metrics", "set metrics.listen, or use api.tls and api.auth for the api's /metrics",
			"tls and auth apply to metrics.listen, which is not set")
	}
	seen := map[string]*yaml.Node{}
	first := len(cfg.Components)
	for i := range sec.Rules {
		r := &sec.Rules[i]
		name := findKey(r, "name")
		if r.Kind == yaml.MappingNode && name != r && name.Kind == yaml.ScalarNode {
			if first, dup := seen[name.Value]; dup {
				p.errorf(name, "metrics.rules."+name.Value, "rule names must be unique",
					"rule %q is also defined at line %d", name.Value, first.Line)
				continue
			}
			seen[name.Value] = name
		}
		if c := p.rule(r); c != nil {
			cfg.Components = append(cfg.Components, c)
		}
	}
	p.checkRuleNames(sec.Rules)
	shareRules(cfg.Components[first:])
	if r, dup := seen["mtail"]; dup && sec.Mtail.Kind != 0 {
		p.errorf(r, "metrics.rules.mtail", "rename the rule", "a rule named mtail would have the ID of the metrics.mtail section")
	} else if sec.Mtail.Kind != 0 {
		if c := p.metricsSink(&sec.Mtail, MtailID, MtailID, MtailType, "mtail programs"); c != nil {
			cfg.Components = append(cfg.Components, c)
		}
	}
}

// checkRuleNames rejects rule names that would make one exposition name
// two families: client_golang fails a whole scrape when a histogram x
// meets a metric named x_count, x_sum or x_bucket, and OpenMetrics names
// a counter x_total's family x.
func (p *parser) checkRuleNames(rules []yaml.Node) {
	byName := map[string]string{} // name -> type
	for i := range rules {
		if n := findKey(&rules[i], "name"); n != &rules[i] {
			byName[n.Value] = findKey(&rules[i], "type").Value
		}
	}
	for i := range rules {
		n := findKey(&rules[i], "name")
		if n == &rules[i] {
			continue
		}
		for _, suffix := range []string{"_count", "_sum", "_bucket", "_total"} {
			base, ok := strings.CutSuffix(n.Value, suffix)
			typ, exists := byName[base]
			if !ok || !exists || (suffix != "_total" && typ != "histogram") ||
				(suffix == "_total" && byName[n.Value] != "counter") {
				continue
			}
			p.errorf(n, "metrics.rules."+n.Value, "rename one of them",
				"name %q clashes with the %s rule %q in the exposition", n.Value, typ, base)
		}
	}
}

// rule decodes one rule as a sink of type metrics_rule.
func (p *parser) rule(n *yaml.Node) *Component {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "metrics.rules", "", "expected a mapping with at least `name:`, `type:` and `inputs:`, got a %s", kindName(n))
		return nil
	}
	ruleName := findKey(n, "name").Value
	name := "metrics.rules." + ruleName
	if ruleName == "" {
		name = "metrics.rules"
	}
	return p.metricsSink(n, name, RulePrefix+ruleName, RuleType, "metrics rules")
}

// metricsSink decodes a metrics entry (a rule, the mtail section) as a
// sink of type typ with ID id; name is where errors point.
func (p *parser) metricsSink(n *yaml.Node, name, id, typ, what string) *Component {
	c := p.sectionSink(n, name, id, typ, what, ruleKeys, fieldNode)
	if c == nil {
		return nil
	}
	if c.Buffer.MaxEvents == 0 && (c.Buffer.Type == "" || c.Buffer.Type == "memory") {
		// A rule never waits on a destination: a deep queue in front of it
		// only holds memory (10,000 events held ~30 MB in bench/metrics.sh).
		c.Buffer.MaxEvents = RuleBufferEvents
	}
	p.sinkDefaults(c, n, name)
	c.Hash = hashNode(n)
	return c
}

// sectionSink decodes n, a top-level section that is one sink of type typ
// with ID id (a metrics rule, the mtail section, drains): the keys in
// common (inputs, buffer, batch) as a sink's, the rest as the sink's own
// options, validated; errNode places a Validate error. The caller applies
// the sink defaults and the hash, after any of its own defaults. It
// returns nil when n is no mapping or typ is not compiled in.
func (p *parser) sectionSink(n *yaml.Node, name, id, typ, what string, keys []string, errNode func(*yaml.Node, string) *yaml.Node) *Component {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, name, "", "expected a mapping with at least `inputs:`, got a %s", kindName(n))
		return nil
	}
	spec, ok := component.Lookup(component.KindSink, typ)
	if !ok {
		p.errorf(n, name, "", "%s are not compiled into this binary", what)
		return nil
	}
	own, com := splitKeys(n, keys)
	var cm common
	before := len(p.errs)
	if err := com.Load(&cm, yaml.WithKnownFields()); err != nil {
		p.yamlError(err, reflect.TypeFor[common](), name)
	}
	opts := spec.NewConfig()
	if err := own.Load(opts, yaml.WithKnownFields()); err != nil {
		p.yamlError(err, reflect.TypeOf(opts).Elem(), name)
	}
	if v, ok := opts.(component.Validator); ok && len(p.errs) == before {
		if err := v.Validate(); err != nil {
			p.errorf(errNode(n, err.Error()), name, "", "%v", err)
		}
	}
	c := &Component{ID: id, Kind: component.KindSink, Type: typ, Options: opts,
		Line: n.Line, Col: n.Column, Buffer: cm.Buffer, Batch: cm.Batch, name: name}
	if len(p.errs) > before {
		p.failed[c.ID] = true
	}
	c.Inputs = p.inputs(&cm.Inputs, n, name)
	c.inLine, c.inCol = cm.Inputs.Line, cm.Inputs.Column
	return c
}

// ruleSharer is a metrics rule's options (internal/metrics/rules): rules
// with the same inputs and the same non-empty ShareKey (condition, field,
// regex) run their regex once per event for all of them.
type ruleSharer interface {
	ShareKey() string
	Share(members []any, i int)
}

// shareRules groups the rules that can share an evaluation and tells each
// its group. Every member's hash takes in the whole group's, so a reload
// that changes, adds or removes a member rebuilds the group's sinks.
func shareRules(rules []*Component) {
	groups := map[string][]*Component{}
	var keys []string
	for _, c := range rules {
		r, ok := c.Options.(ruleSharer)
		if !ok || r.ShareKey() == "" {
			continue
		}
		k := strings.Join(c.Inputs, "\x00") + "\x01" + r.ShareKey()
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], c)
	}
	for _, k := range keys {
		g := groups[k]
		if len(g) < 2 {
			continue
		}
		members := make([]any, len(g))
		hashes := make([]string, len(g))
		for i, c := range g {
			members[i], hashes[i] = c.Options, c.ID+"="+c.Hash
		}
		all := strings.Join(hashes, ",")
		for i, c := range g {
			c.Options.(ruleSharer).Share(members, i)
			sum := sha256.Sum256([]byte(c.Hash + " group " + all))
			c.Hash = hex.EncodeToString(sum[:8])
		}
	}
}
