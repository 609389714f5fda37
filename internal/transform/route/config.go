package route

import (
	"errors"
	"fmt"
	"regexp"

	"go.yaml.in/yaml/v4"

	"github.com/sluice-log/sluice/internal/expr"
)

// Unmatched is the output of events that no route's condition matched.
const Unmatched = "_unmatched"

// Config is the route transform's configuration.
type Config struct {
	// Routes maps output names to conditions: {errors: 'status >= 500'}.
	// An event goes to every output whose condition is true; consumers
	// list `<this transform>.<output>` in their inputs. Required.
	Routes Routes `yaml:"routes"`

	conds []*expr.Program // compiled by Validate, one per route
}

// Route is one named output and its condition.
type Route struct {
	Name      string
	Condition string
}

// Routes keeps the routes in the order written, which is the order in
// which batches are emitted.
type Routes []Route

// UnmarshalYAML implements yaml.Unmarshaler.
func (r *Routes) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return errors.New("routes must be a map of output name: condition")
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || v.Kind != yaml.ScalarNode {
			return errors.New("routes: each entry is name: 'condition'")
		}
		*r = append(*r, Route{Name: k.Value, Condition: v.Value})
	}
	return nil
}

// Outputs lists the route names and Unmatched, so that the config loader
// can check `inputs: [name.output]` references (component.Outputter).
func (c *Config) Outputs() []string {
	out := make([]string, 0, len(c.Routes)+1)
	for _, r := range c.Routes {
		out = append(out, r.Name)
	}
	return append(out, Unmatched)
}

var routeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)

// Validate checks the names and compiles the conditions, keeping them for
// New.
func (c *Config) Validate() error {
	conds, err := c.compile()
	c.conds = conds
	return err
}

func (c *Config) compile() ([]*expr.Program, error) {
	if len(c.Routes) == 0 {
		return nil, errors.New("routes: at least one route is required, e.g. routes: {errors: 'status >= 500'}")
	}
	seen := map[string]bool{}
	progs := make([]*expr.Program, len(c.Routes))
	for i, r := range c.Routes {
		switch {
		case !routeName.MatchString(r.Name):
			return nil, fmt.Errorf("routes: %q is not a valid output name (letters, digits, _ and -, not starting with _ or -)", r.Name)
		case seen[r.Name]:
			return nil, fmt.Errorf("routes: %q appears twice", r.Name)
		case r.Condition == "":
			return nil, fmt.Errorf("routes.%s: condition required", r.Name)
		}
		seen[r.Name] = true
		p, err := expr.CompileCondition(r.Condition)
		if err != nil {
			return nil, fmt.Errorf("routes.%s: %w", r.Name, err)
		}
		progs[i] = p
	}
	return progs, nil
}
