package expr

import (
	"errors"
	"strings"
	"testing"
	"time"

	exprlang "github.com/expr-lang/expr"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

var testTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

func testEvent(fields ...event.Field) *event.Event {
	return &event.Event{
		Timestamp: testTime,
		Host:      "web1",
		Stream:    "/var/log/nginx/access.log",
		Message:   []byte("GET /api/users timeout after 30s"),
		Fields:    fields,
	}
}

func f(k string, v event.Value) event.Field { return event.Field{Key: k, Value: v} }

func TestBool(t *testing.T) {
	nested := event.Object(event.Fields{f("status", event.Int(502)), f("path", event.String("/api"))})
	tests := []struct {
		name    string
		src     string
		fields  []event.Field
		want    bool
		wantErr bool
	}{
		{name: "int greater", src: "status >= 500", fields: []event.Field{f("status", event.Int(503))}, want: true},
		{name: "int smaller", src: "status >= 500", fields: []event.Field{f("status", event.Int(200))}, want: false},
		{name: "float greater", src: "status >= 500", fields: []event.Field{f("status", event.Float(503.5))}, want: true},
		{name: "numeric string greater", src: "status >= 500", fields: []event.Field{f("status", event.String("503"))}, want: true},
		{name: "numeric string smaller", src: "500 < status", fields: []event.Field{f("status", event.String("404"))}, want: false},
		{name: "float string", src: "duration > 1.5", fields: []event.Field{f("duration", event.String("2.25"))}, want: true},
		{name: "int equal", src: "status == 200", fields: []event.Field{f("status", event.Int(200))}, want: true},
		{name: "float equal", src: "status == 200", fields: []event.Field{f("status", event.Float(200))}, want: true},
		{name: "string equal number", src: "status == 200", fields: []event.Field{f("status", event.String("200"))}, want: true},
		{name: "int not equal string literal", src: `status == "200"`, fields: []event.Field{f("status", event.Int(200))}, want: false},
		{name: "string equal string literal", src: `status == "200"`, fields: []event.Field{f("status", event.String("200"))}, want: true},
		{name: "non numeric string not equal", src: "status == 200", fields: []event.Field{f("status", event.String("OK"))}, want: false},
		{name: "non numeric string compared", src: "status >= 500", fields: []event.Field{f("status", event.String("OK"))}, wantErr: true},
		{name: "missing field compared", src: "status >= 500", wantErr: true},
		{name: "missing field equal", src: "status == 500", want: false},
		{name: "missing field is nil", src: "status == nil", want: true},
		{name: "missing field alone", src: "flagged", want: false},
		{name: "bool field", src: "flagged", fields: []event.Field{f("flagged", event.Bool(true))}, want: true},
		{name: "and", src: `level == "error" && status >= 500`,
			fields: []event.Field{f("level", event.String("error")), f("status", event.Int(500))}, want: true},
		{name: "and short circuit", src: `level == "error" && status >= 500`,
			fields: []event.Field{f("level", event.String("info"))}, want: false},
		{name: "nested path", src: "http.status >= 500", fields: []event.Field{f("http", nested)}, want: true},
		{name: "nested path index syntax", src: `http["path"] == "/api"`, fields: []event.Field{f("http", nested)}, want: true},
		{name: "flat dotted field", src: "http.status >= 500", fields: []event.Field{f("http.status", event.Int(500))}, want: true},
		{name: "missing nested", src: "http.status == nil", fields: []event.Field{f("http", event.String("x"))}, want: true},
		{name: "env key", src: `$env["user-agent"] contains "curl"`, fields: []event.Field{f("user-agent", event.String("curl/8.0"))}, want: true},
		{name: "env dynamic", src: `"status" in keys($env) && $env.status == 1`, fields: []event.Field{f("status", event.Int(1))}, want: true},
		{name: "env dynamic attribute", src: `$env[lower("HOST")] == "web1"`, want: true},
		{name: "message matches", src: `message matches "time(out|d out)"`, want: true},
		{name: "message contains", src: `message contains "nope"`, want: false},
		{name: "host", src: `host == "web1"`, want: true},
		{name: "stream prefix", src: `stream startsWith "/var/log/"`, want: true},
		{name: "timestamp", src: `timestamp > date("2024-01-01")`, want: true},
		{name: "timestamp before", src: `timestamp < date("2024-01-01")`, want: false},
		{name: "lower builtin", src: `lower(level) == "error"`, fields: []event.Field{f("level", event.String("ERROR"))}, want: true},
		{name: "range", src: "status in 500..599", fields: []event.Field{f("status", event.String("503"))}, want: true},
		{name: "list", src: "status in [301, 302]", fields: []event.Field{f("status", event.Int(304))}, want: false},
		{name: "array field", src: `"b" in tags`, fields: []event.Field{f("tags", event.Array([]event.Value{event.String("a"), event.String("b")}))}, want: true},
		{name: "arithmetic on string", src: "bytes / 1024 > 1", fields: []event.Field{f("bytes", event.String("4096"))}, want: true},
		{name: "let variable", src: "let s = status; s > 1", fields: []event.Field{f("status", event.Int(2))}, want: true},
		{name: "cidr in", src: `cidr(ip, "10.0.0.0/8")`, fields: []event.Field{f("ip", event.String("10.1.2.3"))}, want: true},
		{name: "cidr out", src: `cidr(ip, "10.0.0.0/8")`, fields: []event.Field{f("ip", event.String("192.168.1.1"))}, want: false},
		{name: "cidr bad ip", src: `cidr(ip, "10.0.0.0/8")`, fields: []event.Field{f("ip", event.String("nope"))}, want: false},
		{name: "cidr bad prefix", src: `cidr(ip, "10.0.0.0/99")`, fields: []event.Field{f("ip", event.String("10.0.0.1"))}, wantErr: true},
		{name: "num", src: "(num(status) ?? 0) > 400", fields: []event.Field{f("status", event.String("404"))}, want: true},
		{name: "num of junk", src: "num(status) == nil", fields: []event.Field{f("status", event.String("12ab"))}, want: true},
		{name: "not a bool", src: "status", fields: []event.Field{f("status", event.Int(1))}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := CompileCondition(tc.src)
			if err != nil {
				t.Fatalf("CompileCondition(%q): %v", tc.src, err)
			}
			got, err := p.Bool(testEvent(tc.fields...))
			if (err != nil) != tc.wantErr {
				t.Fatalf("Bool: error = %v, want error: %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("Bool(%q) = %v, want %v", tc.src, got, tc.want)
			}
		})
	}
}

func TestEval(t *testing.T) {
	tests := []struct {
		name   string
		src    string
		fields []event.Field
		want   event.Value
	}{
		{name: "upper", src: "upper(level)", fields: []event.Field{f("level", event.String("warn"))}, want: event.String("WARN")},
		{name: "int arithmetic", src: "status + 1", fields: []event.Field{f("status", event.Int(41))}, want: event.Int(42)},
		{name: "string arithmetic", src: "bytes * 2", fields: []event.Field{f("bytes", event.String("21"))}, want: event.Int(42)},
		{name: "split message", src: `split(message, " ")[1]`, want: event.String("/api/users")},
		{name: "ternary", src: `status >= 500 ? "bad" : "good"`, fields: []event.Field{f("status", event.Int(200))}, want: event.String("good")},
		{name: "missing", src: "nothing", want: event.Null()},
		{name: "timestamp", src: "timestamp", want: event.Time(testTime)},
		{name: "nested object", src: "http", fields: []event.Field{f("http", event.Object(event.Fields{f("a", event.Int(1))}))},
			want: event.Object(event.Fields{f("a", event.Int(1))})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Compile(tc.src)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tc.src, err)
			}
			got, err := p.Eval(testEvent(tc.fields...))
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			testutil.Diff(t, tc.want.AppendJSON(nil), got.AppendJSON(nil))
			if got.Kind() != tc.want.Kind() {
				t.Errorf("kind = %v, want %v", got.Kind(), tc.want.Kind())
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name      string
		src       string
		condition bool
		wantText  string
	}{
		{name: "syntax", src: "status >>> 500", wantText: "(1:"},
		{name: "unfinished", src: "status ==", wantText: "unexpected token"},
		{name: "unknown function", src: "nosuch(status)", wantText: "unknown function nosuch (1:1)"},
		{name: "unknown nested function", src: "status > 1 && f(x)", wantText: "unknown function f (1:15)"},
		{name: "unbalanced", src: `(level == "x"`, wantText: "(1:"},
		{name: "bad regexp", src: `message matches "("`, wantText: "missing closing"},
		{name: "string condition", src: `"abc"`, condition: true, wantText: "not a boolean"},
		{name: "number condition", src: `1 + 2`, condition: true, wantText: "not a boolean"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.condition {
				_, err = CompileCondition(tc.src)
			} else {
				_, err = Compile(tc.src)
			}
			if err == nil {
				t.Fatalf("compiling %q: no error", tc.src)
			}
			if !strings.Contains(err.Error(), tc.wantText) {
				t.Errorf("error %q does not contain %q", err, tc.wantText)
			}
		})
	}
}

