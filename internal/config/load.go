package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/sluice-log/sluice/internal/component"
)

// Load reads and validates the config file at path, with environment
// variables from os.LookupEnv.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, data, os.LookupEnv)
}

// Parse validates config text. name is used in messages.
func Parse(name string, data []byte, lookup func(string) (string, bool)) (*Config, error) {
	p := &parser{file: name, lookup: lookup, failed: map[string]bool{}}
	cfg := p.parse(data)
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool {
			if p.errs[i].Line != p.errs[j].Line {
				return p.errs[i].Line < p.errs[j].Line
			}
			return p.errs[i].Col < p.errs[j].Col
		})
		return nil, p.errs
	}
	return cfg, nil
}

type parser struct {
	file   string
	lookup func(string) (string, bool)
	errs   ErrorList
	// failed holds the IDs of components whose own errors were reported,
	// so the graph check does not call references to them dangling too.
	failed map[string]bool
}

func (p *parser) errorf(n *yaml.Node, comp, hint, format string, args ...any) {
	e := &Error{File: p.file, Component: comp, Msg: fmt.Sprintf(format, args...), Hint: hint}
	if n != nil {
		e.Line, e.Col = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

// topLevel is the file's shape; every section is decoded separately, so
// each reports its own errors against its own type and one section's
// mistakes do not hide another's.
type topLevel struct {
	DataDir    string               `yaml:"data_dir"`
	API        yaml.Node            `yaml:"api"`
	Log        yaml.Node            `yaml:"log"`
	Sources    map[string]yaml.Node `yaml:"sources"`
	Transforms map[string]yaml.Node `yaml:"transforms"`
	Sinks      map[string]yaml.Node `yaml:"sinks"`
	Metrics    yaml.Node            `yaml:"metrics"`
	Drains     yaml.Node            `yaml:"drains"`
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (p *parser) parse(data []byte) *Config {
	var doc yaml.Node
	if err := yaml.Load(data, &doc); err != nil {
		p.yamlError(err, nil, "")
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		p.errs = append(p.errs, &Error{File: p.file, Msg: "config is empty", Hint: "see `sluice defaults` for a starting point"})
		return nil
	}
	root := doc.Content[0]
	p.interpolate(root)
	var top topLevel
	if err := root.Load(&top, yaml.WithKnownFields()); err != nil {
		p.yamlError(err, reflect.TypeFor[topLevel](), "")
	}
	cfg := &Config{File: p.file, DataDir: top.DataDir}
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if top.API.Kind != 0 {
		cfg.API = &API{}
		p.section(&top.API, cfg.API, "api")
	}
	if top.Log.Kind != 0 {
		p.section(&top.Log, &cfg.Log, "log")
	}
	p.checkLog(root, &cfg.Log)
	if cfg.API != nil && cfg.API.Listen == "" {
		cfg.API.Listen = "127.0.0.1:9580"
	}
	if cfg.API != nil {
		p.checkAPI(findKey(root, "api"), cfg.API)
	}
	for _, sec := range []struct {
		kind  component.Kind
		nodes map[string]yaml.Node
	}{{component.KindSource, top.Sources}, {component.KindTransform, top.Transforms}, {component.KindSink, top.Sinks}} {
		for _, id := range sortedKeys(sec.nodes) {
			n := sec.nodes[id]
			if c := p.component(sec.kind, id, &n); c != nil {
				cfg.Components = append(cfg.Components, c)
			}
		}
	}
	if top.Metrics.Kind != 0 {
		p.metrics(&top.Metrics, cfg)
	}
	if top.Drains.Kind != 0 {
		p.drains(&top.Drains, cfg)
	}
	p.checkGraph(cfg, root)
	return cfg
}

// section decodes one top-level section strictly into out, reporting its
// errors under name; it reports whether it decoded cleanly.
func (p *parser) section(n *yaml.Node, out any, name string) bool {
	if err := n.Load(out, yaml.WithKnownFields()); err != nil {
		p.yamlError(err, reflect.TypeOf(out), name)
		return false
	}
	return true
}

func (p *parser) checkLog(root *yaml.Node, l *Log) {
	logDefaults(l)
	n := findKey(root, "log")
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		p.errorf(findKey(n, "level"), "log", "one of debug, info, warn, error", "unknown level %q", l.Level)
	}
	if l.Format != "text" && l.Format != "json" {
		p.errorf(findKey(n, "format"), "log", "text or json", "unknown format %q", l.Format)
	}
}

func logDefaults(l *Log) {
	if l.Level == "" {
		l.Level = "info"
	}
	if l.Format == "" {
		l.Format = "text"
	}
}

// interpolate replaces ${VAR} in every scalar, in place, so positions stay.
func (p *parser) interpolate(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode {
		v, err := Interpolate(n.Value, p.lookup)
		if err != nil {
			p.errorf(n, "", "", "%v", err)
			return
		}
		if v != n.Value {
			// Resolve the tag again, so that port: "${PORT}" (quoted because
			// braces are special in flow mappings) can fill an integer field.
			n.Value, n.Tag, n.Style = v, "", 0
		}
		return
	}
	for _, c := range n.Content {
		p.interpolate(c)
	}
}

// common holds the keys every component of a kind may have besides its own.
type common struct {
	Type             string    `yaml:"type"`
	Inputs           yaml.Node `yaml:"inputs"`
	Acknowledgements *bool     `yaml:"acknowledgements"`
	Buffer           Buffer    `yaml:"buffer"`
	Batch            Batch     `yaml:"batch"`
	Retry            Retry     `yaml:"retry"`
}

var commonKeys = map[component.Kind][]string{
	component.KindSource:    {"type", "acknowledgements"},
	component.KindTransform: {"type", "inputs"},
	component.KindSink:      {"type", "inputs", "buffer", "batch", "retry"},
}

func (p *parser) component(kind component.Kind, id string, n *yaml.Node) *Component {
	name := kind.Plural() + "." + id
	if !idPattern.MatchString(id) {
		p.errorf(n, name, "use letters, digits, _ and -", "invalid component name %q", id)
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, name, "", "expected a mapping with at least `type:`, got a %s", kindName(n))
		return nil
	}
	own, com := splitKeys(n, commonKeys[kind])
	var cm common
	before := len(p.errs)
	if err := com.Load(&cm, yaml.WithKnownFields()); err != nil {
		p.yamlError(err, reflect.TypeFor[common](), name)
	}
	if cm.Type == "" {
		p.failed[id] = true
		if k := misspelt(own, "type"); k != nil {
			p.errorf(k, name, `did you mean "type"?`, "unknown key %q", k.Value)
			return nil
		}
		p.errorf(n, name, typesHint(kind), "missing `type`")
		return nil
	}
	if kind == component.KindSink && cm.Type == RuleType {
		p.failed[id] = true
		p.errorf(findKey(n, "type"), name, "write it as an entry of metrics.rules (docs/metrics.md)", "a metrics rule is not a sink of its own")
		return nil
	}
	if kind == component.KindSink && cm.Type == DrainsType {
		p.failed[id] = true
		p.errorf(findKey(n, "type"), name, "write it as the top-level drains section (docs/drains.md)", "drains is not a sink of its own")
		return nil
	}
	spec, ok := component.Lookup(kind, cm.Type)
	if !ok {
		p.failed[id] = true
		p.errorf(findKey(n, "type"), name, typesHint(kind), "unknown %s type %q", kind, cm.Type)
		return nil
	}
	opts := spec.NewConfig()
	if err := own.Load(opts, yaml.WithKnownFields()); err != nil {
		p.yamlError(err, reflect.TypeOf(opts).Elem(), name)
	}
	// Validate only what decoded cleanly, but keep going either way, so
	// the component's inputs are checked in the same run.
	if v, ok := opts.(component.Validator); ok && len(p.errs) == before {
		if err := v.Validate(); err != nil {
			p.errorf(fieldNode(n, err.Error()), name, "", "%v", err)
		}
	}
	if len(p.errs) > before {
		p.failed[id] = true
	}
	c := &Component{ID: id, Kind: kind, Type: cm.Type, Options: opts, Line: n.Line, Col: n.Column,
		Acknowledgements: cm.Acknowledgements == nil || *cm.Acknowledgements,
		Buffer:           cm.Buffer, Batch: cm.Batch, Retry: cm.Retry}
	if kind != component.KindSource {
		c.Inputs = p.inputs(&cm.Inputs, n, name)
		c.inLine, c.inCol = cm.Inputs.Line, cm.Inputs.Column
	}
	if kind == component.KindSink {
		p.sinkDefaults(c, n, name)
	}
	c.Hash = hashNode(n)
	return c
}

func (p *parser) inputs(in *yaml.Node, n *yaml.Node, name string) []string {
	if in.Kind == 0 {
		p.errorf(n, name, "add `inputs: [ <source or transform> ]`", "missing `inputs`")
		return nil
	}
	var list []string
	if in.Kind == yaml.ScalarNode {
		list = []string{in.Value}
	} else if err := in.Load(&list); err != nil {
		p.errorf(in, name, "", "inputs must be a list of component names")
		return nil
	}
	if len(list) == 0 {
		p.errorf(in, name, "add at least one source or transform", "empty `inputs`")
	}
	return list
}

func (p *parser) sinkDefaults(c *Component, n *yaml.Node, name string) {
	b := &c.Buffer
	if b.Type == "" {
		b.Type = "memory"
	}
	if b.MaxEvents == 0 && b.Type == "memory" {
		b.MaxEvents = 10000
	}
	if b.MaxSize == 0 {
		b.MaxSize = 64 << 20
		if b.Type == "disk" {
			b.MaxSize = 1 << 30
		}
	}
	if b.WhenFull == "" {
		b.WhenFull = "block"
	}
	if b.Type != "memory" && b.Type != "disk" {
		p.errorf(findKey(n, "buffer"), name, "memory or disk", "unknown buffer type %q", b.Type)
	}
	switch b.Fsync {
	case "":
		b.Fsync = "always"
	case "always", "interval", "never":
	default:
		p.errorf(findKey(n, "buffer"), name, "always, interval or never", "unknown fsync policy %q", b.Fsync)
	}
	if b.WhenFull != "block" && b.WhenFull != "drop_newest" {
		p.errorf(findKey(n, "buffer"), name, "block or drop_newest", "unknown when_full %q", b.WhenFull)
	}
	if c.Batch.MaxEvents <= 0 {
		c.Batch.MaxEvents = 1000
	}
	if c.Batch.MaxBytes <= 0 {
		c.Batch.MaxBytes = 1 << 20
	}
	if c.Batch.Timeout == 0 {
		c.Batch.Timeout = Duration(1e9)
		if d, ok := c.Options.(component.BatchTimeoutDefaulter); ok {
			c.Batch.Timeout = Duration(d.DefaultBatchTimeout())
		}
	}
	if c.Retry.InitialBackoff == 0 {
		c.Retry.InitialBackoff = Duration(500e6)
	}
	if c.Retry.MaxBackoff == 0 {
		c.Retry.MaxBackoff = Duration(30e9)
	}
}

func hashNode(n *yaml.Node) string {
	out, err := yaml.Dump(n)
	if err != nil {
		out = []byte(fmt.Sprintf("%p", n)) // unreachable for parsed nodes; never equal
	}
	sum := sha256.Sum256(out)
	return hex.EncodeToString(sum[:8])
}

var notFound = regexp.MustCompile(`^field (\S+) not found in type`)

// yamlError converts a yaml error into positioned Errors; typ, when known,
// lets an unknown key get a "did you mean" hint.
func (p *parser) yamlError(err error, typ reflect.Type, comp string) {
	var le *yaml.LoadErrors
	if errors.As(err, &le) {
		for _, e := range le.Errors {
			p.loadError(e, typ, comp)
		}
		return
	}
	var one *yaml.LoadError
	if errors.As(err, &one) {
		p.loadError(one, typ, comp)
		return
	}
	p.errs = append(p.errs, &Error{File: p.file, Component: comp, Msg: strings.TrimPrefix(err.Error(), "yaml: ")})
}

func (p *parser) loadError(e *yaml.LoadError, typ reflect.Type, comp string) {
	out := &Error{File: p.file, Line: e.Mark.Line, Col: e.Mark.Column, Component: comp, Msg: e.Message}
	if m := notFound.FindStringSubmatch(e.Message); m != nil {
		out.Msg = fmt.Sprintf("unknown key %q", m[1])
		if typ != nil {
			out.Hint = keyHint(m[1], yamlKeys(typ), comp)
		}
	}
	out.Msg = strings.Replace(out.Msg, "cannot construct", "cannot use", 1)
	out.Msg = redactSecretValue(out.Msg, typ)
	p.errs = append(p.errs, out)
}

// quotedValue is how yaml quotes the offending value in a type error:
// "cannot construct !!str `9b809e36` into []config.Secret".
var quotedValue = regexp.MustCompile("`[^`]*`")

// redactSecretValue removes the quoted value from a type error whose target
// holds a Secret anywhere inside it, so that no part of a secret (yaml
// quotes up to its first few characters) reaches a message or a log. When
// the target type is unknown every quoted value is removed.
func redactSecretValue(msg string, typ reflect.Type) string {
	_, target, ok := strings.Cut(msg, " into ")
	if !ok {
		return msg
	}
	if typ != nil && !holdsSecret(typ, target, map[reflect.Type]bool{}) {
		return msg
	}
	return quotedValue.ReplaceAllString(msg, "<redacted>")
}

// holdsSecret reports whether t, or the type named target inside it,
// contains a Secret.
func holdsSecret(t reflect.Type, target string, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	secret := reflect.TypeFor[Secret]()
	var walk func(reflect.Type) bool
	walk = func(u reflect.Type) bool {
		switch u.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			return walk(u.Elem())
		case reflect.Struct:
			for f := range u.Fields() {
				if walk(f.Type) {
					return true
				}
			}
		}
		return u == secret
	}
	if t.String() == target {
		return walk(t)
	}
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return holdsSecret(t.Elem(), target, seen)
	case reflect.Struct:
		for f := range t.Fields() {
			if holdsSecret(f.Type, target, seen) {
				return true
			}
		}
	}
	return false
}

