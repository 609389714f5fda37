package config

import (
	"strings"

	"go.yaml.in/yaml/v4"
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
	c := p.sectionSink(n, name, DrainsID, DrainsType, "drains", drainsKeys, drainsErrNode)
	if c == nil {
		return
	}
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
