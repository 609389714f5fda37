package parse

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

var cmpOpts = []cmp.Option{cmp.AllowUnexported(event.Value{}), cmpopts.EquateEmpty()}

func sf(k, v string) event.Field       { return event.Field{Key: k, Value: event.String(v)} }
func nf(k string, n int64) event.Field { return event.Field{Key: k, Value: event.Int(n)} }
func msg(s string) event.Event         { return event.Event{Message: []byte(s)} }
func cfg(format string, mod ...func(*Config)) Config {
	c := Config{Format: format}
	c.Defaults()
	for _, m := range mod {
		m(&c)
	}
	return c
}

const nginxLine = `203.0.113.7 - - [10/Oct/2023:13:55:36 -0700] "GET /x HTTP/1.1" 200 612 "-" "curl/8.5"`

var t0 = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

func TestProcessFormats(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
		in   event.Event
		want event.Event
	}{
		{name: "json sets attributes from reserved keys", cfg: cfg("json"),
			in: msg(`{"message":"hi","host":"h1","stream":"s1","timestamp":"2024-01-02T03:04:05.5Z","level":"info","n":3}`),
			want: event.Event{Message: []byte("hi"), Host: "h1", Stream: "s1",
				Timestamp: time.Date(2024, 1, 2, 3, 4, 5, 5e8, time.UTC),
				Fields:    event.Fields{sf("level", "info"), nf("n", 3)}}},
		{name: "json epoch seconds", cfg: cfg("json"), in: msg(`{"timestamp":1700000000}`),
			want: event.Event{Message: []byte(`{"timestamp":1700000000}`), Timestamp: time.Unix(1700000000, 0).UTC()}},
		{name: "json epoch millis", cfg: cfg("json"), in: msg(`{"timestamp":1700000000123}`),
			want: event.Event{Message: []byte(`{"timestamp":1700000000123}`), Timestamp: time.UnixMilli(1700000000123).UTC()}},
		{name: "json fractional epoch seconds", cfg: cfg("json"), in: msg(`{"timestamp":1700000000.25}`),
			want: event.Event{Message: []byte(`{"timestamp":1700000000.25}`), Timestamp: time.Unix(1700000000, 25e7).UTC()}},
		{name: "syslog rfc5424 line sets host, stream, message and time", cfg: cfg("syslog"),
			in: msg(`<165>1 2026-11-22T10:00:00.5Z web1 api 42 ID7 [x@1 k="v"] hello there`),
			want: event.Event{Timestamp: time.Date(2026, 11, 22, 10, 0, 0, 5e8, time.UTC), Host: "web1", Stream: "api",
				Message: []byte("hello there"), Fields: event.Fields{sf("facility", "local4"), sf("severity", "notice"),
					sf("appname", "api"), sf("procid", "42"), sf("msgid", "ID7"),
					{Key: "sd", Value: event.Object(event.Fields{{Key: "x@1", Value: event.Object(event.Fields{sf("k", "v")})}})},
					sf("syslog_format", "rfc5424")}}},
		{name: "json unreadable timestamp kept as timestamp_raw", cfg: cfg("json"),
			in:   event.Event{Timestamp: t0, Message: []byte(`{"timestamp":"yesterday","a":1}`)},
			want: event.Event{Timestamp: t0, Message: []byte(`{"timestamp":"yesterday","a":1}`), Fields: event.Fields{sf("timestamp_raw", "yesterday"), nf("a", 1)}}},
		{name: "json merges into existing fields", cfg: cfg("json"),
			in:   event.Event{Message: []byte(`{"level":"info","b":true}`), Fields: event.Fields{sf("file", "/a"), sf("level", "old")}},
			want: event.Event{Message: []byte(`{"level":"info","b":true}`), Fields: event.Fields{sf("file", "/a"), sf("level", "info"), {Key: "b", Value: event.Bool(true)}}}},
		{name: "json under a target keeps reserved keys inside", cfg: cfg("json", func(c *Config) { c.Target = "doc" }),
			in: event.Event{Message: []byte(`{"message":"m","x":[1]}`), Fields: event.Fields{sf("f", "v")}},
			want: event.Event{Message: []byte(`{"message":"m","x":[1]}`), Fields: event.Fields{sf("f", "v"),
				{Key: "doc", Value: event.Object(event.Fields{sf("message", "m"), {Key: "x", Value: event.Array([]event.Value{event.Int(1)})}})}}}},
		{name: "json invalid UTF-8 kept byte-exact", cfg: cfg("json"), in: msg("{\"a\":\"\xff\xfe\"}"),
			want: event.Event{Message: []byte("{\"a\":\"\xff\xfe\"}"), Fields: event.Fields{sf("a", "\xff\xfe")}}},
		{name: "json from another field", cfg: cfg("json", func(c *Config) { c.Field = "payload" }),
			in:   event.Event{Message: []byte("x"), Fields: event.Fields{sf("payload", `{"a":"b"}`)}},
			want: event.Event{Message: []byte("x"), Fields: event.Fields{sf("payload", `{"a":"b"}`), sf("a", "b")}}},
		{name: "logfmt", cfg: cfg("logfmt"), in: msg(`level=warn msg="disk full" retry`),
			want: event.Event{Message: []byte(`level=warn msg="disk full" retry`), Fields: event.Fields{
				sf("level", "warn"), sf("msg", "disk full"), {Key: "retry", Value: event.Bool(true)}}}},
		{name: "nginx_combined sets the timestamp", cfg: cfg("nginx_combined"), in: msg(nginxLine),
			want: event.Event{Message: []byte(nginxLine), Timestamp: time.Date(2023, 10, 10, 20, 55, 36, 0, time.UTC),
				Fields: event.Fields{sf("remote_addr", "203.0.113.7"), sf("time_local", "10/Oct/2023:13:55:36 -0700"),
					sf("method", "GET"), sf("path", "/x"), sf("protocol", "HTTP/1.1"), nf("status", 200),
					nf("body_bytes_sent", 612), sf("http_user_agent", "curl/8.5")}}},
		{name: "apache_combined keeps ident", cfg: cfg("apache_combined"),
			in: msg(`::1 idt - [10/Oct/2023:13:55:36 +0000] "GET / HTTP/1.0" 200 - "-" "-"`),
			want: event.Event{Message: []byte(`::1 idt - [10/Oct/2023:13:55:36 +0000] "GET / HTTP/1.0" 200 - "-" "-"`),
				Timestamp: time.Date(2023, 10, 10, 13, 55, 36, 0, time.UTC),
				Fields: event.Fields{sf("remote_addr", "::1"), sf("ident", "idt"), sf("time_local", "10/Oct/2023:13:55:36 +0000"),
					sf("method", "GET"), sf("path", "/"), sf("protocol", "HTTP/1.0"), nf("status", 200), nf("body_bytes_sent", 0)}}},
		{name: "regex", cfg: cfg("regex", func(c *Config) { c.Pattern = `user=(?P<user>\w+)` }), in: msg(`login user=bob ok`),
			want: event.Event{Message: []byte(`login user=bob ok`), Fields: event.Fields{sf("user", "bob")}}},
		{name: "grok with types and a timestamp", cfg: cfg("grok", func(c *Config) {
			c.Pattern = `\[%{HTTPDATE:timestamp}\] %{CODE:code:int} %{GREEDYDATA:message}`
			c.Patterns = map[string]string{"CODE": `E%{INT}`}
		}), in: msg(`[10/Oct/2023:13:55:36 +0200] E42 rest of it`),
			want: event.Event{Message: []byte(`rest of it`), Timestamp: time.Date(2023, 10, 10, 11, 55, 36, 0, time.UTC),
				Fields: event.Fields{sf("code", "E42")}}},
		{name: "grok int conversion", cfg: cfg("grok", func(c *Config) { c.Pattern = `%{INT:n:int}ms` }), in: msg(`took 15ms`),
			want: event.Event{Message: []byte(`took 15ms`), Fields: event.Fields{nf("n", 15)}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := newTransform(t, tc.cfg)
			got := process(t, tr, tc.in)
			if len(got) != 1 {
				t.Fatalf("got %d events, want 1", len(got))
			}
			testutil.Diff(t, tc.want, got[0], cmpOpts...)
			if n := counter(tr.failures); n != 0 {
				t.Errorf("parse_failures_total = %v, want 0", n)
			}
		})
	}
}

func TestProcessFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
		in   event.Event
		want string
	}{
		{name: "json not an object", cfg: cfg("json"), in: msg(`[1]`), want: "parsing json: top-level value is not an object"},
		{name: "json truncated", cfg: cfg("json"), in: msg(`{"a":`), want: "parsing json: unexpected end of input at offset 5"},
		{name: "json empty message", cfg: cfg("json"), in: msg(``), want: "parsing json: unexpected end of input at offset 0"},
		{name: "logfmt", cfg: cfg("logfmt"), in: msg(`a="x`), want: "parsing logfmt: unterminated quoted value at offset 4"},
		{name: "nginx", cfg: cfg("nginx_combined"), in: msg("\xff\xfe"), want: "parsing nginx_combined: missing ident column at offset 2"},
		{name: "regex", cfg: cfg("regex", func(c *Config) { c.Pattern = `^(?P<n>\d+)$` }), in: msg(`x`),
			want: "parsing regex: pattern does not match"},
		{name: "grok", cfg: cfg("grok", func(c *Config) { c.Pattern = `^%{INT:n}$` }), in: msg(`x`),
			want: "parsing grok: pattern does not match"},
		{name: "syslog", cfg: cfg("syslog"), in: msg(`plain text`), want: "parsing syslog: not an RFC 5424 or RFC 3164 syslog message"},
		{name: "missing field", cfg: cfg("json", func(c *Config) { c.Field = "nope" }), in: msg(`{}`), want: `field "nope" not found`},
		{name: "field not a string", cfg: cfg("json", func(c *Config) { c.Field = "n" }),
			in: event.Event{Fields: event.Fields{nf("n", 1)}}, want: `field "n" is not a string`},
		{name: "target", cfg: cfg("logfmt", func(c *Config) { c.Target = "t" }), in: msg(`=`), want: "parsing logfmt: missing key before '=' at offset 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, mode := range []string{OnErrorKeep, OnErrorTag, OnErrorDrop} {
				c := tc.cfg
				c.OnError = mode
				tr := newTransform(t, c)
				in := tc.in.Clone()
				got := process(t, tr, tc.in)
				want := []event.Event{in}
				switch mode {
				case OnErrorTag:
					want[0].Fields = append(want[0].Fields.Clone(), sf(ErrorField, tc.want))
				case OnErrorDrop:
					want = nil
				}
				testutil.Diff(t, want, got, cmpOpts...)
				if n := counter(tr.failures); n != 1 {
					t.Errorf("%s: parse_failures_total = %v, want 1", mode, n)
				}
				if n := counter(tr.errors); n != 1 {
					t.Errorf("%s: component_errors_total = %v, want 1", mode, n)
				}
				wantDropped := 0.0
				if mode == OnErrorDrop {
					wantDropped = 1
				}
				if n := counter(tr.dropped); n != wantDropped {
					t.Errorf("%s: parse_dropped_events_total = %v, want %v", mode, n, wantDropped)
				}
			}
		})
	}
}

