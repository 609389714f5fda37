package template

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// chainTemplates are chains with a %s for a quoted constant.
var chainTemplates = []string{
	`{{ .v | lower }}`,
	`{{ upper .v }}`,
	`[{{ .v | trim | domain }}]`,
	`{{ .v | trimPrefix %s | trimSuffix %s }}`,
	`{{ replace %s "-" .v }}`,
	`{{ .v | regexReplace %s "<$1>" }}`,
	`{{ regexFind %s .v | upper }}`,
	`{{ .v | ipPrefix 24 64 }}`,
	`{{ .n | ipPrefix 32 128 }}/{{ .missing | lower }}`,
	`{{ .n | lower }} {{ .f | upper }} {{ .obj | trim }} {{ .timestamp | lower }} {{ .message | domain }}`,
}

func chainEvent(v string) *event.Event {
	return &event.Event{
		Timestamp: time.Date(2024, 5, 6, 7, 8, 9, 10, time.UTC),
		Message:   []byte(v),
		Fields: event.Fields{
			{Key: "v", Value: event.String(v)},
			{Key: "n", Value: event.Int(42)},
			{Key: "f", Value: event.Float(1e21)},
			{Key: "obj", Value: event.Object(event.Fields{{Key: "K", Value: event.String(v)}})},
		},
	}
}

func chainSource(i int, arg string) string {
	src := chainTemplates[i%len(chainTemplates)]
	q := strconv.Quote(arg)
	args := make([]any, 0, 2)
	for range 2 {
		args = append(args, q)
	}
	return fmt.Sprintf(src, args[:countVerbs(src)]...)
}

func countVerbs(s string) int {
	n := 0
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '%' && s[i+1] == 's' {
			n++
		}
	}
	return n
}

// TestChains renders chains without text/template, to what it prints.
func TestChains(t *testing.T) {
	tests := []struct{ src, v, want string }{
		{`{{ .v | ipPrefix 24 64 }}`, "198.51.100.7", "198.51.100.0/24"},
		{`{{ domain .v | upper }}`, "bob@Example.com", "EXAMPLE.COM"},
		{`ip={{ .v | regexFind "rip=([0-9.]+)" | ipPrefix 16 64 }};`, "user=<x>, rip=203.0.113.9, lip=1", "ip=203.0.0.0/16;"},
		{`{{ .v | lower }}`, "ÀB", "àb"},
		{`{{ .v | regexReplace "(\\d+)" "#$1" }}`, "a1b22", "a#1b#22"},
		{`{{ replace "" "." .v }}`, "ab", ".a.b."},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			tpl := MustParse(tc.src)
			if !tpl.chained {
				t.Fatal("not rendered as a chain")
			}
			got, err := tpl.Render([]byte("pre:"), chainEvent(tc.v))
			if err != nil {
				t.Fatal(err)
			}
			testutil.Diff(t, "pre:"+tc.want, string(got))
		})
	}
	for _, src := range []string{`{{ .v | printf "%s" }}`, `{{ trimPrefix .v .v }}`, `{{ .v | regexFind "(" }}`, `{{ lower }}`, `{{ .timestamp.Unix | lower }}`, `{{ .v | ipPrefix 24 "64" }}`} {
		if MustParse(src).chained {
			t.Errorf("%s: rendered as a chain, want text/template", src)
		}
	}
	if _, err := MustParse(`{{ .v | ipPrefix 24 64 }}`).Render(nil, chainEvent("web1")); err == nil {
		t.Error("ipPrefix of a host name rendered without error")
	}
}

// FuzzChainMatchesGeneral renders chains both ways, as chains and through
// text/template (a trailing {{ "" }} forces that path): same text, same
// failure.
func FuzzChainMatchesGeneral(f *testing.F) {
	f.Add(0, "Alice@Example.ORG", "")
	f.Add(3, "/api/v1/x.json", "/api")
	f.Add(5, "a1b22\xff", `(\d)`)
	f.Add(6, "user=<bob@x.org>", `user=<([^>]*)>`)
	f.Add(7, "2001:db8::1%eth0", "")
	f.Add(2, "  \u00c0@\u0130x ", "")
	f.Fuzz(func(t *testing.T, i int, v, arg string) {
		if i < 0 {
			i = -i
		}
		src := chainSource(i, arg)
		fast, err := Parse(src)
		if err != nil {
			return
		}
		slow := MustParse(src + `{{ "" }}`)
		if slow.chained || slow.simple {
			t.Fatalf("%s: the general path is not general", src)
		}
		e := chainEvent(v)
		got, ferr := fast.Render(nil, e)
		want, serr := slow.Render(nil, e)
		if (ferr != nil) != (serr != nil) || string(got) != string(want) {
			t.Fatalf("%s on %q: chain %q (%v), text/template %q (%v)", src, v, got, ferr, want, serr)
		}
	})
}

func BenchmarkRenderChain(b *testing.B) {
	for _, src := range []string{`{{ .v | ipPrefix 32 64 }}`, `{{ .v | domain }}`, `{{ .v | regexFind "@(.*)" | lower }}`} {
		b.Run(src, func(b *testing.B) {
			tpl := MustParse(src)
			e := chainEvent("Alice@Example.org")
			if strings.Contains(src, "ipPrefix") {
				e = chainEvent("2001:db8:1:2:aaaa:bbbb:cccc:dddd")
			}
			buf := make([]byte, 0, 64)
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = tpl.Render(buf[:0], e)
			}
		})
	}
}
