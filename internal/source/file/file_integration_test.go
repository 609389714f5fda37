package file

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
)

// writeRotating writes n numbered lines to app.log in real time, renaming
// it to app.log.<k> and starting a new one every `every` lines. Each file
// lives for every/10 milliseconds at least: a file created and renamed
// away (to a name no glob matches) before a scan sees it cannot be read.
func writeRotating(t *testing.T, e *env, n, every int, done chan<- struct{}) {
	defer close(done)
	f, err := os.OpenFile(e.path("app.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Error(err)
		return
	}
	for i := range n {
		if i > 0 && i%every == 0 {
			f.Close()
			if err := os.Rename(e.path("app.log"), e.path(fmt.Sprintf("app.log.%d", i/every))); err != nil {
				t.Error(err)
				return
			}
			if f, err = os.OpenFile(e.path("app.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
				t.Error(err)
				return
			}
		}
		fmt.Fprintf(f, "line %d %s\n", i, strings.Repeat("x", i%50))
		if i%10 == 0 {
			// A bounded load generator: pausing now and then lets the
			// reader interleave with the writes and rotations. Nothing
			// asserts on timing.
			time.Sleep(time.Millisecond)
		}
	}
	f.Close()
}

func countTrue(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

// checkExactlyOnce checks that msgs hold lines 0..n-1 once each.
func checkExactlyOnce(t *testing.T, msgs []string, n int) {
	t.Helper()
	seen := make([]int, n)
	for _, m := range msgs {
		fields := strings.Fields(m)
		i, err := strconv.Atoi(fields[1])
		if err != nil || i >= n {
			t.Fatalf("bad line %q", m)
		}
		seen[i]++
	}
	bad := 0
	for i, c := range seen {
		if c != 1 {
			if bad++; bad < 20 {
				t.Errorf("line %d seen %d times", i, c)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d lines not seen exactly once", bad, n)
	}
}

// Rotation by rename while a writer goes full speed, with directory
// notifications on: every line exactly once.
func TestRotationWhileWriting(t *testing.T) {
	testutil.SkipIfShort(t)
	e := newEnv(t)
	e.write("app.log", "")
	col := &testutil.Collector{}
	r := e.start(e.config(func(c *Config) {
		c.WatchDirectories = true
		c.GlobInterval = cfgDur(100 * time.Millisecond)
		c.PollInterval = cfgDur(50 * time.Millisecond)
		c.RotateWait = cfgDur(time.Second)
	}), col.Emit)
	waitFor(t, "the first checkpoint", func() bool {
		_, err := os.Stat(filepath.Join(e.deps.DataDir, checkpointFile))
		return err == nil
	})
	const n = 20000
	done := make(chan struct{})
	go writeRotating(t, e, n, 4000, done)
	<-done
	if !eventually(func() bool { return len(col.Messages()) >= n }) {
		t.Error("timed out waiting for every line")
	}
	waitFor(t, "the checkpoint to cover app.log", func() bool { return caughtUp(e) })
	r.stop(t)
	checkExactlyOnce(t, col.Messages(), n)
}

// caughtUp reports whether the checkpoint covers all of app.log: the source
// read and had acknowledged everything written to it, so it has nothing
// left to emit from it (a duplicate would have come before).
func caughtUp(e *env) bool {
	fi, err := os.Stat(e.path("app.log"))
	return err == nil && committedOffset(e.t, e.deps.DataDir, e.path("app.log")) == fi.Size()
}

// Stopping and restarting the source again and again while a writer
// rotates its file loses and repeats nothing when every batch is acked.
func TestRestartsWhileWriting(t *testing.T) {
	testutil.SkipIfShort(t)
	e := newEnv(t)
	e.write("app.log", "")
	cfg := e.config(func(c *Config) {
		c.Include = []string{e.path("app.log*")} // rotated files stay visible across restarts
		c.ReadFrom = "beginning"
		c.GlobInterval = cfgDur(20 * time.Millisecond)
		c.PollInterval = cfgDur(10 * time.Millisecond)
	})
	col := &testutil.Collector{}
	r := e.start(cfg, col.Emit)
	const n = 20000
	done := make(chan struct{})
	go writeRotating(t, e, n, 5000, done)
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-time.After(30 * time.Millisecond):
			r.stop(t)
			r = e.start(cfg, col.Emit)
		}
	}
	if !eventually(func() bool { return len(col.Messages()) >= n }) {
		t.Error("timed out waiting for every line")
	}
	waitFor(t, "the checkpoint to cover app.log", func() bool { return caughtUp(e) })
	r.stop(t)
	checkExactlyOnce(t, col.Messages(), n)
}

// A crash (kill -9) leaves the checkpoint as it was last written. A new
// instance started from such a copy, taken at a random moment while lines
// were written and rotated, finds every line not delivered before the
// crash; duplicates are allowed, loss is not.
func TestCrashRecovery(t *testing.T) {
	testutil.SkipIfShort(t)
	e := newEnv(t)
	e.write("app.log", "")
	cfg := e.config(func(c *Config) {
		c.Include = []string{e.path("app.log*")}
		c.ReadFrom = "beginning"
	})
	col := &testutil.Collector{}
	r := e.start(cfg, col.Emit)
	const n = 20000
	done := make(chan struct{})
	go writeRotating(t, e, n, 5000, done)
	// Crash a good way into the writing, with rotations behind.
	waitFor(t, "a quarter of the lines", func() bool { return len(col.Messages()) >= n/4 })
	// The crash: what is delivered now, and the checkpoint file now.
	delivered := len(col.Messages())
	saved, err := os.ReadFile(filepath.Join(e.deps.DataDir, checkpointFile))
	if err != nil {
		t.Fatal(err)
	}
	<-done
	r.stop(t)
	before := col.Messages()[:delivered]

	e2 := newEnv(t)
	e2.dir = e.dir
	if err := os.WriteFile(filepath.Join(e2.deps.DataDir, checkpointFile), saved, 0o600); err != nil {
		t.Fatal(err)
	}
	col2 := &testutil.Collector{}
	r2 := e2.start(cfg, col2.Emit)
	// Wait for every line, not for a count: the lines delivered twice
	// would make a count complete while some are still on their way.
	missing := func() int {
		seen := make([]bool, n)
		for _, m := range append(slices.Clone(before), col2.Messages()...) {
			i, _ := strconv.Atoi(strings.Fields(m)[1])
			seen[i] = true
		}
		return n - countTrue(seen)
	}
	if !eventually(func() bool { return missing() == 0 }) {
		t.Errorf("%d lines lost (%d delivered before the crash, %d after)", missing(), delivered, len(col2.Messages()))
	}
	r2.stop(t)
	t.Logf("%d delivered before the crash, %d after (%d duplicates)", delivered, len(col2.Messages()), delivered+len(col2.Messages())-n)
}
