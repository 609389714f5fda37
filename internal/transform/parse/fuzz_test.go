package parse

import (
	"bytes"
	"testing"

	"github.com/sluice-log/sluice/internal/event"
)

// FuzzProcess runs arbitrary lines through every format with on_error: tag
// and checks that the event always comes out, with its message untouched
// unless the line itself set it, and with parse_error exactly when parsing
// failed (in which case nothing else changed).
func FuzzProcess(f *testing.F) {
	f.Add([]byte(`{"message":"m","timestamp":1.5e9,"host":{"a":1},"x":[null]}`))
	f.Add([]byte(`timestamp=2024-01-02T03:04:05Z host=h a="b c"`))
	f.Add([]byte(nginxLine))
	f.Add([]byte(`{"timestamp":"14/Nov/2023:23:13:20 +0100","timestamp_raw":1}`))
	formats := []Config{cfg("json"), cfg("logfmt"), cfg("nginx_combined"), cfg("apache_combined"),
		cfg("grok", func(c *Config) { c.Pattern = `%{WORD:timestamp} %{NUMBER:n:float}` }),
		cfg("json", func(c *Config) { c.Target = "j" })}
	var trs []*Transform
	for _, c := range formats {
		c.OnError = OnErrorTag
		trs = append(trs, newTransform(f, c))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		for i, tr := range trs {
			orig := bytes.Clone(line)
			in := event.Event{Message: line, Host: "h0", Fields: event.Fields{sf("pre", "x")}}
			got := process(t, tr, in)
			if len(got) != 1 {
				t.Fatalf("format %d: %d events out", i, len(got))
			}
			if !bytes.Equal(line, orig) {
				t.Fatalf("format %d: message bytes modified", i)
			}
			if _, failed := got[0].Fields.Get(ErrorField); failed {
				if len(got[0].Fields) != 2 || got[0].Host != "h0" || !bytes.Equal(got[0].Message, line) {
					t.Fatalf("format %d: failed parse changed the event: %+v", i, got[0])
				}
			}
			if _, ok := got[0].Fields.Get("pre"); !ok {
				t.Fatalf("format %d: field pre lost", i)
			}
		}
	})
}