func TestVars(t *testing.T) {
	p := MustCompile(`level == "error" && http.status >= 500 && lower(host) != "x" && $env["a-b"] == nil && status == status`)
	testutil.Diff(t, []string{"level", "http.status", "host", "a-b", "status"}, p.Vars())
}

func TestErrNotBool(t *testing.T) {
	p := MustCompile(`level`)
	_, err := p.Bool(testEvent(f("level", event.String("x"))))
	if !errors.Is(err, ErrNotBool) {
		t.Fatalf("Bool: error %v, want ErrNotBool", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	p := MustCompile(`level == "error" && status >= 500`)
	done := make(chan bool)
	for g := range 4 {
		go func() {
			ok := true
			for i := range 500 {
				status := int64(400 + (i+g)%200)
				got, err := p.Bool(testEvent(f("level", event.String("error")), f("status", event.Int(status))))
				ok = ok && err == nil && got == (status >= 500)
			}
			done <- ok
		}()
	}
	for range 4 {
		if !<-done {
			t.Error("wrong result under concurrent use")
		}
	}
}

func TestLooksNumeric(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"0", true}, {"-12", true}, {"+3.5", true}, {".5", true}, {"5.", true}, {"1e3", true}, {"2E-2", true},
		{"", false}, {"-", false}, {".", false}, {"1e", false}, {"0x10", false}, {"inf", false}, {"NaN", false},
		{" 1", false}, {"1 ", false}, {"1.2.3", false}, {"e5", false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			if got := looksNumeric(tc.in); got != tc.want {
				t.Errorf("looksNumeric(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func BenchmarkBool(b *testing.B) {
	p := MustCompile(`level == "error" && status >= 500`)
	e := testEvent(f("level", event.String("error")), f("status", event.Int(503)),
		f("method", event.String("GET")), f("path", event.String("/api/users")), f("bytes", event.Int(1234)))
	b.ReportAllocs()
	for b.Loop() {
		ok, err := p.Bool(e)
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkBoolNestedAndRegexp(b *testing.B) {
	p := MustCompile(`level == "error" && http.status >= 500 && http.path startsWith "/api" && message matches "timeout"`)
	e := testEvent(f("level", event.String("error")),
		f("http", event.Object(event.Fields{f("status", event.String("503")), f("path", event.String("/api/users"))})))
	b.ReportAllocs()
	for b.Loop() {
		ok, err := p.Bool(e)
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkBoolEventMap is the naive approach for comparison: expr run on
// the whole event converted with Event.Map.
func BenchmarkBoolEventMap(b *testing.B) {
	p, err := exprlang.Compile(`level == "error" && status >= 500`, exprlang.AllowUndefinedVariables())
	if err != nil {
		b.Fatal(err)
	}
	e := testEvent(f("level", event.String("error")), f("status", event.Int(503)),
		f("method", event.String("GET")), f("path", event.String("/api/users")), f("bytes", event.Int(1234)))
	b.ReportAllocs()
	for b.Loop() {
		out, err := exprlang.Run(p, e.Map())
		if err != nil || out != true {
			b.Fatal(out, err)
		}
	}
}
