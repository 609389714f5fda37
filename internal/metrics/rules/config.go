package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/expr"
	"github.com/sluice-log/sluice/internal/metrics/store"
	"github.com/sluice-log/sluice/internal/template"
)

// DefaultExpireAfter is expire_after when a rule does not set it.
const DefaultExpireAfter = 10 * time.Minute

// Config is one entry of metrics.rules. Besides these keys a rule takes
// `inputs` (required), `buffer` and `batch`, as a sink does.
type Config struct {
	// Name is the metric's name, a valid Prometheus metric name not starting
	// with sluice_; unique among the rules. Required.
	Name string `yaml:"name"`
	// Type is the metric type: counter, gauge or histogram. Required.
	Type string `yaml:"type"`
	// Help is the metric's HELP text. Default: "log-derived metric from rule <name>".
	Help string `yaml:"help"`
	// Condition is an expression (docs/expressions.md), as in the filter
	// transform: only events for which it is true count. Default: every event.
	Condition string `yaml:"condition"`
	// Regex is matched against `field`; an event it does not match is
	// skipped. Its named captures can be used in value and labels.
	Regex string `yaml:"regex"`
	// Field is the field or attribute the regex is matched against. Default message.
	Field string `yaml:"field"`
	// Value is what is added, set or observed: a constant number, else a
	// regex capture of that name, else a field of that name. Default 1 for counters (count the
	// events); required for gauges and histograms.
	Value string `yaml:"value"`
	// Operation is what a gauge does with the value: set (default), add or sub.
	Operation string `yaml:"operation"`
	// Labels maps label names to their values: a template such as
	// "{{ .status }}" (over the event's fields), or a plain name, which is a
	// regex capture of that name if there is one, else a field.
	Labels map[string]string `yaml:"labels"`
	// Allow lists, per label, the values kept as they are: any other value
	// of that label becomes __other__, so a label fed by outside input
	// (an HTTP method, a country code) has a bounded set of values.
	Allow map[string][]string `yaml:"allow"`
	// Deny lists, per label, values that are never kept as they are: they
	// become __other__ (say, user names that must not reach Prometheus).
	Deny map[string][]string `yaml:"deny"`
	// Buckets are a histogram's upper bounds, increasing. Default, unless
	// exponential_buckets or linear_buckets is set: Prometheus' default
	// buckets (.005 to 10).
	Buckets []float64 `yaml:"buckets"`
	// ExponentialBuckets generates a histogram's bounds, {start, factor,
	// count}: start, start*factor, start*factor², ... (count bounds).
	ExponentialBuckets *ExponentialBuckets `yaml:"exponential_buckets"`
	// LinearBuckets generates a histogram's bounds, {start, width, count}:
	// start, start+width, start+2*width, ... (count bounds).
	LinearBuckets *LinearBuckets `yaml:"linear_buckets"`
	// MaxSeries bounds this rule's label sets: events with a new label set
	// beyond it count in one overflow series whose labels are all
	// __overflow__. Default 0: bounded only by metrics.max_series.
	MaxSeries int `yaml:"max_series"`
	// ExpireAfter removes a series that has not been updated for this
	// long. Default 10m; 0 keeps series for ever.
	ExpireAfter config.Duration `yaml:"expire_after"`
	// ResetOnScrape zeroes the rule's series after each scrape of /metrics,
	// so each scrape sees the count since the previous one (counters only;
	// exposed as a gauge). Use it with a single scraper. Default false.
	ResetOnScrape bool `yaml:"reset_on_scrape"`
	// Exemplar maps exemplar label names to their values, given as labels'
	// are (a field, a capture or a template), e.g. { trace_id: trace_id }.
	// Counters and histograms only: each series (each bucket of a
	// histogram) keeps the exemplar of the latest event that had one, shown
	// in OpenMetrics and protobuf scrapes. Default: none.
	Exemplar map[string]string `yaml:"exemplar"`
	// Timestamp exposes each sample with the time of the newest event that
	// updated its series (mtail's --emit_metric_timestamp); not with
	// reset_on_scrape. Default false:
	// Prometheus stamps samples with the scrape's time.
	Timestamp bool `yaml:"timestamp"`
	// Unit is the OpenMetrics unit (seconds, bytes, ...); the name must end
	// with _<unit> (counters: _<unit>_total). Default: none.
	Unit string `yaml:"unit"`
	// Native makes a histogram native (sparse, exponential buckets), exposed
	// in the protobuf format Prometheus scrapes with
	// --enable-feature=native-histograms; classic buckets are exposed too
	// when buckets, exponential_buckets or linear_buckets are set.
	// Default false.
	Native bool `yaml:"native"`
	// NativeFactor is the most one native bucket may be wider than the one
	// below it, > 1 (the resolution is a power of two close to it).
	// Default 1.1.
	NativeFactor float64 `yaml:"native_factor"`
	// NativeMaxBuckets bounds the native buckets of a series (per sign,
	// from the lowest used to the highest); beyond it the resolution is
	// halved. Default 160.
	NativeMaxBuckets int `yaml:"native_max_buckets"`

	compiled *rule // built by Validate
	// group and pos: the rules sharing this one's evaluation (group.go)
	group *group
	pos   int
}

