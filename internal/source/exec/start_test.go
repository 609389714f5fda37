package exec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil"
)

// TestStart: Start fails, naming the command, when the program cannot be
// run, and passes when it can; it runs nothing either way.
func TestStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := filepath.Join(dir, "tool")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, program, workingDir, want string
	}{
		{name: "in PATH", program: "sh"},
		{name: "absolute", program: script},
		{name: "relative to working_dir", program: "./tool", workingDir: dir},
		{name: "missing from PATH", program: "no-such-program-in-path", want: `command "no-such-program-in-path": executable file not found in $PATH`},
		{name: "missing path", program: "/nonexistent/program", want: `command "/nonexistent/program": stat /nonexistent/program: no such file or directory`},
		{name: "not executable", program: plain, want: `command "` + plain + `": permission denied`},
		{name: "relative missing in working_dir", program: "./tool", workingDir: t.TempDir(), want: "no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newConfig(tc.program)
			c.WorkingDir = tc.workingDir
			src, err := New(testutil.Validated(t, c), testutil.Deps(t, "exec"))
			if err != nil {
				t.Fatal(err)
			}
			err = src.(*Source).Start(t.Context())
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Start: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Start = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
