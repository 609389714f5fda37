package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// exited runs sluice with args and waits for it to exit by itself,
// returning its exit code and output.
func exited(t *testing.T, cfg string, args ...string) (int, string) {
	t.Helper()
	p := start(t, cfg, nil, args...)
	code := p.wait(60 * time.Second)
	return code, p.stderr.String()
}

// A port that is taken stops start-up: exit 2, one line saying what,
// where, why, and a hint, and nothing runs.
func TestPortTakenExits2(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	for _, tc := range []struct{ name, cfg, want string }{
		{"syslog source", fmt.Sprintf(`
data_dir: %s
sources:
  in: { type: syslog, mode: tcp, address: "%s" }
sinks:
  out: { type: file, inputs: [in], path: "%s/out.log" }
`, dir, taken.Addr(), dir), "sluice: cannot start: starting sources.in: "},
		{"api", fmt.Sprintf(`
data_dir: %s
api: { listen: "%s" }
sources:
  in: { type: stdin }
sinks:
  out: { type: file, inputs: [in], path: "%s/out.log" }
`, dir, taken.Addr(), dir), "sluice: cannot start: api listening on " + taken.Addr().String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "c.yaml")
			writeFile(t, cfg, tc.cfg)
			code, out := exited(t, cfg)
			if code != 2 || !strings.Contains(out, tc.want) || !strings.Contains(out, "address already in use (hint: another program listens there") {
				t.Errorf("exit %d, output:\n%s\nwant exit 2 and %q with the reason and a hint", code, out, tc.want)
			}
			if strings.Contains(out, "sluice started") {
				t.Error("sluice said it started")
			}
		})
	}
}

// A data_dir sluice cannot create stops start-up with exit 2.
func TestUnusableDataDirExits2(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "a-file")
	writeFile(t, file, "")
	writeFile(t, filepath.Join(dir, "in.log"), "x\n")
	cfg := filepath.Join(dir, "c.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: %s/data
sources:
  in: { type: file, include: ["%s/in.log"] }
sinks:
  out: { type: file, inputs: [in], path: "%s/out.log" }
`, file, dir, dir))
	code, out := exited(t, cfg)
	if code != 2 || !strings.Contains(out, "sluice: cannot start: starting sources.in: ") || !strings.Contains(out, file+"/data") {
		t.Errorf("exit %d, output:\n%s\nwant exit 2 naming sources.in and the data dir", code, out)
	}
}

// A source that fails at run time is restarted with backoff, and /healthz
// answers 503 naming it until it runs again.
func TestRuntimeFailureShowsInHealth(t *testing.T) {
	dir := t.TempDir()
	flag := filepath.Join(dir, "flag")
	cfg := filepath.Join(dir, "c.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: %s/data
api: { listen: "127.0.0.1:0" }
sources:
  cmd:
    type: exec
    command: [sh, -c, 'test -e %s || exit 3; echo up; exec sleep 600']
    restart: never
sinks:
  out: { type: file, inputs: [cmd], path: "%s/out.log" }
`, dir, flag, dir))
	p := start(t, cfg, nil)
	api := p.api()
	health := func() (int, string) {
		resp, err := http.Get("http://" + api + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(body)
	}
	waitFor(t, 30*time.Second, "/healthz to report the failing source", func() bool {
		code, body := health()
		return code == http.StatusServiceUnavailable && strings.Contains(body, "sources.cmd failed: ")
	})
	if n := metric(t, api, `sluice_component_errors_total{component_id="cmd"`); n < 1 {
		t.Errorf("errors of cmd = %v, want the failures counted", n)
	}
	writeFile(t, flag, "")
	waitFor(t, 60*time.Second, "/healthz to recover", func() bool {
		code, _ := health()
		return code == http.StatusOK
	})
	waitFor(t, 30*time.Second, "the restarted command's output", func() bool {
		data, err := os.ReadFile(filepath.Join(dir, "out.log"))
		return err == nil && strings.Contains(string(data), "up")
	})
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}
}