// ExponentialBuckets describes Count bounds from Start, each Factor times
// the previous one.
type ExponentialBuckets struct {
	// Start is the first upper bound, > 0.
	Start float64 `yaml:"start"`
	// Factor multiplies each bound to get the next, > 1.
	Factor float64 `yaml:"factor"`
	// Count is the number of bounds, >= 1.
	Count int `yaml:"count"`
}

// LinearBuckets describes Count bounds from Start, Width apart.
type LinearBuckets struct {
	// Start is the first upper bound.
	Start float64 `yaml:"start"`
	// Width is the distance between bounds, > 0.
	Width float64 `yaml:"width"`
	// Count is the number of bounds, >= 1.
	Count int `yaml:"count"`
}

// Defaults implements component.Defaulter.
func (c *Config) Defaults() {
	c.Field = event.KeyMessage
	c.ExpireAfter = config.Duration(DefaultExpireAfter)
}

var (
	metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
	labelName  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
)

// Validate checks the rule and compiles its condition, regex, value and
// labels, keeping them for New.
func (c *Config) Validate() error {
	r, err := c.compile()
	c.compiled = r
	return err
}

func (c *Config) compile() (*rule, error) {
	r := &rule{field: c.Field}
	if err := c.checkName(); err != nil {
		return nil, err
	}
	kind, err := c.kind()
	if err != nil {
		return nil, err
	}
	if err := c.compileMatch(r); err != nil {
		return nil, err
	}
	if err := c.compileValue(r, kind); err != nil {
		return nil, err
	}
	buckets, err := c.buckets(kind)
	if err != nil {
		return nil, err
	}
	labels, err := c.compileLabels(r)
	if err != nil {
		return nil, err
	}
	if c.MaxSeries < 0 {
		return nil, errors.New("max_series: must not be negative")
	}
	if c.ResetOnScrape && kind != store.Counter {
		return nil, errors.New("reset_on_scrape: only counters can reset on scrape")
	}
	help := c.Help
	if help == "" {
		help = "log-derived metric from rule " + c.Name
	}
	r.opts = store.Options{Name: c.Name, Help: help, Kind: kind, Labels: labels, Buckets: buckets,
		MaxSeries: c.MaxSeries, ExpireAfter: c.ExpireAfter.D(), ResetOnScrape: c.ResetOnScrape}
	if err := c.compileExposition(r, kind); err != nil {
		return nil, err
	}
	r.opts.Hash = c.hash()
	r.prepare()
	return r, nil
}

func (c *Config) checkName() error {
	switch {
	case c.Name == "":
		return errors.New("name: required, e.g. name: http_requests_total")
	case !metricName.MatchString(c.Name):
		return fmt.Errorf("name: %q is not a valid metric name (letters, digits, _ and :, not starting with a digit)", c.Name)
	}
	for _, p := range []string{"sluice_", "go_", "process_", "promhttp_"} {
		if strings.HasPrefix(c.Name, p) {
			return fmt.Errorf("name: %q: the %s prefix is reserved for sluice's own metrics", c.Name, p)
		}
	}
	return nil
}

func (c *Config) kind() (store.Kind, error) {
	switch c.Type {
	case "counter":
		return store.Counter, nil
	case "gauge":
		return store.Gauge, nil
	case "histogram":
		return store.Histogram, nil
	case "":
		return 0, errors.New("type: required: counter, gauge or histogram")
	}
	return 0, fmt.Errorf("type: unknown metric type %q (known: counter, gauge, histogram)", c.Type)
}

func (c *Config) compileMatch(r *rule) error {
	if c.Condition != "" {
		p, err := expr.CompileCondition(c.Condition)
		if err != nil {
			return fmt.Errorf("condition: %w", err)
		}
		r.cond = p
	}
	if c.Regex != "" {
		re, err := regexp.Compile(c.Regex)
		if err != nil {
			return fmt.Errorf("regex: %w", err)
		}
		r.re = re
	}
	if c.Field == "" {
		return errors.New("field: must not be empty (default message)")
	}
	return nil
}

func (c *Config) compileValue(r *rule, kind store.Kind) error {
	r.op = opAdd
	switch kind {
	case store.Gauge:
		switch c.Operation {
		case "", "set":
			r.op = opSet
		case "add":
		case "sub":
			r.op = opSub
		default:
			return fmt.Errorf("operation: unknown gauge operation %q (known: set, add, sub)", c.Operation)
		}
	case store.Histogram:
		r.op = opObserve
		fallthrough
	default:
		if c.Operation != "" {
			return errors.New("operation: only gauges have an operation")
		}
	}
	v := c.Value
	if v == "" {
		if kind != store.Counter {
			return fmt.Errorf("value: required for a %s: a capture, a field or a number", c.Type)
		}
		v = "1"
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if kind == store.Counter && f < 0 {
			return errors.New("value: a counter cannot add a negative number")
		}
		r.value = source{constant: true, num: f}
		return nil
	}
	r.value = r.sourceOf(v)
	return nil
}

