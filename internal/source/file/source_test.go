package file

import (
	"os"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
)

func TestReadFrom(t *testing.T) {
	for _, tc := range []struct {
		name     string
		readFrom string
		before   string // in the file before the source starts
		after    string // appended while it runs
		want     []string
	}{
		{"end skips existing lines", "end", "old1\nold2\n", "new\n", []string{"new"}},
		{"beginning reads them", "beginning", "old1\nold2\n", "new\n", []string{"old1", "old2", "new"}},
		{"end starts at the partial last line", "end", "old\npar", "tial\nnext\n", []string{"partial", "next"}},
		{"end of an empty file", "end", "", "a\n", []string{"a"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t)
				e.write("a.log", tc.before)
				col := &testutil.Collector{}
				r := e.start(e.config(func(c *Config) { c.ReadFrom = tc.readFrom }), col.Emit)
				step(time.Second)
				e.write("a.log", tc.after)
				step(time.Second)
				r.stop(t)
				testutil.Diff(t, tc.want, col.Messages())
			})
		})
	}
}

func TestEventShape(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		col := &testutil.Collector{}
		r := e.start(e.config(func(c *Config) { c.FileField = "file" }), col.Emit)
		step(time.Second)
		e.write("a.log", "x\ny\n")
		step(time.Second)
		r.stop(t)
		evs := col.Events()
		if len(evs) != 2 {
			t.Fatalf("got %d events", len(evs))
		}
		host, _ := os.Hostname()
		for _, ev := range evs {
			if ev.Stream != e.path("a.log") || ev.Host != host || ev.Timestamp.IsZero() {
				t.Errorf("event %+v", ev)
			}
			if v, ok := ev.Fields.Get("file"); !ok || v.Str() != e.path("a.log") {
				t.Errorf("file field %v %v", v, ok)
			}
			if cap(ev.Fields) != 1 || cap(ev.Message) != len(ev.Message) {
				t.Errorf("shared capacity: fields %d message %d/%d", cap(ev.Fields), len(ev.Message), cap(ev.Message))
			}
		}
	})
}

// Files that appear while the source runs are read from their beginning,
// whatever read_from says; excluded ones are not read.
func TestNewFilesPickedUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		col := &testutil.Collector{}
		r := e.start(e.config(func(c *Config) { c.Exclude = []string{"skip*.log"} }), col.Emit)
		step(time.Second)
		e.write("b.log", "b1\nb2\n")
		e.write("skip.log", "no\n")
		step(time.Second)
		r.stop(t)
		testutil.Diff(t, []string{"b1", "b2"}, col.Messages())
	})
}

func TestRestartResumesFromCheckpoint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		cfg := e.config(func(c *Config) { c.ReadFrom = "beginning" })
		text, first := numbered("a", 1, 5)
		e.write("a.log", text)
		col := &testutil.Collector{}
		r := e.start(cfg, col.Emit)
		step(time.Second)
		r.stop(t)
		testutil.Diff(t, first, col.Messages())
		testutil.Diff(t, map[string]int64{"a.log": int64(len(text))}, e.checkpoint())

		// Lines written while stopped, and a file created meanwhile (read
		// from its beginning: this is not the first start).
		more, second := numbered("a", 6, 8)
		e.write("a.log", more)
		e.write("b.log", "b1\n")
		col2 := &testutil.Collector{}
		r = e.start(cfg, col2.Emit)
		step(time.Second)
		r.stop(t)
		testutil.Diff(t, append(second, "b1"), col2.Messages())
	})
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"defaults with include", func(c *Config) {}, true},
		{"no include", func(c *Config) { c.Include = nil }, false},
		{"bad glob", func(c *Config) { c.Include = []string{"/x/["} }, false},
		{"bad exclude", func(c *Config) { c.Exclude = []string{"["} }, false},
		{"bad read_from", func(c *Config) { c.ReadFrom = "middle" }, false},
		{"bad long_lines", func(c *Config) { c.LongLines = "wrap" }, false},
		{"zero batch", func(c *Config) { c.BatchLines = 0 }, false},
		{"zero fingerprint", func(c *Config) { c.FingerprintBytes = 0 }, false},
		{"huge fingerprint", func(c *Config) { c.FingerprintBytes = 2 << 20 }, false},
		{"bad multiline pattern", func(c *Config) { c.Multiline.StartPattern = "(" }, false},
		{"multiline zero timeout", func(c *Config) { c.Multiline.StartPattern = "^x"; c.Multiline.Timeout = 0 }, false},
		{"multiline ok", func(c *Config) { c.Multiline.StartPattern = `^\S` }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Config{}
			c.Defaults()
			c.Include = []string{"/var/log/*.log"}
			tc.mod(c)
			if err := c.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
