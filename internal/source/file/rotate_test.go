package file

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
)

// perStream splits messages by stream base name, keeping order.
func perStream(col *testutil.Collector) map[string][]string {
	out := map[string][]string{}
	for _, ev := range col.Events() {
		k := filepath.Base(ev.Stream)
		out[k] = append(out[k], string(ev.Message))
	}
	return out
}

// appendTo appends to an open descriptor, as a writer that keeps its file
// open across a rename does.
func appendTo(t testing.TB, f *os.File, s string) {
	t.Helper()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func TestRenameRotation(t *testing.T) {
	for _, tc := range []struct {
		name string
		glob string // also matching the rotated name, or not
	}{
		{"rotated name not matched", "*.log"},
		{"rotated name matched", "*.log*"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t)
				cfg := e.config(func(c *Config) { c.Include = []string{filepath.Join(e.dir, tc.glob)} })
				w, err := os.OpenFile(e.path("app.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
				if err != nil {
					t.Fatal(err)
				}
				defer w.Close()
				col := &testutil.Collector{}
				r := e.start(cfg, col.Emit)
				step(time.Second)
				a1, wantA := numbered("a", 1, 50)
				appendTo(t, w, a1)
				step(20 * time.Millisecond)
				// The writer appends more before and after the rename, then
				// reopens; the lines written late to the old file count too.
				a2, wantA2 := numbered("a", 51, 60)
				appendTo(t, w, a2)
				if err := os.Rename(e.path("app.log"), e.path("app.log.1")); err != nil {
					t.Fatal(err)
				}
				a3, wantA3 := numbered("a", 61, 65)
				appendTo(t, w, a3)
				w.Close()
				b, wantB := numbered("b", 1, 40)
				e.write("app.log", b)
				step(2 * time.Second)
				r.stop(t)
				got := col.Messages()
				want := append(append(append(wantA, wantA2...), wantA3...), wantB...)
				testutil.Diff(t, len(want), len(got))
				testutil.Diff(t, map[string][]string{"app.log": want}, perStream(col))
				if n := e.metric("file_rotations_total", ""); n != 1 {
					t.Errorf("rotations %v, want 1", n)
				}
			})
		})
	}
}

func TestCopyTruncate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		glob   string
		unread bool // lines written after the last read and before the copy, found in the copy
		bigger bool // more new content than old, so size never shrinks for a poll to see
	}{
		{"copy not matched", "app.log", false, false},
		{"copy matched, nothing unread", "app.log*", false, false},
		{"copy matched, unread lines taken from the copy", "app.log*", true, false},
		{"new content outgrows the old before a poll", "app.log", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				e := newEnv(t)
				cfg := e.config(func(c *Config) {
					c.Include = []string{filepath.Join(e.dir, tc.glob)}
					c.FingerprintBytes = 16
				})
				e.write("app.log", "")
				col := &testutil.Collector{}
				r := e.start(cfg, col.Emit)
				step(time.Second)
				a, want := numbered("first-content-", 1, 20)
				e.write("app.log", a)
				step(time.Second)
				if tc.unread {
					late, wantLate := numbered("late-", 1, 3)
					e.write("app.log", late)
					want = append(want, wantLate...)
				}
				// logrotate copytruncate: copy, then truncate in place, all
				// between two polls.
				data, err := os.ReadFile(e.path("app.log"))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(e.path("app.log.1"), data, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.Truncate(e.path("app.log"), 0); err != nil {
					t.Fatal(err)
				}
				n := 5
				if tc.bigger {
					n = 60
				}
				b, wantB := numbered("second-content-", 1, n)
				e.write("app.log", b)
				step(2 * time.Second)
				r.stop(t)
				got := col.Messages()
				testutil.Diff(t, append(want, wantB...), sortedByContent(got, want, wantB))
				if n := e.metric("file_truncations_total", ""); n != 1 {
					t.Errorf("truncations %v, want 1", n)
				}
			})
		})
	}
}

// sortedByContent orders got as old content first, then new (the copy may
// be read after the new content), keeping the order within each; lines of
// neither kind go last so a diff shows them.
func sortedByContent(got, old, new []string) []string {
	in := func(set []string, s string) bool {
		for _, x := range set {
			if x == s {
				return true
			}
		}
		return false
	}
	var a, b, c []string
	for _, g := range got {
		switch {
		case in(old, g):
			a = append(a, g)
		case in(new, g):
			b = append(b, g)
		default:
			c = append(c, g)
		}
	}
	return append(append(a, b...), c...)
}

func TestPlainTruncation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.write("a.log", "")
		col := &testutil.Collector{}
		r := e.start(e.config(), col.Emit)
		step(time.Second)
		e.write("a.log", "one\ntwo\nthree\n")
		step(time.Second)
		if err := os.Truncate(e.path("a.log"), 0); err != nil {
			t.Fatal(err)
		}
		step(time.Second)
		e.write("a.log", "four\n")
		step(time.Second)
		r.stop(t)
		testutil.Diff(t, []string{"one", "two", "three", "four"}, col.Messages())
		testutil.Diff(t, map[string]int64{"a.log": 5}, e.checkpoint())
		if n := e.metric("file_truncations_total", ""); n != 1 {
			t.Errorf("truncations %v, want 1", n)
		}
	})
}

