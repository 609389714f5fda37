package config

import (
	"reflect"
	"strings"

	"go.yaml.in/yaml/v4"

	"github.com/sluice-log/sluice/internal/component"
)

// DrainsType is the sink type the top-level drains section compiles into
// (internal/drains); DrainsID is its component ID.
const (
	DrainsType = "drains"
	DrainsID   = "drains"
)

// drainsKeys are the keys of the drains section the loader handles as a
// sink's; the rest are the router's own (drains.Config).
var drainsKeys = []string{"inputs", "buffer", "batch"}

// drains decodes the top-level drains section into one sink component,
// the per-app drain router (docs/drains.md).
func (p *parser) drains(n *yaml.Node, cfg *Config) {
	const name = "drains"
	if n.Kind != yaml.MappingNode {
		p.errorf(n, name, "", "expected a mapping with at least `inputs:`, got a %s", kindName(n))
		return
	}
	spec, ok := component.Lookup(component.KindSink, DrainsType)
	if !ok {
		p.errorf(n, name, "", "drains are not compiled into this binary")
		return
	}
	own, com := splitKeys(n, drainsKeys)
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
			p.errorf(drainsErrNode(n, err.Error()), name, "", "%v", err)
		}
	}
	c := &Component{ID: DrainsID, Kind: component.KindSink, Type: DrainsType, Options: opts,
		Line: n.Line, Col: n.Column, Buffer: cm.Buffer, Batch: cm.Batch, name: name}
	if len(p.errs) > before {
		p.failed[c.ID] = true
	}
	c.Inputs = p.inputs(&cm.Inputs, n, name)
	c.inLine, c.inCol = cm.Inputs.Line, cm.Inputs.Column
	p.sinkDefaults(c, n, name)
	c.Hash = hashNode(n)
	cfg.Components = append(cfg.Components, c)
}

// drainsErrNode points a Validate error of the drains section at its
// place: "static.<app>: ..." at that app's list, else as fieldNode does.
func drainsErrNode(n *yaml.Node, msg string) *yaml.Node {
	if rest, ok := strings.CutPrefix(msg, "static."); ok {
		static := findKey(n, "static")
		for i := 0; static.Kind == yaml.MappingNode && i+1 < len(static.Content); i += 2 {
			if strings.HasPrefix(rest, static.Content[i].Value+":") {
				return static.Content[i+1]
			}
		}
	}
	return fieldNode(n, msg)
}
