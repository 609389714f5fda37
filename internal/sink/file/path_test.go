package file

import (
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestPathTemplate(t *testing.T) {
	t.Parallel()
	ts := time.Date(2024, 3, 7, 5, 6, 9, 0, time.FixedZone("X", -3*3600)) // 08:06:09 UTC
	ev := event.Event{Timestamp: ts, Host: "web1", Stream: "api", Fields: event.Fields{
		{Key: "app", Value: event.String("shop")},
		{Key: "n", Value: event.Int(42)},
		{Key: "http", Value: event.Object(event.Fields{{Key: "status", Value: event.Int(500)}})},
		{Key: "at", Value: event.Time(time.Unix(0, 0))},
	}}
	for _, tc := range []struct {
		name, tmpl, want string
	}{
		{"static", "/var/log/out.log", "/var/log/out.log"},
		{"strftime in UTC", "/l/%Y/%m/%d/%H-%M-%S.log", "/l/2024/03/07/08-06-09.log"},
		{"short verbs", "%y %j %F %T %s %%", "24 067 2024-03-07 08:06:09 1709798769 %"},
		{"attributes", "/l/{{ .host }}/{{.stream}}.log", "/l/web1/api.log"},
		{"fields and paths", "/l/{{ .app }}-{{ .n }}-{{ .http.status }}", "/l/shop-42-500"},
		{"time field", "/l/{{ .at }}", "/l/1970-01-01T00:00:00.000000000Z"},
		{"missing field", "/l/{{ .nope }}.log", "/l/_.log"},
		{"mixed", "/l/{{ .stream }}-%F.log", "/l/api-2024-03-07.log"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := parsePath(tc.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			testutil.Diff(t, tc.want, string(p.appendPath([]byte("x"), &ev))[1:])
		})
	}
}

func TestPathSanitizesValues(t *testing.T) {
	t.Parallel()
	p, err := parsePath("/base/{{ .v }}.log")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, value, want string
	}{
		{"plain", "app", "/base/app.log"},
		{"traversal", "../../etc/passwd", "/base/______etc_passwd.log"},
		{"dot dot alone", "..", "/base/__.log"},
		{"dot alone", ".", "/base/_.log"},
		{"empty", "", "/base/_.log"},
		{"slash", "a/b", "/base/a_b.log"},
		{"backslash", `a\b`, "/base/a_b.log"},
		{"NUL and newline", "a\x00b\nc", "/base/a_b_c.log"},
		{"dots inside", "a...b", "/base/a__.b.log"},
		{"unicode kept", "café", "/base/café.log"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ev := event.Event{Fields: event.Fields{{Key: "v", Value: event.String(tc.value)}}}
			testutil.Diff(t, tc.want, string(p.appendPath(nil, &ev)))
		})
	}
}

func TestParsePathErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, tmpl, want string
	}{
		{"empty", "", "path is required"},
		{"unknown verb", "/l/%Q.log", "unknown strftime verb"},
		{"trailing percent", "/l/%", "unknown strftime verb"},
		{"unclosed", "/l/{{ .stream", "unclosed {{"},
		{"not a field", "/l/{{ stream }}", "only field references"},
		{"pipeline", "/l/{{ .a | lower }}", "only field references"},
		{"bare dot", "/l/{{ . }}", "only field references"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := parsePath(tc.tmpl)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parsePath(%q) = %v, want error containing %q", tc.tmpl, err, tc.want)
			}
		})
	}
}

func FuzzPathTemplate(f *testing.F) {
	f.Add("/base/{{ .v }}/%Y.log", "../x")
	f.Add("%%{{.v}}%F", ".")
	f.Add("{{ .v }}{{ .v }}", "")
	f.Add("/a/{{", "a/b\x00")
	f.Fuzz(func(t *testing.T, tmpl, value string) {
		ev := event.Event{Timestamp: time.Unix(1e9, 0), Fields: event.Fields{{Key: "v", Value: event.String(value)}}}
		if p, err := parsePath(tmpl); err == nil {
			_ = p.appendPath(nil, &ev)
		}
		// A value alone in a path element must stay one harmless element.
		p, err := parsePath("/base/{{ .v }}")
		if err != nil {
			t.Fatal(err)
		}
		got := string(p.appendPath(nil, &ev))
		elem, ok := strings.CutPrefix(got, "/base/")
		if !ok || elem == "" || elem == "." || strings.Contains(elem, "..") || strings.ContainsAny(elem, "/\\\x00\n") {
			t.Fatalf("value %q rendered to unsafe path %q", value, got)
		}
		if len(value) > 0 && len(elem) != len(value) {
			t.Fatalf("value %q changed length: %q", value, elem)
		}
	})
}
