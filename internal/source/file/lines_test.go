package file

import (
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
)

func TestLongLines(t *testing.T) {
	for _, tc := range []struct {
		name  string
		mode  string
		parts []string // written with a pause between, so the line is read in pieces
		want  []string
		count float64
	}{
		{"split", "split", []string{"0123456789abc\nok\n"}, []string{"01234567", "89abc", "ok"}, 1},
		{"truncate", "truncate", []string{"0123456789abc\nok\n"}, []string{"01234567", "ok"}, 1},
		{"split across reads", "split", []string{"0123456789", "abc\nok\n"}, []string{"01234567", "89abc", "ok"}, 1},
		{"truncate across reads", "truncate", []string{"0123456789", "abcdefghijkl", "mn\nok\n"}, []string{"01234567", "ok"}, 1},
		{"two long lines", "truncate", []string{"0123456789\nabcdefghij\n"}, []string{"01234567", "abcdefgh"}, 2},
		{"exactly the limit", "split", []string{"01234567\n"}, []string{"01234567"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t)
				e.write("a.log", "")
				e.write("b.log", "")
				col := &testutil.Collector{}
				r := e.start(e.config(func(c *Config) { c.MaxLineBytes = 8; c.LongLines = tc.mode }), col.Emit)
				step(time.Second)
				for i, p := range tc.parts {
					e.write("a.log", p)
					// Another file is read in between, so the line reader
					// is moved away and must find its place again.
					e.write("b.log", strings.Repeat("b", i+1)+"\n")
					step(time.Second)
				}
				r.stop(t)
				testutil.Diff(t, tc.want, perStream(col)["a.log"])
				if n := e.metric("file_long_lines_total", ""); n != tc.count {
					t.Errorf("long lines %v, want %v", n, tc.count)
				}
			})
		})
	}
}

type recorded struct {
	Msg string
	End int64
}

type recorder []recorded

func (r *recorder) record(msg []byte, end int64) { *r = append(*r, recorded{string(msg), end}) }

func TestJoiner(t *testing.T) {
	for _, tc := range []struct {
		name     string
		maxLines int
		maxBytes int
		lines    []string
		want     []recorded // after a final flush
	}{
		{"stack trace", 100, 1000,
			[]string{"Exception: x", "  at a", "  at b", "Next", "Last"},
			[]recorded{{"Exception: x\n  at a\n  at b", 3}, {"Next", 4}, {"Last", 5}}},
		{"leading continuation lines form a record", 100, 1000,
			[]string{"  orphan", "  orphan2", "Start"},
			[]recorded{{"  orphan\n  orphan2", 2}, {"Start", 3}}},
		{"max lines", 2, 1000,
			[]string{"S", " 1", " 2", " 3"},
			[]recorded{{"S\n 1", 2}, {" 2\n 3", 4}}},
		{"max bytes", 100, 6,
			[]string{"S", " 12", " 34", " 5"},
			[]recorded{{"S\n 12", 2}, {" 34\n 5", 4}}},
		{"a line over max bytes stands alone", 100, 4,
			[]string{"S", " 123456", "T"},
			[]recorded{{"S", 1}, {" 123456", 2}, {"T", 3}}},
		{"empty lines are continuation", 100, 1000,
			[]string{"S", "", "T"},
			[]recorded{{"S\n", 2}, {"T", 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := &joiner{start: regexp.MustCompile(`^\S`), maxLines: tc.maxLines, maxBytes: tc.maxBytes, timeout: time.Second}
			var rec record
			var out recorder
			for i, l := range tc.lines {
				j.add(&rec, []byte(l), int64(i+1), time.Time{}, &out)
			}
			j.flush(&rec, &out)
			testutil.Diff(t, tc.want, []recorded(out))
		})
	}
}

// Records are flushed by the next start line or after the timeout, and a
// record's checkpoint is the end of its last line.
func TestMultiline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.write("a.log", "")
		col := &testutil.Collector{}
		cfg := e.config(func(c *Config) {
			c.Multiline.StartPattern = `^\S`
			c.Multiline.Timeout = cfgDur(time.Second)
		})
		r := e.start(cfg, col.Emit)
		step(time.Second)
		first := "Exception: boom\n  at a.b(c)\n  at d.e(f)\n"
		e.write("a.log", first+"Next event\n")
		step(500 * time.Millisecond)
		testutil.Diff(t, []string{"Exception: boom\n  at a.b(c)\n  at d.e(f)"}, col.Messages())
		testutil.Diff(t, map[string]int64{"a.log": int64(len(first))}, e.checkpoint())
		// A continuation within the timeout joins the pending record.
		e.write("a.log", "  more\n")
		step(900 * time.Millisecond)
		testutil.Diff(t, 1, len(col.Messages()))
		step(200 * time.Millisecond)
		testutil.Diff(t, []string{"Exception: boom\n  at a.b(c)\n  at d.e(f)", "Next event\n  more"}, col.Messages())
		r.stop(t)
		testutil.Diff(t, map[string]int64{"a.log": int64(len(first) + len("Next event\n  more\n"))}, e.checkpoint())
	})
}

// A pending record is not committed: a restart reads its lines again.
func TestMultilinePendingNotCommitted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.write("a.log", "")
		cfg := e.config(func(c *Config) { c.Multiline.StartPattern = `^\S`; c.Multiline.Timeout = cfgDur(time.Hour) })
		col := &testutil.Collector{}
		r := e.start(cfg, col.Emit)
		step(time.Second)
		e.write("a.log", "A\n a\nB\n b\n")
		step(time.Second)
		r.stop(t)
		testutil.Diff(t, []string{"A\n a"}, col.Messages())
		col2 := &testutil.Collector{}
		r = e.start(cfg, col2.Emit)
		e.write("a.log", "C\n")
		step(time.Second)
		r.stop(t)
		testutil.Diff(t, []string{"B\n b"}, col2.Messages())
	})
}

func FuzzJoiner(f *testing.F) {
	f.Add("Exception\n  at a\n  at b\nNext\n", `^\S`, 3, 20)
	f.Add("\n\n\n", `^$`, 1, 1)
	f.Add("a\nb\nc", `b`, 500, 1<<20)
	f.Add("x\xff\x00\ny", `^[^x]`, 2, 3)
	f.Fuzz(func(t *testing.T, text, pattern string, maxLines, maxBytes int) {
		re, err := regexp.Compile(pattern)
		if err != nil || maxLines <= 0 || maxBytes <= 0 {
			t.Skip()
		}
		j := &joiner{start: re, maxLines: maxLines, maxBytes: maxBytes, timeout: time.Second}
		lines := strings.Split(text, "\n")
		var rec record
		var out recorder
		end := int64(0)
		for _, l := range lines {
			end += int64(len(l) + 1)
			j.add(&rec, []byte(l), end, time.Time{}, &out)
			if rec.lines > maxLines || (rec.lines > 1 && len(rec.buf) > maxBytes) {
				t.Fatalf("record of %d lines, %d bytes exceeds limits", rec.lines, len(rec.buf))
			}
		}
		j.flush(&rec, &out)
		var msgs []string
		last := int64(0)
		for _, r := range out {
			msgs = append(msgs, r.Msg)
			if r.End <= last {
				t.Fatalf("end offsets not increasing: %v", out)
			}
			last = r.End
		}
		if got := strings.Join(msgs, "\n"); got != text {
			t.Fatalf("bytes lost or changed:\n got %q\nwant %q", got, text)
		}
		if last != end {
			t.Fatalf("last record ends at %d, want %d", last, end)
		}
	})
}
