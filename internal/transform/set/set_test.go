package set

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v4"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// runPipeline feeds one batch through tr with testutil.RunTransform and
// returns the batches emitted, which must all go to the default output.
func runPipeline(t *testing.T, tr component.Transform, b *event.Batch) []*event.Batch {
	t.Helper()
	var got []*event.Batch
	for _, e := range testutil.RunTransform(t, tr, b) {
		if e.Output != "" {
			t.Errorf("emitted to output %q, want the default output", e.Output)
		}
		got = append(got, e.Batch)
	}
	return got
}

var t0 = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func baseEvent() event.Event {
	return event.Event{
		Timestamp: t0, Host: "h1", Stream: "s1", Message: []byte("GET /api/users 503"),
		Fields: event.Fields{
			{Key: "status", Value: event.Int(503)},
			{Key: "path", Value: event.String("/api/users")},
			{Key: "level", Value: event.String("ERROR")},
		},
	}
}

// view flattens an event for comparison: attributes plus fields in order,
// each value as JSON.
func view(e event.Event) []string {
	out := []string{
		"timestamp=" + e.Timestamp.Format(time.RFC3339), "host=" + e.Host, "stream=" + e.Stream,
		"message=" + string(e.Message),
	}
	for _, f := range e.Fields {
		out = append(out, f.Key+"="+string(f.Value.AppendJSON(nil)))
	}
	return out
}

func TestProcess(t *testing.T) {
	base := []string{"timestamp=2024-01-02T03:04:05Z", "host=h1", "stream=s1", "message=GET /api/users 503"}
	orig := []string{`status=503`, `path="/api/users"`, `level="ERROR"`}
	cat := func(parts ...[]string) []string {
		var out []string
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name       string
		config     string
		want       []string
		wantErrors float64
	}{
		{name: "template field", config: `fields: {code: "{{ .status }}", app: "{{ index (split \"/\" .path) 1 }}"}`,
			want: cat(base, orig, []string{`code="503"`, `app="api"`})},
		{name: "static and typed values", config: "fields: {env: prod, n: 5, ratio: 0.5, on: true, none: ~, tags: [a, 1], obj: {k: v}, quoted: \"7\"}",
			want: cat(base, orig, []string{`env="prod"`, `n=5`, `ratio=0.5`, `on=true`, `none=null`, `tags=["a",1]`, `obj={"k":"v"}`, `quoted="7"`})},
		{name: "overwrite keeps position", config: `fields: {status: "{{ .status }}x"}`,
			want: cat(base, []string{`status="503x"`, `path="/api/users"`, `level="ERROR"`})},
		{name: "fields see earlier fields", config: `fields: {a: "{{ .level | lower }}", b: "{{ .a }}!"}`,
			want: cat(base, orig, []string{`a="error"`, `b="error!"`})},
		{name: "attributes", config: `fields: {host: "{{ .host }}-2", stream: app, message: "{{ .level }}: {{ .message }}", timestamp: "2025-06-07T08:09:10Z"}`,
			want: cat([]string{"timestamp=2025-06-07T08:09:10Z", "host=h1-2", "stream=app", "message=ERROR: GET /api/users 503"}, orig)},
		{name: "timestamp from template", config: `fields: {timestamp: "{{ .when }}"}`,
			want: cat(base, orig), wantErrors: 1},
		{name: "rename", config: `rename: {path: url, level: severity, nothing: x}`,
			want: cat(base, []string{`status=503`, `url="/api/users"`, `severity="ERROR"`})},
		{name: "rename attribute", config: `rename: {message: raw}`,
			want: cat(base[:3], []string{"message="}, orig, []string{`raw="GET /api/users 503"`})},
		{name: "remove", config: `remove: [level, host, missing]`,
			want: cat([]string{base[0], "host=", base[2], base[3]}, orig[:2])},
		{name: "order rename fields remove", config: "rename: {path: url}\nfields: {path: \"{{ .url }}\", tmp: x}\nremove: [url, tmp]",
			want: cat(base, []string{`status=503`, `level="ERROR"`, `path="/api/users"`})},
		{name: "failed template skips only its field", config: `fields: {a: "{{ regexReplace \"(\" \"\" .path }}", b: ok}`,
			want: cat(base, orig, []string{`b="ok"`}), wantErrors: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			deps := testutil.Deps(t, "s")
			tr, err := New(testutil.Validated(t, testutil.LoadYAML[Config](t, tc.config)), deps)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			in := &event.Batch{Events: []event.Event{baseEvent()}}
			got := runPipeline(t, tr, in)
			if len(got) != 1 || got[0] != in {
				t.Fatalf("emitted %d batches, want the input batch once", len(got))
			}
			testutil.Diff(t, tc.want, view(got[0].Events[0]))
			if n := testutil.CounterValue(t, deps.Metrics.Errors); n != tc.wantErrors {
				t.Errorf("errors counted = %v, want %v", n, tc.wantErrors)
			}
		})
	}
}

func TestTypedValuesNotShared(t *testing.T) {
	tr, err := New(testutil.Validated(t, testutil.LoadYAML[Config](t, `fields: {obj: {k: v}}`)), testutil.Deps(t, "s"))
	if err != nil {
		t.Fatal(err)
	}
	in := &event.Batch{Events: []event.Event{baseEvent(), baseEvent()}}
	got := runPipeline(t, tr, in)
	a, _ := got[0].Events[0].Fields.Get("obj")
	a.Fields()[0].Value = event.String("changed")
	b, _ := got[0].Events[1].Fields.Get("obj")
	testutil.Diff(t, `{"k":"v"}`, string(b.AppendJSON(nil)))
}