// A deleted file is read to its end, then dropped with its checkpoint and
// lag series.
func TestDeletedFileDropped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.write("a.log", "")
		e.write("b.log", "")
		col := &testutil.Collector{}
		r := e.start(e.config(), col.Emit)
		step(time.Second)
		e.write("a.log", "one\n")
		step(time.Second)
		if lag := e.metric("file_checkpoint_lag_bytes", e.path("a.log")); lag != 0 {
			t.Errorf("lag %v, want 0", lag)
		}
		if err := os.Remove(e.path("a.log")); err != nil {
			t.Fatal(err)
		}
		step(time.Second)
		r.stop(t)
		testutil.Diff(t, []string{"one"}, col.Messages())
		testutil.Diff(t, map[string]int64{"b.log": 0}, e.checkpoint())
		if lag := e.metric("file_checkpoint_lag_bytes", e.path("a.log")); lag != -1 {
			t.Errorf("lag series of a deleted file still there: %v", lag)
		}
		if n := e.metric("file_rotations_total", ""); n != 0 {
			t.Errorf("a deletion counted as %v rotations", n)
		}
	})
}

// A file rotated away with an unfinished last line gets that line emitted
// once it stayed quiet for rotate_wait; until then its writer may finish it.
func TestRotatedPartialLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.write("app.log", "")
		col := &testutil.Collector{}
		r := e.start(e.config(func(c *Config) { c.RotateWait = cfgDur(time.Second) }), col.Emit)
		step(time.Second)
		e.write("app.log", "one\npart")
		step(100 * time.Millisecond)
		if err := os.Rename(e.path("app.log"), e.path("app.log.1")); err != nil {
			t.Fatal(err)
		}
		step(500 * time.Millisecond)
		e.write("app.log.1", "ial")
		step(500 * time.Millisecond)
		testutil.Diff(t, []string{"one"}, col.Messages())
		step(2 * time.Second)
		r.stop(t)
		testutil.Diff(t, []string{"one", "partial"}, col.Messages())
	})
}

// copytruncate while sluice is stopped: the copy takes the old checkpoint
// by fingerprint (lines written before the stop but never read come from
// it), the truncated original is read from its start.
func TestCopyTruncateWhileStopped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		cfg := e.config(func(c *Config) {
			c.Include = []string{e.path("app.log*")}
			c.FingerprintBytes = 16
		})
		e.write("app.log", "")
		col := &testutil.Collector{}
		r := e.start(cfg, col.Emit)
		step(time.Second)
		a, wantA := numbered("first-content-", 1, 10)
		e.write("app.log", a)
		step(time.Second)
		r.stop(t)
		testutil.Diff(t, wantA, col.Messages())

		e.write("app.log", "first-content-late\n")
		data, err := os.ReadFile(e.path("app.log"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(e.path("app.log.1"), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(e.path("app.log"), 0); err != nil {
			t.Fatal(err)
		}
		e.write("app.log", "second-content-1\n")
		col2 := &testutil.Collector{}
		r = e.start(cfg, col2.Emit)
		step(time.Second)
		r.stop(t)
		testutil.Diff(t, map[string][]string{
			"app.log":   {"second-content-1"},
			"app.log.1": {"first-content-late"},
		}, perStream(col2))
		testutil.Diff(t, map[string]int64{"app.log": 17, "app.log.1": int64(len(data))}, e.checkpoint())
	})
}

func TestCheckpointFormat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.write("a.log", "0123456789\n")
		r := e.start(e.config(func(c *Config) { c.FingerprintBytes = 4; c.ReadFrom = "beginning" }), (&testutil.Collector{}).Emit)
		step(time.Second)
		r.stop(t)
		data, err := os.ReadFile(filepath.Join(e.deps.DataDir, checkpointFile))
		if err != nil {
			t.Fatal(err)
		}
		var st state
		if err := json.Unmarshal(data, &st); err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Stat(e.path("a.log"))
		id := identity(fi)
		testutil.Diff(t, state{Version: 1, Files: []entry{{
			Path: e.path("a.log"), Dev: id.Dev, Inode: id.Ino, FingerprintBytes: 4,
			Fingerprint: hexSum(checksum([]byte("0123"))), Offset: 11, Seen: st.Files[0].Seen,
		}}}, st)
	})
}

// A closed file that disappears from the globs and comes back (a listing
// that raced a rename, a remount) resumes from its checkpoint.
func TestClosedFileComesBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t)
		e.write("a.log", "")
		e.write("b.log", "")
		col := &testutil.Collector{}
		r := e.start(e.config(func(c *Config) { c.MaxOpenFiles = 1 }), col.Emit)
		step(time.Second)
		e.write("a.log", "a1\n")
		step(time.Second)
		e.write("b.log", "b1\n") // a.log is closed to make room
		step(time.Second)
		if err := os.Rename(e.path("a.log"), e.path("a.away")); err != nil {
			t.Fatal(err)
		}
		step(time.Second)
		if err := os.Rename(e.path("a.away"), e.path("a.log")); err != nil {
			t.Fatal(err)
		}
		e.write("a.log", "a2\n")
		step(time.Second)
		r.stop(t)
		testutil.Diff(t, map[string][]string{"a.log": {"a1", "a2"}, "b.log": {"b1"}}, perStream(col))
	})
}
