package set

import (
	"errors"
	"fmt"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/template"
)

// Config is the set transform's configuration. Operations apply in the
// order rename, fields, remove; within each, in the order written.
type Config struct {
	// Rename moves fields or attributes to new names: {old: new}. A missing
	// old name is skipped. Renaming an attribute (message, host, stream)
	// empties it.
	Rename Renames `yaml:"rename"`
	// Fields adds or overwrites fields: {name: value}. A string value is a
	// template ({{ .status }}, docs/expressions.md) rendered for each event
	// into a string; a number, boolean, list or object value is set as that
	// typed value. message, host, stream and timestamp set the attribute;
	// timestamp needs an RFC 3339 string. Each value sees the event as
	// changed by the renames and the fields before it.
	Fields Fields `yaml:"fields"`
	// Remove deletes fields; removing message, host or stream empties the
	// attribute. timestamp cannot be removed.
	Remove []string `yaml:"remove"`

	tpls []*template.Template // parsed by Validate, one per entry of Fields
}

// Field is one entry of Config.Fields.
type Field struct {
	Name string
	// Template is the source of a string value.
	Template string
	// Value is the typed value of a non-string entry.
	Value event.Value
	// Typed is set when Value is used instead of Template.
	Typed bool
}

// Fields keeps the entries of the fields map in the order written.
type Fields []Field

// UnmarshalYAML implements yaml.Unmarshaler.
func (f *Fields) UnmarshalYAML(n *yaml.Node) error {
	return eachPair(n, "fields", func(k string, v *yaml.Node) error {
		fl := Field{Name: k}
		if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!str" {
			fl.Template = v.Value
		} else {
			var x any
			if err := v.Decode(&x); err != nil {
				return fmt.Errorf("fields.%s: %w", k, err)
			}
			fl.Value, fl.Typed = event.FromAny(x), true
		}
		*f = append(*f, fl)
		return nil
	})
}

// Rename is one entry of Config.Rename.
type Rename struct{ From, To string }

// Renames keeps the entries of the rename map in the order written.
type Renames []Rename

// UnmarshalYAML implements yaml.Unmarshaler.
func (r *Renames) UnmarshalYAML(n *yaml.Node) error {
	return eachPair(n, "rename", func(k string, v *yaml.Node) error {
		if v.Kind != yaml.ScalarNode {
			return fmt.Errorf("rename.%s: the new name must be a string", k)
		}
		*r = append(*r, Rename{From: k, To: v.Value})
		return nil
	})
}

// eachPair calls fn for each key and value of a mapping node, in order.
func eachPair(n *yaml.Node, what string, fn func(string, *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%s must be a map of name: value", what)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode {
			return fmt.Errorf("%s: keys must be names", what)
		}
		if seen[k.Value] {
			return fmt.Errorf("%s: %q appears twice", what, k.Value)
		}
		seen[k.Value] = true
		if err := fn(k.Value, n.Content[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks names and parses every template, keeping them for New.
func (c *Config) Validate() error {
	tpls, err := c.compile()
	c.tpls = tpls
	return err
}

// compile parses the templates, one per entry of Fields (nil for typed ones).
func (c *Config) compile() ([]*template.Template, error) {
	if len(c.Fields) == 0 && len(c.Rename) == 0 && len(c.Remove) == 0 {
		return nil, errors.New("nothing to do: set at least one of fields, rename, remove")
	}
	for _, r := range c.Rename {
		switch {
		case r.From == "" || r.To == "":
			return nil, errors.New("rename: names must not be empty")
		case r.From == r.To:
			return nil, fmt.Errorf("rename: %q is renamed to itself", r.From)
		case r.From == event.KeyTimestamp:
			return nil, errors.New("rename: timestamp cannot be renamed; copy it with fields: {name: '{{ .timestamp }}'}")
		}
	}
	tpls := make([]*template.Template, len(c.Fields))
	for i, f := range c.Fields {
		if f.Name == "" {
			return nil, errors.New("fields: names must not be empty")
		}
		if f.Typed {
			if f.Name == event.KeyTimestamp && f.Value.Kind() != event.KindTime {
				return nil, errors.New("fields.timestamp: must be an RFC 3339 time or a template")
			}
			continue
		}
		t, err := template.Parse(f.Template)
		if err != nil {
			return nil, fmt.Errorf("fields.%s: %w", f.Name, err)
		}
		if text, ok := t.Static(); ok && f.Name == event.KeyTimestamp {
			if _, err := time.Parse(time.RFC3339Nano, text); err != nil {
				return nil, fmt.Errorf("fields.timestamp: %q is not an RFC 3339 time", text)
			}
		}
		tpls[i] = t
	}
	for _, name := range c.Remove {
		switch name {
		case "":
			return nil, errors.New("remove: names must not be empty")
		case event.KeyTimestamp:
			return nil, errors.New("remove: timestamp cannot be removed")
		}
	}
	return tpls, nil
}
