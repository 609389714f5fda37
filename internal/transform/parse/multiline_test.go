package parse

import (
	"testing"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// TestMultiLinePatterns: in a regex or grok pattern `.` does not match a
// newline, so a pattern meant to take the rest of a multi-line record
// fails on it; `(?s)` at the start makes `.` match newlines too (the
// behaviour docs/components/transform-parse.md describes).
func TestMultiLinePatterns(t *testing.T) {
	t.Parallel()
	const record = "ERROR request failed\n  at handler (app.go:12)\n  at main (main.go:3)"
	for _, tc := range []struct {
		name    string
		format  string
		pattern string
		want    event.Fields // nil: the record does not match
	}{
		{name: "regex without (?s) stops at the newline", format: "regex",
			pattern: `^(?P<level>[A-Z]+) (?P<text>.*)$`},
		{name: "regex with (?s) takes every line", format: "regex",
			pattern: `(?s)^(?P<level>[A-Z]+) (?P<text>.*)$`,
			want:    event.Fields{sf("level", "ERROR"), sf("text", "request failed\n  at handler (app.go:12)\n  at main (main.go:3)")}},
		{name: "grok without (?s) stops at the newline", format: "grok",
			pattern: `^%{LOGLEVEL:level} %{GREEDYDATA:text}$`},
		{name: "grok with (?s) takes every line", format: "grok",
			pattern: `(?s)^%{LOGLEVEL:level} %{GREEDYDATA:text}$`,
			want:    event.Fields{sf("level", "ERROR"), sf("text", "request failed\n  at handler (app.go:12)\n  at main (main.go:3)")}},
		{name: "grok without (?s) and unanchored takes the first line only", format: "grok",
			pattern: `^%{LOGLEVEL:level} %{GREEDYDATA:text}`,
			want:    event.Fields{sf("level", "ERROR"), sf("text", "request failed")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := newTransform(t, cfg(tc.format, func(c *Config) { c.Pattern = tc.pattern }))
			got := process(t, tr, msg(record))
			if len(got) != 1 {
				t.Fatalf("got %d events, want 1 (on_error: keep)", len(got))
			}
			testutil.Diff(t, tc.want, got[0].Fields, cmpOpts...)
			failures := 0.0
			if tc.want == nil {
				failures = 1
			}
			testutil.Diff(t, failures, counter(tr.failures))
		})
	}
}