func TestSlabSlicesAreIndependent(t *testing.T) {
	t.Parallel()
	tr := newTransform(t, cfg("logfmt"))
	tr.hint = 4
	got := process(t, tr, msg("a=1 b=2 c=3 d=4"), msg("e=5"))
	if c := cap(got[0].Fields); c != 4 {
		t.Fatalf("first event's fields have capacity %d, want the slab share 4", c)
	}
	got[0].Fields = append(got[0].Fields, sf("extra", "x"))
	testutil.Diff(t, event.Fields{sf("e", "5")}, got[1].Fields, cmpOpts...)

	// Parsing again into fields that have room replaces keys in place.
	got = process(t, tr, got...)
	testutil.Diff(t, event.Fields{sf("a", "1"), sf("b", "2"), sf("c", "3"), sf("d", "4"), sf("extra", "x")}, got[0].Fields, cmpOpts...)
	testutil.Diff(t, event.Fields{sf("e", "5")}, got[1].Fields, cmpOpts...)
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{name: "missing format", cfg: cfg(""), want: "missing format; use one of apache_combined, grok, json, logfmt, nginx_combined, regex"},
		{name: "unknown format", cfg: cfg("xml"), want: `unknown format "xml"`},
		{name: "regex without pattern", cfg: cfg("regex"), want: "format regex needs a pattern"},
		{name: "json with pattern", cfg: cfg("json", func(c *Config) { c.Pattern = "x" }), want: "pattern applies only to formats regex and grok"},
		{name: "patterns without grok", cfg: cfg("regex", func(c *Config) { c.Pattern = "(?P<a>x)"; c.Patterns = map[string]string{"A": "x"} }),
			want: "patterns applies only to format grok"},
		{name: "empty field", cfg: cfg("json", func(c *Config) { c.Field = "" }), want: "field must not be empty"},
		{name: "reserved target", cfg: cfg("json", func(c *Config) { c.Target = "message" }), want: `target "message" is an event attribute`},
		{name: "bad on_error", cfg: cfg("json", func(c *Config) { c.OnError = "ignore" }), want: `unknown on_error "ignore"`},
		{name: "bad regex", cfg: cfg("regex", func(c *Config) { c.Pattern = "(?P<a>" }), want: "compiling regex"},
		{name: "regex without names", cfg: cfg("regex", func(c *Config) { c.Pattern = "(a)" }), want: "no named capture group"},
		{name: "bad grok", cfg: cfg("grok", func(c *Config) { c.Pattern = "%{NOPE:x}" }), want: "unknown pattern %{NOPE}"},
		{name: "valid grok", cfg: cfg("grok", func(c *Config) { c.Pattern = "%{A:x}"; c.Patterns = map[string]string{"A": "%{INT}"} })},
		{name: "valid json", cfg: cfg("json", func(c *Config) { c.Target = "j"; c.OnError = OnErrorTag })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// process runs events through tr as one batch and returns what it passed on.
func process(t testing.TB, tr *Transform, evs ...event.Event) []event.Event {
	t.Helper()
	var got []event.Event
	b := &event.Batch{Events: evs}
	err := tr.Process(context.Background(), b, func(_ context.Context, output string, b *event.Batch) error {
		if output != "" {
			t.Errorf("output %q, want the default", output)
		}
		got = append(got, b.Events...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func newTransform(t testing.TB, c Config) *Transform {
	t.Helper()
	tr, err := New(testutil.Validated(t, &c), testutil.Deps(t, "parse"))
	if err != nil {
		t.Fatal(err)
	}
	return tr.(*Transform)
}

func counter(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

func TestRegistered(t *testing.T) {
	t.Parallel()
	spec, ok := component.Lookup(component.KindTransform, "parse")
	if !ok {
		t.Fatal("transform parse is not registered")
	}
	c, ok := spec.NewConfig().(*Config)
	if !ok {
		t.Fatalf("NewConfig returned %T", spec.NewConfig())
	}
	testutil.Diff(t, &Config{Field: "message", OnError: "keep"}, c, cmpopts.IgnoreUnexported(Config{}))
	c.Format = "logfmt"
	tr, err := spec.Build(testutil.Validated(t, c), testutil.Deps(t, "p"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := tr.(component.Transform); !ok {
		t.Fatalf("Build returned %T, not a Transform", tr)
	}
}
