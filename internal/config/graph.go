package config

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/sluice-log/sluice/internal/component"
)

// checkGraph expands input globs, rejects dangling references and cycles,
// and fills each component's resolved Inputs.
func (p *parser) checkGraph(cfg *Config, root *yaml.Node) {
	// Everything that can be an input: source and transform IDs, plus
	// "id.output" for transforms with named outputs.
	byID := map[string]*Component{}
	var ids []string
	outputs := map[string]bool{}
	for _, c := range cfg.Components {
		byID[c.ID] = c
		if c.Kind == component.KindSink {
			continue
		}
		ids = append(ids, c.ID)
		if o, ok := c.Options.(component.Outputter); ok {
			for _, name := range o.Outputs() {
				outputs[c.ID+"."+name] = true
			}
		}
	}
	dupes := map[string]bool{}
	for _, c := range cfg.Components {
		if other := byID[c.ID]; other != c && !dupes[c.ID] {
			dupes[c.ID] = true
			p.errorf(nodeAt(c), c.Name(), "component names must be unique across sources, transforms and sinks",
				"name %q is also used by %s", c.ID, other.Name())
		}
	}
	for _, c := range cfg.Components {
		if c.Kind == component.KindSource {
			continue
		}
		var resolved []string
		seen := map[string]bool{}
		add := func(s string) {
			// A transform with named outputs, referenced by its bare name,
			// means its _unmatched output: the events no branch took.
			if outputs[s+"._unmatched"] {
				s += "._unmatched"
			}
			if !seen[s] {
				seen[s] = true
				resolved = append(resolved, s)
			}
		}
		for _, in := range c.Inputs {
			switch {
			case outputs[in]:
				add(in)
			case strings.ContainsAny(in, "*?["):
				n := 0
				for _, id := range ids {
					if ok, _ := path.Match(in, id); ok && id != c.ID {
						add(id)
						n++
					}
				}
				if n == 0 && !p.matchesFailed(in) {
					p.errorf(inputsAt(c), c.Name(), "", "input pattern %q matches no source or transform", in)
				}
			default:
				up, ok := byID[in]
				switch {
				case !ok && p.failed[in], dupes[in]:
					// Reported already; a second error here would mislead.
				case !ok:
					p.errorf(inputsAt(c), c.Name(), nearest(in, ids, outputs), "input %q is not a source or transform", in)
				case up.Kind == component.KindSink:
					p.errorf(inputsAt(c), c.Name(), "sinks cannot feed other components", "input %q is a sink", in)
				case up == c:
					p.errorf(inputsAt(c), c.Name(), "", "component lists itself as an input")
				default:
					add(in)
				}
			}
		}
		c.Inputs = resolved
	}
	if len(p.errs) == 0 {
		p.checkCycles(cfg, byID)
		cfg.Warnings = deadEnds(p.file, cfg)
	}
}

// deadEnds warns of events that go nowhere: a config without sinks, and
// every source or transform no component lists as an input (their events
// are counted and dropped). An unused named output of a transform is no
// dead end: routing some events nowhere is what it is for.
func deadEnds(file string, cfg *Config) []*Error {
	read := map[string]bool{}
	sinks := 0
	for _, c := range cfg.Components {
		if c.Kind == component.KindSink {
			sinks++
		}
		for _, in := range c.Inputs {
			read[strings.SplitN(in, ".", 2)[0]] = true
		}
	}
	var out []*Error
	if sinks == 0 && len(cfg.Components) > 0 {
		out = append(out, &Error{File: file, Msg: "warning: no sinks: events go nowhere",
			Hint: "add a sink, e.g. sinks: {out: {type: stdout, inputs: [\"*\"]}}"})
	}
	for _, c := range cfg.Components {
		if c.Kind != component.KindSink && !read[c.ID] && sinks > 0 {
			out = append(out, &Error{File: file, Line: c.Line, Col: c.Col, Component: c.Name(),
				Msg:  "warning: nothing reads its events; they are dropped",
				Hint: fmt.Sprintf("list %q in the inputs of a sink or transform", c.ID)})
		}
	}
	return out
}

// checkCycles reports the first cycle found among transforms.
func (p *parser) checkCycles(cfg *Config, byID map[string]*Component) {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(c *Component) bool
	visit = func(c *Component) bool {
		color[c.ID] = grey
		stack = append(stack, c.ID)
		for _, in := range c.Inputs {
			up := byID[strings.SplitN(in, ".", 2)[0]]
			switch color[up.ID] {
			case grey:
				i := indexOf(stack, up.ID)
				cycle := append(append([]string{}, stack[i:]...), up.ID)
				p.errorf(inputsAt(up), up.Name(), "remove one of the inputs to break the loop",
					"inputs form a cycle: %s", strings.Join(cycle, " -> "))
				return true
			case white:
				if visit(up) {
					return true
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[c.ID] = black
		return false
	}
	for _, c := range cfg.Components {
		if color[c.ID] == white && visit(c) {
			return
		}
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return 0
}

func nearest(bad string, ids []string, outputs map[string]bool) string {
	all := append([]string{}, ids...)
	for o := range outputs {
		all = append(all, o)
	}
	sort.Strings(all)
	for _, id := range all {
		if editDistance(bad, id) <= 2 {
			return "did you mean \"" + id + "\"?"
		}
	}
	if len(all) == 0 {
		return "define a source first"
	}
	return "known: " + strings.Join(all, ", ")
}

func nodeAt(c *Component) *yaml.Node { return &yaml.Node{Line: c.Line, Column: c.Col} }

func inputsAt(c *Component) *yaml.Node {
	if c.inLine == 0 {
		return nodeAt(c)
	}
	return &yaml.Node{Line: c.inLine, Column: c.inCol}
}

// matchesFailed reports whether an input pattern names a component whose
// own errors were reported.
func (p *parser) matchesFailed(pattern string) bool {
	for id := range p.failed {
		if ok, _ := path.Match(pattern, id); ok {
			return true
		}
	}
	return false
}