func (c *Config) compileLabels(r *rule) ([]string, error) {
	names := make([]string, 0, len(c.Labels))
	for name := range c.Labels {
		if !labelName.MatchString(name) || strings.HasPrefix(name, "__") {
			return nil, fmt.Errorf("labels: %q is not a valid label name (letters, digits and _, not starting with a digit or __)", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	if err := c.checkLists(); err != nil {
		return nil, err
	}
	for _, name := range names {
		src, err := r.labelSource("labels", name, c.Labels[name])
		if err != nil {
			return nil, err
		}
		r.labels = append(r.labels, src)
	}
	for i, name := range names {
		r.labels[i].allow = set(c.Allow[name])
		r.labels[i].deny = set(c.Deny[name])
	}
	return names, nil
}

// labelSource compiles the value of label name of the map key (labels,
// exemplar): a template, or a capture or field name.
func (r *rule) labelSource(key, name, v string) (source, error) {
	if strings.Contains(v, "{{") {
		t, err := template.Parse(v)
		if err != nil {
			return source{}, fmt.Errorf("%s: %s: %w", key, name, err)
		}
		return source{tpl: t}, nil
	}
	if v == "" {
		return source{}, fmt.Errorf("%s: %s: empty; give a field, a capture or a template", key, name)
	}
	return r.sourceOf(v), nil
}

// checkLists checks that allow and deny name labels of the rule.
func (c *Config) checkLists() error {
	for key, m := range map[string]map[string][]string{"allow": c.Allow, "deny": c.Deny} {
		for name, values := range m {
			if _, ok := c.Labels[name]; !ok {
				return fmt.Errorf("%s: %q is not one of the rule's labels", key, name)
			}
			if len(values) == 0 {
				return fmt.Errorf("%s: %s: list at least one value", key, name)
			}
		}
	}
	return nil
}

func set(values []string) map[string]bool {
	if values == nil {
		return nil
	}
	m := make(map[string]bool, len(values))
	for _, v := range values {
		m[v] = true
	}
	return m
}

// sourceOf resolves a plain name: a capture of the rule's regex, else a field.
func (r *rule) sourceOf(name string) source {
	if r.re != nil {
		if i := r.re.SubexpIndex(name); i > 0 {
			return source{capture: i}
		}
	}
	return source{field: name}
}

func (c *Config) buckets(kind store.Kind) ([]float64, error) {
	set := 0
	for _, b := range []bool{len(c.Buckets) > 0, c.ExponentialBuckets != nil, c.LinearBuckets != nil} {
		if b {
			set++
		}
	}
	if kind != store.Histogram {
		if set > 0 {
			return nil, errors.New("buckets: only histograms have buckets")
		}
		return nil, nil
	}
	if set > 1 {
		return nil, errors.New("buckets: set one of buckets, exponential_buckets and linear_buckets")
	}
	if set == 0 && c.Native {
		return nil, nil // native buckets only
	}
	var b []float64
	switch {
	case c.ExponentialBuckets != nil:
		e := c.ExponentialBuckets
		if e.Start <= 0 || e.Factor <= 1 || e.Count < 1 || e.Count > 1000 {
			return nil, errors.New("exponential_buckets: needs start > 0, factor > 1 and 1 <= count <= 1000")
		}
		for i, v := 0, e.Start; i < e.Count; i, v = i+1, v*e.Factor {
			b = append(b, v)
		}
	case c.LinearBuckets != nil:
		l := c.LinearBuckets
		if l.Width <= 0 || l.Count < 1 || l.Count > 1000 {
			return nil, errors.New("linear_buckets: needs width > 0 and 1 <= count <= 1000")
		}
		for i := range l.Count {
			b = append(b, l.Start+float64(i)*l.Width)
		}
	case len(c.Buckets) > 0:
		b = append(b, c.Buckets...)
	default:
		b = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}
	}
	for i, v := range b {
		if math.IsNaN(v) || math.IsInf(v, 0) || (i > 0 && v <= b[i-1]) {
			return nil, errors.New("buckets: bounds must be finite and increasing")
		}
	}
	return b, nil
}

// hash identifies everything about the rule but its inputs, so that a
// reload that changes only where its events come from keeps its series.
func (c *Config) hash() string {
	k := *c
	k.compiled, k.ExponentialBuckets, k.LinearBuckets, k.group, k.pos = nil, nil, nil, nil, 0
	s := fmt.Sprintf("%#v %#v %#v", k, c.ExponentialBuckets, c.LinearBuckets)
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}
