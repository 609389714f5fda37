package config

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// Fake components for config tests, so these tests do not depend on the
// real ones.
type fakeSourceConfig struct {
	Path     string   `yaml:"path"`
	Interval Duration `yaml:"interval"`
	MaxBytes ByteSize `yaml:"max_bytes"`
	Password Secret   `yaml:"password"`
	Port     int      `yaml:"port"`
}

func (c *fakeSourceConfig) Validate() error {
	if c.Port < 0 {
		return fmt.Errorf("port must not be negative")
	}
	return nil
}

type fakeRouteConfig struct {
	Routes map[string]string `yaml:"routes"`
}

func (c *fakeRouteConfig) Outputs() []string {
	out := []string{"_unmatched"}
	for k := range c.Routes {
		out = append(out, k)
	}
	return out
}

type fakeSinkConfig struct {
	Encoding string `yaml:"encoding"`
}

func (c *fakeSinkConfig) Validate() error {
	if c.Encoding != "" && c.Encoding != "json" && c.Encoding != "text" {
		return fmt.Errorf("encoding: unknown encoding %q (known: json, text)", c.Encoding)
	}
	return nil
}

type fake struct{}

func (fake) Run(context.Context, component.Emit) error                     { return nil }
func (fake) Process(context.Context, *event.Batch, component.Output) error { return nil }
func (fake) Write(context.Context, *event.Batch) error                     { return nil }
func (fake) Close(context.Context) error                                   { return nil }

func init() {
	component.MustRegister(component.SourceSpec("cfgsrc", "fake",
		func(*fakeSourceConfig, component.Deps) (component.Source, error) { return fake{}, nil }))
	component.MustRegister(component.TransformSpec("cfgroute", "fake",
		func(*fakeRouteConfig, component.Deps) (component.Transform, error) { return fake{}, nil }))
	component.MustRegister(component.TransformSpec("cfgpass", "fake",
		func(*struct{}, component.Deps) (component.Transform, error) { return fake{}, nil }))
	component.MustRegister(component.SinkSpec("cfgsink", "fake",
		func(*fakeSinkConfig, component.Deps) (component.Sink, error) { return fake{}, nil }))
}

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func TestParseGood(t *testing.T) {
	cfg, err := Parse("good.yaml", []byte(`
data_dir: ${DIR:-/tmp/x}
api: { listen: "127.0.0.1:${PORT}" }
sources:
  a: { type: cfgsrc, interval: 1m30s, max_bytes: 64KiB, password: "${PW}", port: "${PORT}" }
  b: { type: cfgsrc }
transforms:
  r: { type: cfgroute, inputs: [a, "b*"], routes: { err: x } }
  p: { type: cfgpass, inputs: [r.err] }
sinks:
  out: { type: cfgsink, inputs: [p, r], buffer: { max_size: 1MiB } }
`), env(map[string]string{"PORT": "9999", "PW": "hunter2"}))
	if err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, "/tmp/x", cfg.DataDir)
	testutil.Diff(t, "127.0.0.1:9999", cfg.API.Listen)
	byID := map[string]*Component{}
	for _, c := range cfg.Components {
		byID[c.ID] = c
	}
	src := byID["a"].Options.(*fakeSourceConfig)
	testutil.Diff(t, fakeSourceConfig{Interval: Duration(90e9), MaxBytes: 64 << 10, Password: "hunter2", Port: 9999}, *src)
	testutil.Diff(t, []string{"a", "b"}, byID["r"].Inputs, nil)
	testutil.Diff(t, []string{"p", "r._unmatched"}, byID["out"].Inputs)
	testutil.Diff(t, ByteSize(1<<20), byID["out"].Buffer.MaxSize)
	testutil.Diff(t, "block", byID["out"].Buffer.WhenFull)
	if !byID["a"].Acknowledgements {
		t.Error("acknowledgements should default to true")
	}
}

func TestHashChangesWithConfig(t *testing.T) {
	load := func(port string) map[string]string {
		cfg, err := Parse("x", []byte("sources:\n  a: { type: cfgsrc, port: "+port+" }\n  b: { type: cfgsrc }\n"), env(nil))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, c := range cfg.Components {
			m[c.ID] = c.Hash
		}
		return m
	}
	one, two := load("1"), load("2")
	if one["a"] == two["a"] || one["b"] != two["b"] {
		t.Errorf("hashes: %v vs %v", one, two)
	}
}

// TestBadConfigs checks every testdata/bad/*.yaml: its first lines are
// "# want: <error text>", each of which must appear in the error exactly,
// all from one run (every problem is reported at once).
func TestBadConfigs(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) < 10 {
		t.Fatalf("only %d bad configs found", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var wants []string
			for _, line := range strings.Split(string(data), "\n") {
				want, ok := strings.CutPrefix(line, "# want: ")
				if !ok {
					break
				}
				wants = append(wants, want)
			}
			if len(wants) == 0 {
				t.Fatalf("first line must be '# want: <error>'")
			}
			_, err = Parse(f, data, env(map[string]string{"SET": "1"}))
			if err == nil {
				t.Fatalf("no error, want %q", wants)
			}
			var list ErrorList
			if !errors.As(err, &list) || len(list) != len(wants) {
				t.Errorf("got %d errors, want %d:\n%v", len(list), len(wants), err)
			}
			for _, want := range wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error:\n%v\nwant it to contain:\n%s", err, want)
				}
			}
		})
	}
}

