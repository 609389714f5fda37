package drains

import (
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/testutil"

	_ "github.com/sluice-log/sluice/internal/source/stdin"
)

func TestConfigSection(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"ok", `
sources: { in: { type: stdin } }
drains:
  inputs: [ in ]
  app_field: app
  static: { web: [ "https://logs.example.com/in" ] }
`, ""},
		{"bad url with line", `
sources: { in: { type: stdin } }
drains:
  inputs: [ in ]
  static:
    web: [ "ftp://x" ]
`, `cfg.yaml:6:10: drains: static.web: unknown drain scheme "ftp"`},
		{"unknown key", `
sources: { in: { type: stdin } }
drains: { inputs: [ in ], statics: {} }
`, "statics"},
		{"not a sink type", `
sources: { in: { type: stdin } }
sinks: { d: { type: drains, inputs: [ in ] } }
`, "drains is not a sink of its own"},
		{"missing inputs", `
sources: { in: { type: stdin } }
drains: { static: {} }
`, "inputs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Parse("cfg.yaml", []byte(tc.yaml), func(string) (string, bool) { return "", false })
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				c := cfg.Components[len(cfg.Components)-1]
				testutil.Diff(t, "drains", c.ID)
				testutil.Diff(t, "app", c.Options.(*Config).AppField)
				testutil.Diff(t, "20ms", c.Batch.Timeout.String())
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v, want %q", err, tc.want)
			}
		})
	}
}
