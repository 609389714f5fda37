package component

import (
	"fmt"
	"regexp"
	"sort"
	"sync"
)

// Spec describes one component type for the registry.
type Spec struct {
	Kind Kind
	// Type is the name used in config (`type: file`).
	Type string
	// Summary is a one-line description for listings and docs.
	Summary string
	// NewConfig returns a pointer to a config struct with defaults set.
	NewConfig func() any
	// Build creates the component from a config made by NewConfig. It
	// returns a Source, Transform or Sink according to Kind.
	Build func(cfg any, deps Deps) (any, error)
	// Listens marks a source that binds sockets. Each of its Runs reports
	// every address it bound, once, through Deps.Metrics.Listening; `sluice
	// run --ready-file` waits for that report from each such source. Set it
	// with Spec.Listener.
	Listens bool
}

// Listener returns s marked as a source that binds sockets (see Listens):
// component.MustRegister(component.SourceSpec(...).Listener()).
func (s Spec) Listener() Spec {
	s.Listens = true
	return s
}

// ID is the namespaced name of the spec, e.g. "source.file".
func (s Spec) ID() string { return string(s.Kind) + "." + s.Type }

var (
	mu       sync.RWMutex
	registry = map[string]Spec{}
	typeName = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
)

// MustRegister adds a spec. It panics on a mistake (empty, malformed or
// duplicate name, missing constructor), since those are programming errors
// that must fail at start-up.
func MustRegister(s Spec) {
	switch {
	case s.Kind != KindSource && s.Kind != KindTransform && s.Kind != KindSink:
		panic(fmt.Sprintf("component: registering %q: bad kind %q", s.Type, s.Kind))
	case !typeName.MatchString(s.Type):
		panic(fmt.Sprintf("component: registering %s: malformed type name %q", s.Kind, s.Type))
	case s.NewConfig == nil || s.Build == nil:
		panic(fmt.Sprintf("component: registering %s: NewConfig and Build are required", s.ID()))
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[s.ID()]; dup {
		panic(fmt.Sprintf("component: %s registered twice", s.ID()))
	}
	registry[s.ID()] = s
}

// Lookup finds the spec of a kind and type.
func Lookup(k Kind, typ string) (Spec, bool) {
	mu.RLock()
	defer mu.RUnlock()
	s, ok := registry[string(k)+"."+typ]
	return s, ok
}

// Types lists the registered types of a kind, sorted.
func Types(k Kind) []string {
	mu.RLock()
	defer mu.RUnlock()
	var out []string
	for _, s := range registry {
		if s.Kind == k {
			out = append(out, s.Type)
		}
	}
	sort.Strings(out)
	return out
}

// All returns every spec, sorted by ID.
func All() []Spec {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]Spec, 0, len(registry))
	for _, s := range registry {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
	return out
}

// Defaulter is implemented by config structs that set their own defaults.
type Defaulter interface{ Defaults() }

// Validator is implemented by config structs that check themselves after
// decoding.
type Validator interface{ Validate() error }

func newConfig[C any]() any {
	c := new(C)
	if d, ok := any(c).(Defaulter); ok {
		d.Defaults()
	}
	return c
}

// SourceSpec builds the Spec of a source from a typed constructor.
func SourceSpec[C any](typ, summary string, build func(*C, Deps) (Source, error)) Spec {
	return Spec{Kind: KindSource, Type: typ, Summary: summary, NewConfig: newConfig[C],
		Build: func(c any, d Deps) (any, error) { return build(c.(*C), d) }}
}

// TransformSpec builds the Spec of a transform from a typed constructor.
func TransformSpec[C any](typ, summary string, build func(*C, Deps) (Transform, error)) Spec {
	return Spec{Kind: KindTransform, Type: typ, Summary: summary, NewConfig: newConfig[C],
		Build: func(c any, d Deps) (any, error) { return build(c.(*C), d) }}
}

// SinkSpec builds the Spec of a sink from a typed constructor.
func SinkSpec[C any](typ, summary string, build func(*C, Deps) (Sink, error)) Spec {
	return Spec{Kind: KindSink, Type: typ, Summary: summary, NewConfig: newConfig[C],
		Build: func(c any, d Deps) (any, error) { return build(c.(*C), d) }}
}
