package all

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
)

// stubSource stands in for sources that a documentation snippet names
// without defining.
type stubSource struct{}

func (stubSource) Run(context.Context, component.Emit) error { return nil }

func init() {
	component.MustRegister(component.SourceSpec("docs_stub", "documentation test stand-in",
		func(*struct{}, component.Deps) (component.Source, error) { return stubSource{}, nil }))
}

var (
	yamlBlock  = regexp.MustCompile("(?s)```yaml\n(.*?)```")
	undefInput = regexp.MustCompile(`input "([A-Za-z0-9_-]+)" is not a source or transform`)
	emptyGlob  = regexp.MustCompile(`input pattern "[^"]*" matches no source or transform`)
)

// TestDocumentedConfigsLoad loads every YAML example in README.md and
// docs/ that has a sources, transforms or sinks section, with every
// component compiled in. Inputs a snippet names but does not define are
// stubbed, so a sink's page can show just the sink.
func TestDocumentedConfigsLoad(t *testing.T) {
	files, _ := filepath.Glob("../../docs/*.md")
	more, _ := filepath.Glob("../../docs/components/*.md")
	files = append(append(files, more...), "../../README.md")
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range yamlBlock.FindAllStringSubmatch(string(data), -1) {
			snippet := m[1]
			if !regexp.MustCompile(`(?m)^(sources|transforms|sinks):`).MatchString(snippet) {
				continue
			}
			n++
			if err := loadSnippet(snippet); err != nil {
				t.Errorf("%s, example %d:\n%v\n---\n%s", filepath.Base(f), i+1, err, snippet)
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d documented configs found", n)
	}
}

func loadSnippet(snippet string) error {
	env := func(string) (string, bool) { return "from-env", true }
	var stubs []string
	for range 10 {
		text := snippet
		if len(stubs) > 0 {
			var b strings.Builder
			b.WriteString("sources:\n")
			for _, s := range stubs {
				b.WriteString("  " + s + ": { type: docs_stub }\n")
			}
			if strings.Contains(snippet, "\nsources:") || strings.HasPrefix(snippet, "sources:") {
				text = strings.Replace(snippet, "sources:\n", b.String(), 1)
			} else {
				text = b.String() + snippet
			}
		}
		_, err := config.Parse("example", []byte(text), env)
		if err == nil {
			return nil
		}
		var list config.ErrorList
		if !errors.As(err, &list) {
			return err
		}
		added := false
		for _, e := range list {
			if m := undefInput.FindStringSubmatch(e.Msg); m != nil && !contains(stubs, m[1]) {
				stubs = append(stubs, m[1])
				added = true
			}
			if emptyGlob.MatchString(e.Msg) && !contains(stubs, "app") {
				stubs = append(stubs, "app")
				added = true
			}
		}
		if !added {
			return err
		}
	}
	return errors.New("too many undefined inputs")
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
