package file

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/testutil"
)

// The YAML examples in the docs load, with nested defaults kept.
func TestDocExamplesLoad(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/components/source-file.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) == 0 {
		t.Fatal("no yaml example in the docs")
	}
	files := 0
	for _, b := range blocks {
		cfg, err := config.Parse("doc", b[1], func(string) (string, bool) { return "", false })
		if err != nil {
			t.Fatalf("example does not load: %v\n%s", err, b[1])
		}
		for _, c := range cfg.Components {
			fc, ok := c.Options.(*Config)
			if !ok {
				continue
			}
			files++
			if fc.Multiline.StartPattern != "" {
				testutil.Diff(t, 500, fc.Multiline.MaxLines)
				testutil.Diff(t, time.Second, fc.Multiline.Timeout.D())
			}
			if !strings.HasSuffix(fc.Include[0], ".log") {
				t.Errorf("include %v", fc.Include)
			}
		}
	}
	if files != 2 {
		t.Errorf("%d file sources in the examples, want 2", files)
	}
}
