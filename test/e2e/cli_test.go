package e2e

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil"
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

// TestReadyFile: every listening source is in the ready file with its real
// address (port 0 resolved, a unix socket as its path), sources that bind
// nothing are not, and the file is gone after shutdown.
func TestReadyFile(t *testing.T) {
	sluiceBin(t)
	dir := t.TempDir()
	sock := filepath.Join(dir, "syslog.sock")
	cfg := filepath.Join(dir, "sluice.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: %[1]s/data
api: { listen: "127.0.0.1:0" }
sources:
  udp: { type: syslog, mode: udp, address: "127.0.0.1:0" }
  tcp: { type: syslog, mode: tcp, address: "127.0.0.1:0" }
  unix: { type: syslog, mode: unix, path: "%[2]s" }
  web: { type: http, address: "127.0.0.1:0" }
  files: { type: file, include: [ "%[1]s/*.log" ] }
sinks:
  out: { type: blackhole, inputs: [ udp, tcp, unix, web, files ] }
`, dir, sock))
	p := start(t, cfg, nil)
	r := p.ready()
	testutil.Diff(t, []string{"tcp", "udp", "unix", "web"}, slices.Sorted(maps.Keys(r.Listeners)))
	testutil.Diff(t, []string{sock}, r.Listeners["unix"])
	for _, id := range []string{"tcp", "web"} {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p.port(id)))
		if err != nil {
			t.Fatalf("connecting to %s: %v", id, err)
		}
		c.Close()
	}
	if p.port("udp") == 0 {
		t.Error("udp source reported port 0")
	}
	resp, err := http.Get("http://" + p.api() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if _, err := os.Stat(p.readyFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ready file after shutdown: %v, want it removed", err)
	}
}
