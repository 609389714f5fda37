package pipeline

import (
	"strings"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
)

// topoOrder lists cfg's components so that every component comes after all
// of its inputs: sources, then transforms in dependency order, then sinks.
func topoOrder(cfg *config.Config) []*config.Component {
	if cfg == nil {
		return nil
	}
	byID := map[string]*config.Component{}
	for _, c := range cfg.Components {
		byID[c.ID] = c
	}
	var out []*config.Component
	seen := map[string]bool{}
	var visit func(c *config.Component)
	visit = func(c *config.Component) {
		if seen[c.ID] {
			return
		}
		seen[c.ID] = true
		for _, in := range c.Inputs {
			id, _, _ := strings.Cut(in, ".")
			if up, ok := byID[id]; ok {
				visit(up)
			}
		}
		out = append(out, c)
	}
	for _, k := range []component.Kind{component.KindSource, component.KindTransform, component.KindSink} {
		for _, c := range cfg.Components {
			if c.Kind == k {
				visit(c)
			}
		}
	}
	return out
}