func keyHint(bad string, keys []string, comp string) string {
	if section, _, ok := strings.Cut(comp, "."); ok {
		kind := strings.TrimSuffix(section, "s")
		keys = append(keys, commonKeys[component.Kind(kind)]...)
	}
	sort.Strings(keys)
	best, bestD := "", 3
	for _, k := range keys {
		if d := editDistance(bad, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	return "valid keys: " + strings.Join(keys, ", ")
}

func yamlKeys(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	for f := range t.Fields() {
		tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case tag == "" && strings.Contains(opts, "inline"):
			keys = append(keys, yamlKeys(f.Type)...)
		case tag != "" && tag != "-":
			keys = append(keys, tag)
		}
	}
	return keys
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func typesHint(k component.Kind) string {
	return "known " + k.Plural() + ": " + strings.Join(component.Types(k), ", ")
}

// splitKeys splits the mapping n into the keys in common (decoded into the
// `common` struct) and the component's own, each keeping n's position.
func splitKeys(n *yaml.Node, common []string) (own, com *yaml.Node) {
	own = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	com = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: n.Line, Column: n.Column}
	for i := 0; i+1 < len(n.Content); i += 2 {
		dst := own
		if slices.Contains(common, n.Content[i].Value) {
			dst = com
		}
		dst.Content = append(dst.Content, n.Content[i], n.Content[i+1])
	}
	return own, com
}

// misspelt returns the key node of m that is one or two edits from want,
// or nil.
func misspelt(m *yaml.Node, want string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; editDistance(k.Value, want) <= 2 {
			return k
		}
	}
	return nil
}

