package all

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/app"
	"github.com/sluice-log/sluice/internal/config"
)

func readDoc(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func noEnv(string) (string, bool) { return "", false }

// TestReadmeGoVersion: the Go version README.md asks for is go.mod's go
// line, and no other.
func TestReadmeGoVersion(t *testing.T) {
	t.Parallel()
	m := regexp.MustCompile(`(?m)^go (\S+)$`).FindStringSubmatch(readDoc(t, "go.mod"))
	if m == nil {
		t.Fatal("go.mod has no go line")
	}
	readme := readDoc(t, "README.md")
	if !strings.Contains(readme, "Go ≥ "+m[1]+" ") {
		t.Errorf("README.md does not say Go ≥ %s (go.mod's go line)", m[1])
	}
	for _, v := range regexp.MustCompile(`Go (?:≥|>=) ?([0-9][0-9.]*[0-9])`).FindAllStringSubmatch(readme, -1) {
		if v[1] != m[1] {
			t.Errorf("README.md says Go ≥ %s, go.mod says %s", v[1], m[1])
		}
	}
}

// TestDocumentedDefaults: what README.md and docs/configuration.md say
// data_dir and api.listen default to is what the embedded default config
// and the loader (for a config without data_dir) use.
func TestDocumentedDefaults(t *testing.T) {
	t.Parallel()
	embedded, err := config.Parse("<embedded default>", app.DefaultConfig(), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	bare, err := config.Parse("bare", []byte("sources:\n  a: { type: docs_stub }\nsinks:\n  b: { type: blackhole, inputs: [ a ] }\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	dataDir, listen, loaderDataDir := embedded.DataDir, embedded.API.Listen, bare.DataDir
	if !strings.HasPrefix(listen, "127.0.0.1:") {
		t.Errorf("the embedded default's API listens on %s, not on loopback", listen)
	}
	readme, conf := readDoc(t, "README.md"), readDoc(t, "docs/configuration.md")
	for _, tc := range []struct {
		name, doc, line string // line: a regexp for the line that states the default
		want            []string
	}{
		{"README: sluice run", readme, `(?m)^.*/healthz on .*$`, []string{listen, "data_dir " + dataDir}},
		{"configuration.md: data_dir key", conf, "(?m)^\\| `data_dir` \\|.*$",
			[]string{"`" + loaderDataDir + "`", "`${SLUICE_DATA_DIR:-" + dataDir + "}`"}},
		{"configuration.md: SLUICE_DATA_DIR", conf, "(?m)^\\| `SLUICE_DATA_DIR` \\|.*$", []string{"`" + dataDir + "`"}},
		{"configuration.md: SLUICE_API_LISTEN", conf, "(?m)^\\| `SLUICE_API_LISTEN` \\|.*$", []string{"`" + listen + "`"}},
		{"configuration.md: API listener", conf, "(?m)^It listens on loopback.*$", []string{"`" + listen + "`"}},
	} {
		line := regexp.MustCompile(tc.line).FindString(tc.doc)
		if line == "" {
			t.Errorf("%s: no line matches %s", tc.name, tc.line)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(line, w) {
				t.Errorf("%s: %q does not say %s", tc.name, line, w)
			}
		}
	}
	// The API's address is never given as a bare port, which reads as
	// every interface.
	for name, doc := range map[string]string{"README.md": readme, "docs/configuration.md": conf} {
		if m := regexp.MustCompile(`(?:^|[\s(])(:[0-9]+)\b`).FindString(doc); m != "" {
			t.Errorf("%s gives an address as a bare port (%q): name the host", name, strings.TrimSpace(m))
		}
	}
}
