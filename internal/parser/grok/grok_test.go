package grok

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/parser/regex"
	"github.com/sluice-log/sluice/internal/testutil"
)

var valueOpt = cmp.AllowUnexported(event.Value{})

func sf(k, v string) event.Field { return event.Field{Key: k, Value: event.String(v)} }

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, pattern, in string
		defs              map[string]string
		want              event.Fields
	}{
		{name: "basic", pattern: `%{IP:client} %{WORD:method} %{URIPATHPARAM:path}`,
			in:   `55.3.244.1 GET /index.html?a=1 extra`,
			want: event.Fields{sf("client", "55.3.244.1"), sf("method", "GET"), sf("path", "/index.html?a=1")}},
		{name: "types", pattern: `%{NUMBER:a:int} %{NUMBER:b:float} %{WORD:c:boolean} %{NUMBER:d:string} %{NUMBER:e:LONG}`,
			in: `12 2.5 true 7 3.9`,
			want: event.Fields{{Key: "a", Value: event.Int(12)}, {Key: "b", Value: event.Float(2.5)},
				{Key: "c", Value: event.Bool(true)}, sf("d", "7"), {Key: "e", Value: event.Int(3)}}},
		{name: "unconvertible kept as string", pattern: `%{WORD:n:int}`, in: `abc`,
			want: event.Fields{sf("n", "abc")}},
		{name: "unnamed references capture nothing", pattern: `%{IP} %{WORD:w}`, in: `1.2.3.4 x`,
			want: event.Fields{sf("w", "x")}},
		{name: "custom definitions, overriding the library", pattern: `%{ID:id} %{WORD:w}`, in: `ab-12 zz`,
			defs: map[string]string{"ID": `[a-z]+-%{INT:num:int}`, "WORD": `z+`},
			want: event.Fields{sf("id", "ab-12"), {Key: "num", Value: event.Int(12)}, sf("w", "zz")}},
		{name: "empty capture omitted", pattern: `a%{DATA:d}b`, in: `ab`, want: nil},
		{name: "dotted and bracketed field names", pattern: `%{WORD:http.method} %{INT:[http][status]:int}`, in: `GET 200`,
			want: event.Fields{sf("http.method", "GET"), {Key: "[http][status]", Value: event.Int(200)}}},
		{name: "inline named group with ___", pattern: `(?P<a___b>\d+) (?<c>x)`, in: `1 x`,
			want: event.Fields{sf("a.b", "1"), sf("c", "x")}},
		{name: "repetition of percent is not a reference", pattern: `%{2}%{1,}(?P<r>.)`, in: `%%%z`,
			want: event.Fields{sf("r", "z")}},
		{name: "library pattern: apache combined", pattern: `%{COMBINEDAPACHELOG}`,
			in: `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://r/" "Mozilla/4.08"`,
			want: event.Fields{sf("source.address", "127.0.0.1"), sf("user.name", "frank"),
				sf("timestamp", "10/Oct/2000:13:55:36 -0700"), sf("http.request.method", "GET"),
				sf("url.original", "/apache_pb.gif"), sf("http.version", "1.0"),
				{Key: "http.response.status_code", Value: event.Int(200)},
				{Key: "http.response.body.size", Value: event.Int(2326)},
				sf("http.request.referrer", "http://r/"), sf("user_agent.original", "Mozilla/4.08")}},
		{name: "invalid UTF-8 kept byte-exact", pattern: `%{NOTSPACE:a} %{GREEDYDATA:b}`, in: "\xff\xfe x\xc3\x28",
			want: event.Fields{sf("a", "\xff\xfe"), sf("b", "x\xc3\x28")}},
		{name: "repeated field: last participant wins", pattern: `%{WORD:w} %{WORD:w}`, in: `one two`,
			want: event.Fields{sf("w", "two")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(tc.pattern, tc.defs)
			if err != nil {
				t.Fatal(err)
			}
			got, err := p.Parse(nil, []byte(tc.in))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			testutil.Diff(t, tc.want, got, valueOpt)
		})
	}
}

func TestNoMatch(t *testing.T) {
	t.Parallel()
	p, err := Compile(`^%{INT:n}$`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Parse(nil, []byte("x")); !errors.Is(err, regex.ErrNoMatch) {
		t.Fatalf("err = %v, want ErrNoMatch", err)
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, pattern string
		defs          map[string]string
		want          string
	}{
		{name: "unknown pattern", pattern: `%{NOPE:x}`, want: "unknown pattern %{NOPE}"},
		{name: "unknown type", pattern: `%{INT:x:money}`, want: `malformed reference "%{INT:x:money}"`},
		{name: "unclosed", pattern: `%{INT:x`, want: `malformed reference "%{INT:x"`},
		{name: "empty field", pattern: `%{INT:}`, want: `malformed reference`},
		{name: "self reference", pattern: `%{A:a}`, defs: map[string]string{"A": `x%{A}`},
			want: "%{A} refers to itself (via A)"},
		{name: "cycle", pattern: `%{A:a}`, defs: map[string]string{"A": `%{B}`, "B": `%{C}`, "C": `%{A}`},
			want: "%{A} refers to itself (via A → B → C)"},
		{name: "exponential blow-up", pattern: `%{A:a}`, defs: map[string]string{
			"A": `%{B}%{B}%{B}%{B}`, "B": `%{C}%{C}%{C}%{C}`, "C": `%{D}%{D}%{D}%{D}`,
			"D": `%{E}%{E}%{E}%{E}`, "E": `%{F}%{F}%{F}%{F}`, "F": `%{IPV6}%{IPV6}`},
			want: "expands to more than"},
		{name: "bad regexp", pattern: `%{INT:a}(`, want: "compiling expanded pattern"},
		{name: "no field", pattern: `%{INT} %{WORD}`, want: "pattern names no field"},
		{name: "bad definition name", pattern: `%{INT:a}`, defs: map[string]string{"A:B": "x"},
			want: `definition name "A:B"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Compile(tc.pattern, tc.defs)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrPattern) {
				t.Fatalf("Compile(%q) error %v, want ErrPattern containing %q", tc.pattern, err, tc.want)
			}
		})
	}
}

func TestDeepNestingLimit(t *testing.T) {
	t.Parallel()
	defs := map[string]string{}
	for i := 0; i < MaxDepth+1; i++ {
		defs[name(i)] = "%{" + name(i+1) + "}"
	}
	defs[name(MaxDepth+1)] = "x"
	_, err := Compile("%{"+name(0)+":f}", defs)
	if err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Fatalf("err = %v, want nesting error", err)
	}
}

func name(i int) string { return "P" + strings.Repeat("x", i) }
