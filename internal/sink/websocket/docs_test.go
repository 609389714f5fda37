package wssink

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
)

// docSource stands in for the sources that documentation examples name.
type docSource struct{}

func (docSource) Run(context.Context, component.Emit) error { return nil }

func init() {
	component.MustRegister(component.SourceSpec[struct{}]("docs_example", "Test stand-in.",
		func(*struct{}, component.Deps) (component.Source, error) { return docSource{}, nil }))
}

// TestDocExamplesLoad checks that every YAML example in the sink's
// documentation is a valid config.
func TestDocExamplesLoad(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../../docs/components/sink-websocket.md")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(string(doc), "```yaml\n")
	if len(parts) < 3 {
		t.Fatal("too few YAML examples in the documentation")
	}
	env := func(string) (string, bool) { return "from-env", true }
	for i, p := range parts[1:] {
		example, _, _ := strings.Cut(p, "```")
		yaml := "sources:\n  app:\n    type: docs_example\n" + example
		if _, err := config.Parse("example", []byte(yaml), env); err != nil {
			t.Errorf("example %d does not load: %v\n%s", i+1, err, example)
		}
	}
}
