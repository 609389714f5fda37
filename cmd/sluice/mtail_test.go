package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMtailCommand: mtail's flags in both dash forms, one-shot output in
// both formats, --compile_only's errors, an unknown mtail flag refused.
func TestMtailCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	prog := filepath.Join(dir, "progs")
	if err := os.Mkdir(prog, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(path, s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(prog, "codes.mtail"), "counter hits by code as \"http-hits\"\n/ (\\d{3})$/ {\n  hits[$1]++\n}\n")
	log := filepath.Join(dir, "a.log")
	write(log, "x 200\ny 404\nz 200\n")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"json", []string{"--progs", prog, "--logs", log, "--one_shot", "--logtostderr", "-v", "2"}, 0, `"Name": "http-hits"`},
		{"prometheus", []string{"-progs=" + prog, "-logs", log, "-one_shot", "-one_shot_format=prometheus"}, 0,
			`http_hits{code="200",prog="codes.mtail"} 2`},
		{"no prog label", []string{"--progs", prog, "--logs", log, "--one_shot", "--one_shot_format", "prometheus",
			"--emit_prog_label=false"}, 0, `http_hits{code="404"} 1`},
		{"compile only", []string{"--progs", prog, "--compile_only"}, 0, ""},
		{"bad format", []string{"--progs", prog, "--logs", log, "--one_shot", "--one_shot_format=xml"}, 1, "unknown one-shot format"},
		{"unknown flag", []string{"--progs", prog, "--graphite_host_port", "x:1"}, 1, "graphite_host_port"},
		{"no progs", []string{"--one_shot"}, 1, "--progs is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"mtail"}, tc.args...), &stdout, &stderr)
			if code != tc.code || !strings.Contains(stdout.String()+stderr.String(), tc.want) {
				t.Errorf("exit %d (want %d), output %q does not contain %q", code, tc.code, stdout.String()+stderr.String(), tc.want)
			}
		})
	}
	bad := filepath.Join(dir, "bad")
	if err := os.Mkdir(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	write(filepath.Join(bad, "a.mtail"), "counter a\n/x/ {\n a++\n}\n")
	write(filepath.Join(bad, "b.mtail"), "counter b\n")
	write(filepath.Join(bad, "c.mtail"), "/x/ {\n  c++\n}\n")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"mtail", "--progs", bad, "--compile_only"}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "b.mtail:1:9: declaration of metric `b' here is never used") ||
		!strings.Contains(stderr.String(), "c.mtail:2:3: identifier `c' not declared") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr.String())
	}
}
