package template

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/event"
)

// FuzzStrftime formats random times with random layouts: no panic, text
// without % is copied, and the output appends to what buf held.
func FuzzStrftime(f *testing.F) {
	f.Add("/var/log/x-%Y-%m-%d.log", int64(1709964489), int64(0), 3600)
	f.Add("%j %y %b %a %Z %z %s %% %q %", int64(-62135596800), int64(999999999), -34200)
	f.Add("%F %T %B %A %", int64(253402300799), int64(1), 0)
	f.Fuzz(func(t *testing.T, layout string, sec, nsec int64, offset int) {
		tm := time.Unix(sec, nsec).In(time.FixedZone("Z", offset%(100*3600)))
		out := Strftime([]byte("pre"), layout, tm)
		if !bytes.HasPrefix(out, []byte("pre")) {
			t.Fatalf("lost the buffer's content: %q", out)
		}
		if !strings.Contains(layout, "%") && string(out[3:]) != layout {
			t.Fatalf("Strftime(%q) = %q, want the layout unchanged", layout, out[3:])
		}
	})
}

// FuzzRender parses random templates and renders those that parse on
// events built from random values: no panic, and a failed render leaves the
// buffer as it was.
func FuzzRender(f *testing.F) {
	f.Add(`{{ .status }} {{ .a.b }}`, "status", "503", int64(7), 1.5)
	f.Add(`{{ .k | split "/" | last | upper }}`, "k", "/a/b", int64(0), 0.0)
	f.Add(`{{ with .obj }}{{ .x }}{{ end }}{{ index .list -1 }}`, "x", "y", int64(-1), -2.5)
	f.Add(`{{ strftime "%Y" .timestamp }}{{ default "d" .missing }}{{ toJson . }}`, "", "", int64(1), 1e300)
	f.Add(`{{ regexReplace .k "x" .v }}{{ .timestamp.Unix }}{{ $.host }}`, "k", "(", int64(2), 0.1)
	f.Add(`{{ .v | ipPrefix 24 64 }} {{ .message | domain }} {{ regexFind "@(.*)" .message }}`, "v", "a@2001:db8::1", int64(3), 0.0)
	f.Fuzz(func(t *testing.T, src, key, val string, n int64, fl float64) {
		if len(src) > 300 || strings.Contains(src, "range") || strings.Contains(src, "template") {
			return // ranges over integers and recursive templates can run for long
		}
		tpl, err := Parse(src)
		if err != nil {
			return
		}
		e := &event.Event{
			Timestamp: time.Unix(n, 0), Host: val, Stream: key, Message: []byte(val),
			Fields: event.Fields{
				{Key: key, Value: event.String(val)},
				{Key: "n", Value: event.Int(n)},
				{Key: "fl", Value: event.Float(fl)},
				{Key: "obj", Value: event.Object(event.Fields{{Key: key, Value: event.Int(n)}})},
				{Key: "list", Value: event.Array([]event.Value{event.String(val), event.Null(), event.Float(fl)})},
			},
		}
		out, err := tpl.Render([]byte("pre"), e)
		if !bytes.HasPrefix(out, []byte("pre")) {
			t.Fatalf("lost the buffer's content: %q", out)
		}
		if err != nil && string(out) != "pre" {
			t.Fatalf("partial output on error: %q", out)
		}
	})
}

// FuzzFieldText checks that the fast path prints random values exactly as
// text/template prints them.
func FuzzFieldText(f *testing.F) {
	f.Add("x", int64(5), 2.5, true)
	f.Add("\xff\x00\"", int64(-1<<63), 1e21, false)
	f.Fuzz(func(t *testing.T, s string, n int64, fl float64, b bool) {
		e := &event.Event{Fields: event.Fields{
			{Key: "s", Value: event.String(s)}, {Key: "n", Value: event.Int(n)},
			{Key: "f", Value: event.Float(fl)}, {Key: "b", Value: event.Bool(b)},
			{Key: "o", Value: event.Object(event.Fields{{Key: s, Value: event.Float(fl)}})},
		}}
		for _, name := range []string{"s", "n", "f", "b", "o"} {
			fast, _ := MustParse("{{ ."+name+" }}").Render(nil, e)
			slow, err := MustParse("{{ ."+name+" }}{{ `` }}").Render(nil, e)
			if err != nil || !bytes.Equal(fast, slow) {
				t.Fatalf("%s: fast %q, text/template %q (%v)", name, fast, slow, err)
			}
		}
	})
}