// --once with a destination that stays down gives up after --grace and
// exits 2, saying how many events were left undelivered.
func TestOnceWithUnreachableSinkExits2(t *testing.T) {
	dir := t.TempDir()
	var lines strings.Builder
	for i := range 100 {
		fmt.Fprintf(&lines, "line %d\n", i)
	}
	writeFile(t, filepath.Join(dir, "in.log"), lines.String())
	cfg := filepath.Join(dir, "c.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: %s/data
sources:
  in: { type: file, include: ["%s/in.log"], read_from: beginning }
sinks:
  down:
    type: http
    inputs: [in]
    url: http://127.0.0.1:1/never
    buffer: { type: memory }
    retry: { initial_backoff: 100ms, max_backoff: 200ms }
`, dir, dir))
	began := time.Now()
	code, out := exited(t, cfg, "--once", "--grace", "2s")
	if code != 2 || !strings.Contains(out, "sluice: 100 events left undelivered") {
		t.Errorf("exit %d after %v, output:\n%s\nwant exit 2 and the 100 undelivered events", code, time.Since(began), out)
	}
}

// A reload whose new config cannot open its listener keeps the old source
// running on its old socket, and says so. (A unix socket: its path is
// fixed, so the kept source listens where it did, with no port to probe.)
func TestReloadKeepsSourceThatCannotListen(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	sock := filepath.Join(dir, "log.sock")
	config := func(path string) string {
		return fmt.Sprintf(`
data_dir: %s/data
sources:
  in: { type: syslog, mode: unix, path: "%s" }
sinks:
  out: { type: file, inputs: [in], path: "%s/out.log", batch: { timeout: 10ms } }
`, dir, path, dir)
	}
	writeFile(t, cfg, config(sock))
	p := start(t, cfg, nil)
	p.ready()
	send := func(line string) {
		t.Helper()
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fmt.Fprintf(c, "<13>1 2026-12-06T00:00:00Z h app - - - %s\n", line); err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	arrived := func(line string) func() bool {
		return func() bool {
			data, err := os.ReadFile(filepath.Join(dir, "out.log"))
			return err == nil && strings.Contains(string(data), line)
		}
	}
	send("before the reload")
	waitFor(t, 30*time.Second, "the first line", arrived("before the reload"))
	writeFile(t, cfg, config(filepath.Join(dir, "no-such-dir", "log.sock")))
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the reload to say what it kept", func() bool {
		return strings.Contains(p.stderr.String(), "kept the previous config of sources.in")
	})
	send("after the reload")
	waitFor(t, 30*time.Second, "a line on the old socket after the reload", arrived("after the reload"))
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}
}

// --once fails when a source failed, and when a destination rejected
// events (say, wrong credentials): the events count as done, so the job
// must not pass for a success.
func TestOnceFailsOnFailedSourceAndRejects(t *testing.T) {
	dir := t.TempDir()
	refuse := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad credentials", http.StatusUnauthorized)
	}))
	defer refuse.Close()
	writeFile(t, filepath.Join(dir, "in.log"), "a\nb\nc\n")
	for _, tc := range []struct{ name, cfg, want string }{
		{"failed source", fmt.Sprintf(`
data_dir: %s/data1
sources:
  cmd: { type: exec, command: [sh, -c, "echo hi; exit 3"], restart: never }
sinks:
  out: { type: file, inputs: [cmd], path: "%s/out.log" }
`, dir, dir), "sluice: sources.cmd failed: "},
		{"rejected events", fmt.Sprintf(`
data_dir: %s/data2
sources:
  in: { type: file, include: ["%s/in.log"], read_from: beginning }
sinks:
  refused: { type: http, inputs: [in], url: "%s/ingest" }
`, dir, dir, refuse.URL), "sluice: 3 events rejected by their destination"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "c.yaml")
			writeFile(t, cfg, tc.cfg)
			code, out := exited(t, cfg, "--once")
			if code != 2 || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, output:\n%s\nwant exit 2 and %q", code, out, tc.want)
			}
		})
	}
}