// fieldNode finds where a Validate error belongs: the value of the key the
// message starts with ("encoding: unknown encoding ..."), else the
// component itself.
func fieldNode(m *yaml.Node, msg string) *yaml.Node {
	best, bestLen := m, 0
	for i := 0; m.Kind == yaml.MappingNode && i+1 < len(m.Content); i += 2 {
		k := m.Content[i].Value
		if len(k) > bestLen && strings.HasPrefix(msg, k) && len(msg) > len(k) && (msg[len(k)] == ':' || msg[len(k)] == ' ') {
			best, bestLen = m.Content[i+1], len(k)
		}
	}
	return best
}

func findKey(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return m
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// checkAPI refuses an api listener reachable from other machines without
// auth (unless allow_insecure), and sets the session defaults.
func (p *parser) checkAPI(n *yaml.Node, a *API) {
	if a.Sessions.TTL == 0 {
		a.Sessions.TTL = Duration(12 * time.Hour)
	}
	if a.Sessions.TTL < 0 {
		p.errorf(findKey(n, "sessions"), "api", "", "sessions.ttl must be positive")
	}
	if a.Auth.Enabled() || a.AllowInsecure || loopback(a.Listen) {
		return
	}
	p.errorf(findKey(n, "listen"), "api", "add api.auth (users or tokens), listen on 127.0.0.1, or set api.allow_insecure: true",
		"refusing to serve the api on %s without auth: anyone who can reach it could read every log line", a.Listen)
}

// loopback reports whether listen only accepts local connections: a
// loopback address or a unix socket.
func loopback(listen string) bool {
	if strings.HasPrefix(listen, "unix://") {
		return true
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
