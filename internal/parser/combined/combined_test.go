package combined

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

var valueOpt = cmp.AllowUnexported(event.Value{})

func sf(k, v string) event.Field       { return event.Field{Key: k, Value: event.String(v)} }
func nf(k string, n int64) event.Field { return event.Field{Key: k, Value: event.Int(n)} }

const nginxLine = `203.0.113.7 - alice [10/Oct/2023:13:55:36 -0700] "GET /index.html?q=1 HTTP/1.1" 200 2326 "https://example.com/" "Mozilla/5.0 (X11; Linux x86_64)"`

func TestParse(t *testing.T) {
	t.Parallel()
	ts := time.Date(2023, 10, 10, 20, 55, 36, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		flavor Flavor
		in     string
		want   event.Fields
		wantTS time.Time
	}{
		{name: "nginx combined", flavor: Nginx, in: nginxLine, wantTS: ts, want: event.Fields{
			sf("remote_addr", "203.0.113.7"), sf("remote_user", "alice"),
			sf("time_local", "10/Oct/2023:13:55:36 -0700"), sf("method", "GET"),
			sf("path", "/index.html?q=1"), sf("protocol", "HTTP/1.1"), nf("status", 200),
			nf("body_bytes_sent", 2326), sf("http_referer", "https://example.com/"),
			sf("http_user_agent", "Mozilla/5.0 (X11; Linux x86_64)"),
		}},
		{name: "dashes omitted", flavor: Nginx,
			in:     `::1 - - [01/Jan/2024:00:00:00 +0000] "POST /api HTTP/2.0" 404 0 "-" "-"`,
			wantTS: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), want: event.Fields{
				sf("remote_addr", "::1"), sf("time_local", "01/Jan/2024:00:00:00 +0000"),
				sf("method", "POST"), sf("path", "/api"), sf("protocol", "HTTP/2.0"),
				nf("status", 404), nf("body_bytes_sent", 0),
			}},
		{name: "apache ident and dash size", flavor: Apache,
			in:     `10.0.0.1 ident42 bob [29/Feb/2024:23:59:59 +0530] "HEAD / HTTP/1.0" 304 - "-" "curl/8.0"`,
			wantTS: time.Date(2024, 2, 29, 18, 29, 59, 0, time.UTC), want: event.Fields{
				sf("remote_addr", "10.0.0.1"), sf("ident", "ident42"), sf("remote_user", "bob"),
				sf("time_local", "29/Feb/2024:23:59:59 +0530"), sf("method", "HEAD"), sf("path", "/"),
				sf("protocol", "HTTP/1.0"), nf("status", 304), nf("body_bytes_sent", 0),
				sf("http_user_agent", "curl/8.0"),
			}},
		{name: "nginx ignores the ident column", flavor: Nginx,
			in:     `1.2.3.4 x - [10/Oct/2023:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "-"`,
			wantTS: ts, want: event.Fields{
				sf("remote_addr", "1.2.3.4"), sf("time_local", "10/Oct/2023:13:55:36 -0700"),
				sf("method", "GET"), sf("path", "/"), sf("protocol", "HTTP/1.1"),
				nf("status", 200), nf("body_bytes_sent", 1),
			}},
		{name: "common log format", flavor: Apache,
			in:     `127.0.0.1 - frank [10/Oct/2023:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326`,
			wantTS: ts, want: event.Fields{
				sf("remote_addr", "127.0.0.1"), sf("remote_user", "frank"),
				sf("time_local", "10/Oct/2023:13:55:36 -0700"), sf("method", "GET"),
				sf("path", "/apache_pb.gif"), sf("protocol", "HTTP/1.0"),
				nf("status", 200), nf("body_bytes_sent", 2326),
			}},
		{name: "escaped quotes, spaces in user and path, trailing fields", flavor: Apache,
			in:     `h - john doe [10/Oct/2023:13:55:36 -0700] "GET /a b HTTP/1.1" 500 12 "r\"ef" "ua \"x\"" "1.2.3.4" rt=0.1`,
			wantTS: ts, want: event.Fields{
				sf("remote_addr", "h"), sf("remote_user", "john doe"),
				sf("time_local", "10/Oct/2023:13:55:36 -0700"), sf("method", "GET"),
				sf("path", "/a b"), sf("protocol", "HTTP/1.1"), nf("status", 500),
				nf("body_bytes_sent", 12), sf("http_referer", `r\"ef`), sf("http_user_agent", `ua \"x\"`),
			}},
		{name: "garbage request kept whole", flavor: Nginx,
			in:     `1.2.3.4 - - [10/Oct/2023:13:55:36 -0700] "\x16\x03\x01\x00\xF4\x01" 400 150 "-" "-"`,
			wantTS: ts, want: event.Fields{
				sf("remote_addr", "1.2.3.4"), sf("time_local", "10/Oct/2023:13:55:36 -0700"),
				sf("request", `\x16\x03\x01\x00\xF4\x01`), nf("status", 400), nf("body_bytes_sent", 150),
			}},
		{name: "empty and dash request, no protocol", flavor: Nginx,
			in:     `1.2.3.4 - - [10/Oct/2023:13:55:36 -0700] "-" 408 0 "" "GET /x"`,
			wantTS: ts, want: event.Fields{
				sf("remote_addr", "1.2.3.4"), sf("time_local", "10/Oct/2023:13:55:36 -0700"),
				nf("status", 408), nf("body_bytes_sent", 0), sf("http_referer", ""), sf("http_user_agent", "GET /x"),
			}},
		{name: "HTTP/0.9 request without protocol", flavor: Nginx,
			in:     `1.2.3.4 - - [10/Oct/2023:13:55:36 -0700] "GET /old" 200 5`,
			wantTS: ts, want: event.Fields{
				sf("remote_addr", "1.2.3.4"), sf("time_local", "10/Oct/2023:13:55:36 -0700"),
				sf("method", "GET"), sf("path", "/old"), nf("status", 200), nf("body_bytes_sent", 5),
			}},
		{name: "invalid UTF-8 kept byte-exact", flavor: Nginx,
			in:     "1.2.3.4 - u\xff [10/Oct/2023:13:55:36 -0700] \"GET /\xc3\x28 HTTP/1.1\" 200 5 \"-\" \"\xfe\"",
			wantTS: ts, want: event.Fields{
				sf("remote_addr", "1.2.3.4"), sf("remote_user", "u\xff"),
				sf("time_local", "10/Oct/2023:13:55:36 -0700"), sf("method", "GET"),
				sf("path", "/\xc3\x28"), sf("protocol", "HTTP/1.1"), nf("status", 200),
				nf("body_bytes_sent", 5), sf("http_user_agent", "\xfe"),
			}},
		{name: "dash status", flavor: Apache,
			in:     `1.2.3.4 - - [10/Oct/2023:13:55:36 -0700] "GET / HTTP/1.1" - -`,
			wantTS: ts, want: event.Fields{
				sf("remote_addr", "1.2.3.4"), sf("time_local", "10/Oct/2023:13:55:36 -0700"),
				sf("method", "GET"), sf("path", "/"), sf("protocol", "HTTP/1.1"), nf("body_bytes_sent", 0),
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, gotTS, err := Parse(nil, []byte(tc.in), tc.flavor)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			testutil.Diff(t, tc.want, got, valueOpt)
			testutil.Diff(t, tc.wantTS, gotTS)
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	const pre = `1.2.3.4 - - [10/Oct/2023:13:55:36 -0700] `
	for _, tc := range []struct {
		name, in, want string
	}{
		{name: "empty", in: ``, want: "missing remote address at offset 0"},
		{name: "only address", in: `1.2.3.4`, want: "missing ident column at offset 7"},
		{name: "no time", in: `1.2.3.4 - - "GET / HTTP/1.1" 200 1`, want: "missing '[' before time at offset 34"},
		{name: "unclosed time", in: `1.2.3.4 - - [10/Oct/2023`, want: "missing ']' after time at offset 24"},
		{name: "bad month", in: `1.2.3.4 - - [10/Foo/2023:13:55:36 -0700] "GET /" 200 1`, want: `bad time "10/Foo/2023:13:55:36 -0700" at offset 13`},
		{name: "31 February", in: `1.2.3.4 - - [31/Feb/2023:13:55:36 -0700] "GET /" 200 1`, want: `bad time "31/Feb/2023:13:55:36 -0700" at offset 13`},
		{name: "no request", in: pre + `200 1`, want: `missing '"' before request at offset 41`},
		{name: "unterminated request", in: pre + `"GET / 200 1`, want: "unterminated request at offset 53"},
		{name: "bad status", in: pre + `"GET /" 2x0 1`, want: `bad status "2x0" at offset 52`},
		{name: "missing size", in: pre + `"GET /" 200`, want: `bad body size "" at offset 52`},
		{name: "bad size", in: pre + `"GET /" 200 -1`, want: `bad body size "-1" at offset 55`},
		{name: "huge size", in: pre + `"GET /" 200 1234567890123456789`, want: `bad body size "1234567890123456789" at offset 72`},
		{name: "unquoted referer", in: pre + `"GET /" 200 1 ref`, want: `missing '"' before referer at offset 55`},
		{name: "missing user agent", in: pre + `"GET /" 200 1 "ref"`, want: `missing '"' before user agent at offset 60`},
		{name: "unterminated user agent", in: pre + `"GET /" 200 1 "-" "ua`, want: "unterminated user agent at offset 62"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			keep := event.Fields{sf("old", "1")}
			got, ts, err := Parse(keep, []byte(tc.in), Nginx)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error", tc.in, got)
			}
			testutil.Diff(t, tc.want, err.Error())
			testutil.Diff(t, keep, got, valueOpt)
			testutil.Diff(t, time.Time{}, ts)
		})
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in string
		ok bool
	}{
		{"10/Oct/2023:13:55:36 -0700", true},
		{"01/jan/1970:00:00:00 +0000", true},
		{"29/Feb/2000:12:00:00 +1400", true},
		{"01/Mar/0000:00:00:00 -2400", true},
		{"01/Jan/0000:00:00:00 +0000", true},
		{"31/Dec/9999:23:59:59 -0000", true},
		{"29/Feb/1900:12:00:00 +0000", false},
		{"00/Jan/2023:00:00:00 +0000", false},
		{"10/Oct/2023:24:00:00 +0000", false},
		{"10/Oct/2023:23:60:00 +0000", false},
		{"10/Oct/2023:23:00:60 +0000", false},
		{"10/Oct/2023:23:00:00 +2500", false},
		{"10/Oct/2023:23:00:00 *0000", false},
		{"10/Oct/2023:23:00:00 -07:00", false},
		{"10/Oct/2023 23:00:00 -0700", false},
		{"1/Oct/2023:23:00:00 -0700", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, ok := ParseTime([]byte(tc.in))
			want, err := time.Parse(layout, tc.in)
			if ok != tc.ok || (err == nil) != tc.ok {
				t.Fatalf("ParseTime ok=%v, time.Parse err=%v, want ok=%v", ok, err, tc.ok)
			}
			if ok && !got.Equal(want) {
				t.Errorf("ParseTime = %v, time.Parse = %v", got, want)
			}
		})
	}
}

const layout = "02/Jan/2006:15:04:05 -0700"

func TestParseDoesNotAllocate(t *testing.T) {
	line := []byte(nginxLine)
	f := make(event.Fields, 0, MaxFields)
	if n := testing.AllocsPerRun(100, func() { f, _, _ = Parse(f[:0], line, Nginx) }); n != 0 {
		t.Errorf("Parse allocates %v times per line, want 0", n)
	}
}