// A secret of the wrong YAML type must not appear, not even its start,
// in the error that says so.
func TestTypeErrorsNeverPrintSecrets(t *testing.T) {
	for _, tc := range []struct{ name, yaml string }{
		{"token list given a string", "api: { auth: { tokens: 9b809e36aa } }\n"},
		{"users given a string", "api: { auth: { users: 9b809e36aa } }\n"},
		{"auth given a string", "api: { auth: 9b809e36aa }\n"},
		{"component secret given a list", "sources:\n  a: { type: cfgsrc, password: [9b809e36aa] }\n"},
		{"component secret given a map", "sources:\n  a: { type: cfgsrc, password: {k: 9b809e36aa} }\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte(tc.yaml), env(nil))
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), "9b809e") {
				t.Errorf("secret in error: %v", err)
			}
		})
	}
	// Values of other fields are still quoted: they help.
	_, err := Parse("s.yaml", []byte("sources:\n  a: { type: cfgsrc, port: eighty }\n"), env(nil))
	if err == nil || !strings.Contains(err.Error(), "eighty") {
		t.Errorf("error %v should quote the bad port", err)
	}
}

func TestSecretNeverPrinted(t *testing.T) {
	cfg, err := Parse("s.yaml", []byte("sources:\n  a: { type: cfgsrc, password: topsecret }\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	c := cfg.Components[0].Options.(*fakeSourceConfig)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", *c, *c, *c, c.Password)} {
		if strings.Contains(s, "topsecret") {
			t.Errorf("secret leaked: %s", s)
		}
	}
	if c.Password.Reveal() != "topsecret" {
		t.Error("Reveal lost the value")
	}
}

func TestInterpolate(t *testing.T) {
	vars := env(map[string]string{"A": "x", "EMPTY": ""})
	for _, tc := range []struct {
		name, in, want, err string
	}{
		{"plain", "abc", "abc", ""},
		{"var", "${A}", "x", ""},
		{"default unused", "${A:-d}", "x", ""},
		{"default used", "${B:-d}", "d", ""},
		{"default for empty", "${EMPTY:-d}", "d", ""},
		{"empty default", "${B:-}", "", ""},
		{"escape", "$${A}", "${A}", ""},
		{"bcrypt untouched", "$2y$10$abc", "$2y$10$abc", ""},
		{"trailing dollar", "a$", "a$", ""},
		{"unset", "${B}", "", "environment variable B is not set"},
		{"unclosed", "${A", "", "unclosed ${"},
		{"bad name", "${1A}", "", "invalid variable name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Interpolate(tc.in, vars)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			testutil.Diff(t, tc.want, got)
		})
	}
}

func FuzzInterpolate(f *testing.F) {
	for _, s := range []string{"${A}", "$${A}", "${A:-x}", "a$b${", "${:-}", "$$$", "${A:-${B}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := Interpolate(s, env(map[string]string{"A": "v"}))
		if err == nil && !strings.Contains(s, "$") && out != s {
			t.Fatalf("text without $ changed: %q -> %q", s, out)
		}
	})
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{"10": 10, "1KiB": 1024, "1.5MiB": 3 << 19, "2GB": 2e9, "64k": 65536, "7B": 7} {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("%s: got %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "-1", "1XB"} {
		if _, err := ParseByteSize(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

// Events that go nowhere are warned of, naming the component and where it is.
func TestDeadEndWarnings(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"all read", "sources:\n  a: { type: cfgsrc }\nsinks:\n  out: { type: cfgsink, inputs: [a] }\n", nil},
		{"source nothing reads", "sources:\n  a: { type: cfgsrc }\n  b: { type: cfgsrc }\nsinks:\n  out: { type: cfgsink, inputs: [a] }\n",
			[]string{`w.yaml:3:6: sources.b: warning: nothing reads its events; they are dropped (hint: list "b" in the inputs of a sink or transform)`}},
		{"transform nothing reads", "sources:\n  a: { type: cfgsrc }\ntransforms:\n  t: { type: cfgpass, inputs: [a] }\nsinks:\n  out: { type: cfgsink, inputs: [a] }\n",
			[]string{`w.yaml:4:6: transforms.t: warning: nothing reads its events; they are dropped (hint: list "t" in the inputs of a sink or transform)`}},
		{"unused route branch is fine", "sources:\n  a: { type: cfgsrc }\ntransforms:\n  r: { type: cfgroute, inputs: [a], routes: {x: y} }\nsinks:\n  out: { type: cfgsink, inputs: [r.x] }\n", nil},
		{"no sinks", "sources:\n  a: { type: cfgsrc }\n",
			[]string{`w.yaml: warning: no sinks: events go nowhere (hint: add a sink, e.g. sinks: {out: {type: stdout, inputs: ["*"]}})`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Parse("w.yaml", []byte(tc.yaml), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range cfg.Warnings {
				got = append(got, w.Error())
			}
			testutil.Diff(t, tc.want, got)
		})
	}
}
