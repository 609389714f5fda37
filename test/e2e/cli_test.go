package e2e

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestDefaultsValidate(t *testing.T) {
	bin := sluiceBin(t)
	cmd := exec.Command("sh", "-c", bin+" defaults | "+bin+" validate -c /dev/stdin")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("defaults | validate: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "ok") {
		t.Errorf("output %q", out)
	}
}

func TestExitCodes(t *testing.T) {
	bin := sluiceBin(t)
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, bad, "sources:\n  a: { type: file, includ: [x] }\n")
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"version", []string{"version"}, 0, "sluice "},
		{"bad config", []string{"validate", "-c", bad}, 1, `bad.yaml:2:20: sources.a: unknown key "includ" (hint: did you mean "include"?)`},
		{"run bad config", []string{"run", "-c", bad}, 1, `unknown key "includ"`},
		{"unknown command", []string{"frobnicate"}, 1, `unknown command "frobnicate"`},
		{"help", []string{"run", "--help"}, 0, "Examples:"},
		{"missing file", []string{"validate", "-c", "/nonexistent.yaml"}, 1, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, _ := exec.Command(bin, tc.args...).CombinedOutput()
			code := 0
			cmd := exec.Command(bin, tc.args...)
			if err := cmd.Run(); err != nil {
				code = cmd.ProcessState.ExitCode()
			}
			if code != tc.code || !strings.Contains(string(out), tc.out) {
				t.Errorf("exit %d, output:\n%s\nwant exit %d and %q", code, out, tc.code, tc.out)
			}
		})
	}
}
