package e2e

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mtailProgs are two programs in the style of the corpus: one counts
// lines by the file name getfilename() gives (for syslog: the app-name,
// the event's stream), the other sshd failures by user.
var mtailProgs = map[string]string{
	"lines.mtail": `counter lines_total by file
/$/ {
  lines_total[getfilename()]++
}
`,
	"sshd.mtail": `counter ssh_failed_total by user
const USER /for (?P<user>\S+) from/
/Failed password / + USER {
  ssh_failed_total[$user]++
}
`,
}

func writeProgs(t *testing.T, dir string, progs map[string]string) {
	t.Helper()
	if err := mkdir(dir); err != nil {
		t.Fatal(err)
	}
	for name, src := range progs {
		writeFile(t, filepath.Join(dir, name), src)
	}
}

// TestMtailSyslogPipeline: util-linux logger sends over TCP to the syslog
// source, metrics.mtail runs two programs, and both /metrics (api and
// metrics.listen) show their series with the prog label. Then SIGHUP with
// one program changed: the other keeps its counts; and with one broken:
// its old version keeps counting and the error is logged.
func TestMtailSyslogPipeline(t *testing.T) {
	sluiceBin(t)
	requirePeer(t, "logger")
	dir := t.TempDir()
	progs := filepath.Join(dir, "progs")
	writeProgs(t, progs, mtailProgs)
	p := startSluice(t, dir, fmt.Sprintf(`
sources:
  tcp: { type: syslog, mode: tcp, address: "127.0.0.1:0", timezone: UTC }
metrics:
  listen: "127.0.0.1:0"
  mtail: { programs: %q, inputs: [ tcp ], batch: { timeout: 50ms } }
`, progs))
	port, api, mlisten := p.port("tcp"), p.api(), p.readyMetrics()
	send := func(lines ...string) {
		runLoggerCmd(t, strings.Join(lines, "\n")+"\n", "-n", "127.0.0.1", "-P", itoa(port), "-T", "--octet-count",
			"--rfc5424=notq", "-t", "sshd")
	}
	send("Failed password for root from 10.0.0.1 port 22 ssh2",
		"Failed password for alice from 10.0.0.2 port 22 ssh2",
		"Failed password for root from 10.0.0.3 port 22 ssh2",
		"Accepted publickey for bob from 10.0.0.4 port 22 ssh2")
	root := `ssh_failed_total{prog="sshd.mtail",user="root"}`
	lines := `lines_total{file="sshd",prog="lines.mtail"}`
	waitFor(t, 30*time.Second, "the programs' series on the api", func() bool {
		return metric(t, api, root) == 2 && metric(t, api, lines) == 4
	})
	for _, addr := range []string{api, mlisten} {
		if got := metric(t, addr, `ssh_failed_total{prog="sshd.mtail",user="alice"}`); got != 1 {
			t.Errorf("%s: alice = %v, want 1", addr, got)
		}
	}
	if got := metric(t, api, `sluice_mtail_lines_total{prog="sshd.mtail"}`); got != 4 {
		t.Errorf("sluice_mtail_lines_total = %v, want 4", got)
	}
	if got := metric(t, api, `sluice_mtail_line_processing_seconds_count{prog="lines.mtail"}`); got < 1 {
		t.Errorf("no processing-time observation for lines.mtail")
	}

	// Change lines.mtail: it starts afresh; sshd.mtail keeps its counts.
	writeFile(t, filepath.Join(progs, "lines.mtail"), `counter lines_total by file
counter reloaded_total
/$/ {
  lines_total[getfilename()]++
  reloaded_total++
}
`)
	reloads := strings.Count(p.stderr.String(), "config reloaded")
	hup := func() {
		t.Helper()
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		reloads++
		waitFor(t, 30*time.Second, "the reload", func() bool { return strings.Count(p.stderr.String(), "config reloaded") >= reloads })
	}
	hup()
	send("Failed password for root from 10.0.0.5 port 22 ssh2")
	waitFor(t, 30*time.Second, "the new line counted", func() bool {
		return metric(t, api, `reloaded_total{prog="lines.mtail"}`) == 1
	})
	if got := metric(t, api, lines); got != 1 {
		t.Errorf("changed program: %s = %v, want 1 (started afresh)", lines, got)
	}
	if got := metric(t, api, root); got != 3 {
		t.Errorf("unchanged program: %s = %v, want 3 (kept 2, +1)", root, got)
	}

	// Break sshd.mtail: the reload logs the position, the old one runs on.
	writeFile(t, filepath.Join(progs, "sshd.mtail"), "counter ssh_failed_total\n/x/ { nope++ }\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the reload error", func() bool {
		return strings.Contains(p.stderr.String(), "sshd.mtail:2:7")
	})
	send("Failed password for root from 10.0.0.6 port 22 ssh2")
	waitFor(t, 30*time.Second, "the old sshd.mtail counting", func() bool { return metric(t, api, root) == 4 })
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

// readyMetrics is metrics.listen's bound address from the ready file.
func (p *proc) readyMetrics() string {
	p.t.Helper()
	p.ready()
	var info struct {
		Metrics string `json:"metrics"`
	}
	if err := json.Unmarshal([]byte(readFile(p.t, p.readyFile)), &info); err != nil || info.Metrics == "" {
		p.t.Fatalf("no metrics address in the ready file: %v", err)
	}
	return info.Metrics
}

// TestMtailOnce: `sluice run --once` reads a file to its end and prints
// the programs' metrics after the rules'; getfilename() is the file's path.
func TestMtailOnce(t *testing.T) {
	bin := sluiceBin(t)
	dir := t.TempDir()
	progs := filepath.Join(dir, "progs")
	writeProgs(t, progs, mtailProgs)
	log := filepath.Join(dir, "auth.log")
	writeFile(t, log, "Failed password for root from 10.0.0.1 port 22 ssh2\nsomething else\n"+
		"Failed password for admin from 10.0.0.2 port 22 ssh2\n")
	cfg := filepath.Join(dir, "sluice.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: %s/data
sources:
  auth: { type: file, include: [ %q ], read_from: beginning }
metrics:
  rules:
    - { name: auth_lines_total, type: counter, inputs: [ auth ] }
  mtail: { programs: %q, inputs: [ auth ], emit_prog_label: false }
`, dir, log, progs))
	out, err := exec.Command(bin, "run", "--once", "-c", cfg).Output()
	if err != nil {
		t.Fatalf("sluice run --once: %v\n%s", err, out)
	}
	for _, want := range []string{
		"auth_lines_total 3\n",
		fmt.Sprintf("lines_total{file=%q} 3\n", log),
		`ssh_failed_total{user="root"} 1` + "\n",
		`ssh_failed_total{user="admin"} 1` + "\n",
		"# HELP ssh_failed_total defined at sshd.mtail:1:9-24\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "prog=") {
		t.Errorf("emit_prog_label: false, yet a prog label:\n%s", out)
	}
}

// TestMtailCompileErrorAtStart: a program that does not compile makes
// validate and run exit 1, naming the program's file:line:col.
func TestMtailCompileErrorAtStart(t *testing.T) {
	bin := sluiceBin(t)
	dir := t.TempDir()
	progs := filepath.Join(dir, "progs")
	writeProgs(t, progs, map[string]string{"good.mtail": mtailProgs["lines.mtail"],
		"bad.mtail": "counter a\n/x/ {\n  b++\n}\n"})
	cfg := filepath.Join(dir, "sluice.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: %s/data
sources:
  in: { type: stdin }
metrics:
  mtail: { programs: %q, inputs: [ in ] }
`, dir, progs))
	for _, args := range [][]string{{"validate", "-c", cfg}, {"run", "-c", cfg}} {
		cmd := exec.Command(bin, args...)
		cmd.Stdin = strings.NewReader("")
		out, err := cmd.CombinedOutput()
		code := 0
		if err != nil {
			code = cmd.ProcessState.ExitCode()
		}
		if code != 1 || !strings.Contains(string(out), "metrics.mtail: programs: bad.mtail:3:3: ") {
			t.Errorf("%s: exit %d, output:\n%s\nwant exit 1 and bad.mtail:3:3", args[0], code, out)
		}
	}
	// A rule named mtail would take the section's ID.
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: %s/data
sources:
  in: { type: stdin }
metrics:
  rules:
    - { name: mtail, type: counter, inputs: [ in ] }
  mtail: { programs: %q, inputs: [ in ] }
`, dir, filepath.Join(progs, "good.mtail")))
	out, err := exec.Command(bin, "validate", "-c", cfg).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "a rule named mtail would have the ID of the metrics.mtail section") {
		t.Errorf("rule named mtail: %v\n%s", err, out)
	}
}
