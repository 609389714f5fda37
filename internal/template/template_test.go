package template

import (
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

var testTime = time.Date(2024, 3, 9, 7, 8, 9, 123000000, time.UTC)

func f(k string, v event.Value) event.Field { return event.Field{Key: k, Value: v} }

func testEvent() *event.Event {
	return &event.Event{
		Timestamp: testTime,
		Host:      "web1",
		Stream:    "/var/log/app/api.log",
		Message:   []byte("GET /api/v1/users 503"),
		Fields: event.Fields{
			f("status", event.Int(503)),
			f("level", event.String("ERROR")),
			f("path", event.String("/api/v1/users")),
			f("duration", event.Float(0.25)),
			f("ok", event.Bool(false)),
			f("nothing", event.Null()),
			f("http", event.Object(event.Fields{f("method", event.String("GET")), f("code", event.Int(503))})),
			f("tags", event.Array([]event.Value{event.String("a"), event.String("b"), event.String("c")})),
			f("user-agent", event.String("curl/8")),
			f("seen", event.Time(time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC))),
		},
	}
}

func TestRender(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		want   string
		simple bool // rendered without text/template
	}{
		{name: "plain text", src: "hello", want: "hello", simple: true},
		{name: "empty", src: "", want: "", simple: true},
		{name: "int field", src: "{{ .status }}", want: "503", simple: true},
		{name: "string field", src: "{{.level}}", want: "ERROR", simple: true},
		{name: "float field", src: "{{ .duration }}", want: "0.25", simple: true},
		{name: "bool field", src: "{{ .ok }}", want: "false", simple: true},
		{name: "null field", src: "[{{ .nothing }}]", want: "[]", simple: true},
		{name: "missing field", src: "[{{ .missing }}]", want: "[]", simple: true},
		{name: "nested path", src: "{{ .http.method }} {{ .http.code }}", want: "GET 503", simple: true},
		{name: "missing nested", src: "[{{ .http.nope }}{{ .level.nope }}]", want: "[]", simple: true},
		{name: "object", src: "{{ .http }}", want: `{"code":503,"method":"GET"}`, simple: true},
		{name: "array", src: "{{ .tags }}", want: `["a","b","c"]`, simple: true},
		{name: "attributes", src: "{{ .host }}:{{ .stream }}:{{ .message }}", want: "web1:/var/log/app/api.log:GET /api/v1/users 503", simple: true},
		{name: "timestamp", src: "{{ .timestamp }}", want: "2024-03-09T07:08:09.123Z", simple: true},
		{name: "time field", src: "{{ .seen }}", want: "2023-01-02T03:04:05Z", simple: true},
		{name: "root variable", src: "{{ $.level }}", want: "ERROR", simple: true},
		{name: "trim markers", src: "a {{- .level -}} b", want: "aERRORb", simple: true},
		{name: "timestamp method", src: "{{ .timestamp.Unix }}", want: "1709968089"},
		{name: "timestamp format", src: `{{ .timestamp.Format "2006" }}`, want: "2024"},
		{name: "split last", src: `{{ .path | split "/" | last }}`, want: "users"},
		{name: "split first", src: `{{ split "/" .path | first }}`, want: ""},
		{name: "split index", src: `{{ index (split "/" .path) 2 }}`, want: "v1"},
		{name: "index negative", src: `{{ index .tags -1 }}`, want: "c"},
		{name: "index out of range", src: `[{{ index .tags 9 }}]`, want: "[]"},
		{name: "index object", src: `{{ index .http "method" }}`, want: "GET"},
		{name: "join", src: `{{ join "," .tags }}`, want: "a,b,c"},
		{name: "lower", src: `{{ .level | lower }}`, want: "error"},
		{name: "upper number", src: `{{ upper .status }}`, want: "503"},
		{name: "replace", src: `{{ replace "/" "_" .path }}`, want: "_api_v1_users"},
		{name: "trim", src: `{{ trim "  x  " }}`, want: "x"},
		{name: "trimPrefix", src: `{{ .path | trimPrefix "/api" }}`, want: "/v1/users"},
		{name: "trimSuffix", src: `{{ trimSuffix "users" .path }}`, want: "/api/v1/"},
		{name: "default missing", src: `{{ default "none" .missing }}`, want: "none"},
		{name: "default present", src: `{{ .level | default "none" }}`, want: "ERROR"},
		{name: "default keeps false", src: `{{ default "none" .ok }}`, want: "false"},
		{name: "regexReplace", src: `{{ regexReplace "/v[0-9]+/" "/vN/" .path }}`, want: "/api/vN/users"},
		{name: "regexReplace groups", src: `{{ regexReplace "^/(\\w+)/.*$" "$1" .path }}`, want: "api"},
		{name: "strftime", src: `{{ strftime "%Y-%m-%d %H:%M" .timestamp }}`, want: "2024-03-09 07:08"},
		{name: "strftime string", src: `{{ strftime "%j" "2024-02-01T00:00:00Z" }}`, want: "032"},
		{name: "toJson", src: `{{ toJson .level }} {{ toJson .http }} {{ toJson .tags }}`, want: `"ERROR" {"code":503,"method":"GET"} ["a","b","c"]`},
		{name: "get odd name", src: `{{ get . "user-agent" }}`, want: "curl/8"},
		{name: "if", src: `{{ if eq .status 503 }}bad{{ else }}good{{ end }}`, want: "bad"},
		{name: "if missing", src: `{{ if .missing }}yes{{ else }}no{{ end }}`, want: "no"},
		{name: "with object", src: `{{ with .http }}{{ .method }}/{{ .nope }}{{ end }}`, want: "GET/"},
		{name: "range", src: `{{ range $i, $t := .tags }}{{ $i }}={{ $t }};{{ end }}`, want: "0=a;1=b;2=c;"},
		{name: "range root var", src: `{{ range .tags }}{{ $.host }}{{ end }}`, want: "web1web1web1"},
		{name: "variable path", src: `{{ $h := .http }}{{ $h.method }}`, want: "GET"},
		{name: "printf", src: `{{ printf "%05d" .status }}`, want: "00503"},
		{name: "len", src: `{{ len .tags }}`, want: "3"},
		{name: "define", src: `{{ define "x" }}<{{ .level }}>{{ end }}{{ template "x" . }}`, want: "<ERROR>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Parse(tc.src)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.src, err)
			}
			if tpl.simple != tc.simple {
				t.Errorf("simple = %v, want %v", tpl.simple, tc.simple)
			}
			got, err := tpl.Render([]byte("prefix:"), testEvent())
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			testutil.Diff(t, "prefix:"+tc.want, string(got))
		})
	}
}

