package wssource

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
)

// docSink stands in for a sink consuming the documented sources.
type docSink struct{}

func (docSink) Write(context.Context, *event.Batch) error { return nil }
func (docSink) Close(context.Context) error               { return nil }

func init() {
	component.MustRegister(component.SinkSpec[struct{}]("docs_example", "Test stand-in.",
		func(*struct{}, component.Deps) (component.Sink, error) { return docSink{}, nil }))
}

// TestDocExamplesLoad checks that every YAML example in the source's
// documentation is a valid config and builds.
func TestDocExamplesLoad(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../../docs/components/source-websocket.md")
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
		yaml := example + "sinks:\n  out:\n    type: docs_example\n    inputs: [ \"*\" ]\n"
		if _, err := config.Parse("example", []byte(yaml), env); err != nil {
			t.Errorf("example %d does not load: %v\n%s", i+1, err, example)
		}
	}
}
