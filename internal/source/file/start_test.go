package file

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
)

// TestStartDataDir: a data dir that cannot be created or written fails
// Start, with an error naming it; Run without Start fails the same.
func TestStartDataDir(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	regular := filepath.Join(base, "file")
	if err := os.WriteFile(regular, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	readOnly := filepath.Join(base, "ro")
	if err := os.Mkdir(readOnly, 0o500); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, dir, want string
		needsUser       bool // root writes anywhere
	}{
		{name: "under a regular file", dir: filepath.Join(regular, "logs"), want: "data dir " + filepath.Join(regular, "logs") + ": creating checkpoint directory"},
		{name: "not writable", dir: readOnly, want: "data dir " + readOnly + " is not writable: permission denied", needsUser: true},
		{name: "unset", dir: "", want: "needs a data dir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.needsUser && os.Geteuid() == 0 {
				t.Skip("root can write a 0500 directory")
			}
			e := newEnv(t)
			e.deps.DataDir = tc.dir
			src, err := New(testutil.Validated(t, e.config()), e.deps)
			if err != nil {
				t.Fatal(err)
			}
			if err := src.(component.Starter).Start(t.Context()); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Start = %v, want an error containing %q", err, tc.want)
			}
			if err := src.Run(t.Context(), (&testutil.Collector{}).Emit); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run without Start = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestStartThenCancelledRun: Start creates the data dir and leaves no
// write test behind; Run with a context already done reads nothing.
func TestStartThenCancelledRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.deps.DataDir = filepath.Join(t.TempDir(), "new", "logs")
	e.write("a.log", "line\n")
	src, err := New(testutil.Validated(t, e.config()), e.deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.(component.Starter).Start(t.Context()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	ents, err := os.ReadDir(e.deps.DataDir)
	if err != nil || len(ents) != 0 {
		t.Errorf("data dir after Start: %v, %v; want it empty", ents, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	c := &testutil.Collector{}
	if err := src.Run(ctx, c.Emit); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := c.Messages(); len(got) != 0 {
		t.Errorf("a cancelled Run emitted %q", got)
	}
}
