package file

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
)

// waitFor polls cond in real time, for tests outside synctest bubbles.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !eventually(cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

// eventually reports whether cond became true within 10s.
func eventually(cond func() bool) bool { return testutil.Eventually(10*time.Second, cond) }

// With directory notifications, new lines and new files are read long
// before the next poll or glob scan would find them.
func TestDirectoryNotifications(t *testing.T) {
	e := newEnv(t)
	e.write("a.log", "")
	col := &testutil.Collector{}
	r := e.start(e.config(func(c *Config) {
		c.WatchDirectories = true
		c.PollInterval = cfgDur(time.Hour)
		c.GlobInterval = cfgDur(time.Hour)
	}), col.Emit)
	defer r.stop(t)
	// The first checkpoint is written once the watches are set up.
	waitFor(t, "the first checkpoint", func() bool {
		_, err := os.Stat(filepath.Join(e.deps.DataDir, checkpointFile))
		return err == nil
	})
	e.write("a.log", "one\n")
	waitFor(t, "a line in a known file", func() bool { return slices.Contains(col.Messages(), "one") })
	e.write("b.log", "two\n")
	waitFor(t, "a line in a new file", func() bool { return slices.Contains(col.Messages(), "two") })
}