// TestSimpleMatchesGeneral checks that the fast path prints every kind of
// value exactly as text/template does.
func TestSimpleMatchesGeneral(t *testing.T) {
	e := testEvent()
	e.Fields = append(e.Fields, f("big", event.Float(1e21)), f("small", event.Float(1e-7)),
		f("neg", event.Int(-42)), f("whole", event.Float(100)), f("bin", event.String("a\x00\xff")))
	for _, name := range []string{"status", "level", "duration", "ok", "nothing", "missing", "http", "tags",
		"seen", "timestamp", "message", "host", "http.code", "big", "small", "neg", "whole", "bin"} {
		t.Run(name, func(t *testing.T) {
			fast := MustParse("{{ ." + name + " }}")
			slow := MustParse("{{ ." + name + " }}{{ `` }}")
			if !fast.simple || slow.simple {
				t.Fatal("templates do not take the intended paths")
			}
			a, err1 := fast.Render(nil, e)
			b, err2 := slow.Render(nil, e)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			testutil.Diff(t, string(b), string(a))
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, src, wantText string
	}{
		{name: "unclosed action", src: "{{ .status", wantText: "unclosed action"},
		{name: "unknown function", src: "{{ nosuch .x }}", wantText: `function "nosuch" not defined`},
		{name: "missing end", src: "{{ if .x }}a", wantText: "unexpected EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.src)
			if err == nil || !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("Parse(%q) error = %v, want it to contain %q", tc.src, err, tc.wantText)
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name, src string
	}{
		{name: "bad regexp", src: `{{ regexReplace "(" "" .level }}`},
		{name: "strftime of a word", src: `{{ strftime "%Y" .level }}`},
		{name: "argument to field", src: `{{ .level "x" }}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Parse(tc.src)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := tpl.Render([]byte("keep"), testEvent())
			if err == nil {
				t.Fatalf("Render(%q) = %q, want an error", tc.src, got)
			}
			testutil.Diff(t, "keep", string(got))
		})
	}
}

func TestStatic(t *testing.T) {
	tests := []struct {
		src        string
		want       string
		wantStatic bool
	}{
		{src: "plain", want: "plain", wantStatic: true},
		{src: "{{ `lit` }}", wantStatic: false},
		{src: "a{{ .x }}", wantStatic: false},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			got, ok := MustParse(tc.src).Static()
			if ok != tc.wantStatic || got != tc.want {
				t.Errorf("Static() = %q, %v; want %q, %v", got, ok, tc.want, tc.wantStatic)
			}
		})
	}
}

func TestStrftime(t *testing.T) {
	tm := time.Date(2024, 3, 9, 7, 8, 9, 0, time.FixedZone("CET", 3600))
	tests := []struct {
		layout, want string
	}{
		{"/var/log/x-%Y-%m-%d.log", "/var/log/x-2024-03-09.log"},
		{"%H:%M:%S", "07:08:09"},
		{"%F %T", "2024-03-09 07:08:09"},
		{"%y %j", "24 069"},
		{"%a %A %b %B", "Sat Saturday Mar March"},
		{"%Z %z", "CET +0100"},
		{"%s", "1709964489"},
		{"100%%", "100%"},
		{"%q %", "%q %"},
		{"", ""},
	}
	for _, tc := range tests {
		t.Run(tc.layout, func(t *testing.T) {
			testutil.Diff(t, tc.want, string(Strftime(nil, tc.layout, tm)))
		})
	}
	t.Run("negative offset and early year", func(t *testing.T) {
		early := time.Date(7, 1, 1, 0, 0, 0, 0, time.FixedZone("", -(9*3600+30*60)))
		testutil.Diff(t, "0007 -0930", string(Strftime(nil, "%Y %z", early)))
	})
}

func BenchmarkRenderField(b *testing.B) {
	tpl := MustParse("{{ .status }}")
	e := testEvent()
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = tpl.Render(buf[:0], e)
	}
}

func BenchmarkRenderPipeline(b *testing.B) {
	tpl := MustParse(`{{ .path | split "/" | last | upper }}`)
	e := testEvent()
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = tpl.Render(buf[:0], e)
	}
}

func BenchmarkStrftime(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = Strftime(buf[:0], "/var/log/x-%Y-%m-%d.log", testTime)
	}
}
