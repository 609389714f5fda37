package journald

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/testutil"
)

// TestStart: Start fails when journalctl cannot be run or the data dir
// cannot hold the cursor, with an error naming which; it runs nothing.
func TestStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fake := filepath.Join(dir, "journalctl")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, journalctl, dataDir, want string
	}{
		{name: "runnable", journalctl: fake},
		{name: "missing from PATH", journalctl: "no-such-journalctl", want: `journalctl "no-such-journalctl": executable file not found in $PATH`},
		{name: "missing path", journalctl: filepath.Join(dir, "nope"), want: "no such file or directory"},
		// procfs: reading the cursor finds none, creating the directory
		// fails, even for root.
		{name: "data dir cannot be created", journalctl: fake, dataDir: "/proc/self/sluice-journald-test", want: "creating data dir: mkdir /proc/self/sluice-journald-test: "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			deps := testutil.Deps(t, "journal")
			if tc.dataDir != "" {
				deps.DataDir = tc.dataDir
			}
			s := newSource(t, deps, filepath.Join(dir, "system.journal"))
			s.cfg.Journalctl = tc.journalctl
			err := s.Start(t.Context())
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Start: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Start = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestCancelledRunStartsNothing: Run with its context already done
// returns at once without running journalctl (here one that would fail).
func TestCancelledRunStartsNothing(t *testing.T) {
	t.Parallel()
	s := newSource(t, testutil.Deps(t, "journal"), "/nonexistent/system.journal")
	s.cfg.Journalctl = "/bin/false"
	if err := s.Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Run(ctx, (&testutil.Collector{}).Emit); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := testutil.CounterValue(t, s.restarts.(prometheus.Counter)); n != 0 {
		t.Errorf("journalctl restarted %v times by a cancelled Run", n)
	}
}