func TestEmptyBatch(t *testing.T) {
	tr, err := New(testutil.Validated(t, &Config{Remove: []string{"x"}}), testutil.Deps(t, "s"))
	if err != nil {
		t.Fatal(err)
	}
	if got := runPipeline(t, tr, &event.Batch{}); len(got) != 0 {
		t.Fatalf("emitted %d batches for an empty batch", len(got))
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, config, wantText string
	}{
		{name: "empty", config: `{}`, wantText: "nothing to do"},
		{name: "bad template", config: `fields: {a: "{{ .x "}`, wantText: "fields.a"},
		{name: "unknown helper", config: `fields: {a: "{{ nope .x }}"}`, wantText: `"nope" not defined`},
		{name: "rename to itself", config: `rename: {a: a}`, wantText: "renamed to itself"},
		{name: "rename timestamp", config: `rename: {timestamp: t}`, wantText: "cannot be renamed"},
		{name: "remove timestamp", config: `remove: [timestamp]`, wantText: "cannot be removed"},
		{name: "typed timestamp", config: `fields: {timestamp: 5}`, wantText: "RFC 3339"},
		{name: "static bad timestamp", config: `fields: {timestamp: yesterday}`, wantText: "RFC 3339"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := testutil.LoadYAML[Config](t, tc.config)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.wantText)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, config, wantText string
	}{
		{name: "fields not a map", config: `fields: [a, b]`, wantText: "must be a map"},
		{name: "rename to a list", config: `rename: {a: [b]}`, wantText: "must be a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c Config
			err := yaml.Load([]byte(tc.config), &c, yaml.WithKnownFields())
			if err == nil || !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("decoding: %v, want an error containing %q", err, tc.wantText)
			}
		})
	}
}

func TestTypedTimestamp(t *testing.T) {
	tr, err := New(testutil.Validated(t, testutil.LoadYAML[Config](t, `fields: {timestamp: 2020-05-06T07:08:09Z}`)), testutil.Deps(t, "s"))
	if err != nil {
		t.Fatal(err)
	}
	got := runPipeline(t, tr, &event.Batch{Events: []event.Event{baseEvent()}})
	if want := time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC); !got[0].Events[0].Timestamp.Equal(want) {
		t.Errorf("timestamp = %v, want %v", got[0].Events[0].Timestamp, want)
	}
}

func BenchmarkProcess(b *testing.B) {
	c := testutil.LoadYAML[Config](b, "rename: {level: severity}\nfields: {code: \"{{ .status }}\", env: prod, app: \"{{ .path | split \\\"/\\\" | last }}\"}\nremove: [path]")
	tr, err := New(testutil.Validated(b, c), testutil.Deps(b, "s"))
	if err != nil {
		b.Fatal(err)
	}
	src := make([]event.Event, 1000)
	for i := range src {
		src[i] = baseEvent()
	}
	batch := &event.Batch{Events: make([]event.Event, len(src))}
	out := func(context.Context, string, *event.Batch) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		for i := range src {
			batch.Events[i] = src[i].Clone()
		}
		if err := tr.Process(context.Background(), batch, out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkProcessFastTemplates(b *testing.B) {
	c := testutil.LoadYAML[Config](b, "fields: {code: \"{{ .status }}\", env: prod, where: \"{{ .host }}/{{ .stream }}\"}")
	tr, err := New(testutil.Validated(b, c), testutil.Deps(b, "s"))
	if err != nil {
		b.Fatal(err)
	}
	src := make([]event.Event, 1000)
	for i := range src {
		src[i] = baseEvent()
		src[i].Fields = make(event.Fields, 3, 8)
		copy(src[i].Fields, baseEvent().Fields)
	}
	batch := &event.Batch{Events: make([]event.Event, len(src))}
	out := func(context.Context, string, *event.Batch) error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		for i := range src {
			batch.Events[i] = src[i]
			batch.Events[i].Fields = src[i].Fields[:3]
		}
		if err := tr.Process(context.Background(), batch, out); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDocExamples runs the examples of docs/components/transform-set.md.
func TestDocExamples(t *testing.T) {
	tests := []struct {
		name, config string
		want         []string
	}{
		{name: "intro",
			config: "rename: {remote_addr: client}\nfields:\n  app: '{{ index (split \"/\" .path) 1 }}'\n  level: '{{ .level | lower | default \"info\" }}'\n  env: production\n  sampled: true\nremove: [ident, auth]",
			want:   []string{`path="/api/users/42"`, `client="10.0.0.1"`, `app="api"`, `level="info"`, `env="production"`, `sampled=true`}},
		{name: "order",
			config: "rename: { path: url }\nfields: { route: '{{ .url | regexReplace \"/[0-9]+\" \"/:id\" }}' }\nremove: [ url ]",
			want:   []string{`remote_addr="10.0.0.1"`, `ident="-"`, `auth="-"`, `route="/api/users/:id"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := New(testutil.Validated(t, testutil.LoadYAML[Config](t, tc.config)), testutil.Deps(t, "s"))
			if err != nil {
				t.Fatal(err)
			}
			e := event.Event{Fields: event.Fields{
				{Key: "remote_addr", Value: event.String("10.0.0.1")}, {Key: "ident", Value: event.String("-")},
				{Key: "auth", Value: event.String("-")}, {Key: "path", Value: event.String("/api/users/42")},
			}}
			got := runPipeline(t, tr, &event.Batch{Events: []event.Event{e}})
			testutil.Diff(t, tc.want, view(got[0].Events[0])[4:])
		})
	}
}
