package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOncePrintsSeries: `sluice run --once` reads its file to the end,
// delivers it, then prints the rules' series (and nothing of sluice's
// own) in the Prometheus text format on stdout, and exits 0.
func TestOncePrintsSeries(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	writeFile(t, log, `10.0.0.1 - - [06/Dec/2026:03:00:00 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8"
10.0.0.1 - - [06/Dec/2026:03:00:01 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8"
10.0.0.2 - - [06/Dec/2026:03:00:02 +0000] "POST /x HTTP/1.1" 404 10 "-" "curl/8"
`)
	cfg := filepath.Join(dir, "sluice.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: %[1]s/data
sources:
  lines: { type: file, include: [ %[2]s ], read_from: beginning }
transforms:
  access: { type: parse, inputs: [ lines ], format: nginx_combined }
sinks:
  out: { type: file, inputs: [ access ], path: %[1]s/out.log }
metrics:
  rules:
    - name: http_requests_total
      type: counter
      help: Requests.
      inputs: [ access ]
      labels: { code: "{{ .status }}", method: "{{ .method }}" }
`, dir, log))
	cmd := exec.Command(sluiceBin(t), "run", "--once", "-c", cfg)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sluice run --once: %v\n%s", err, stderr.String())
	}
	want := `# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{code="200",method="GET"} 2
http_requests_total{code="404",method="POST"} 1
`
	if stdout.String() != want {
		t.Errorf("stdout:\n%s\nwant:\n%s\nstderr:\n%s", stdout.String(), want, stderr.String())
	}
	if out, _ := os.ReadFile(filepath.Join(dir, "out.log")); bytes.Count(out, []byte("\n")) != 3 {
		t.Errorf("out.log has %q, want the 3 events delivered", out)
	}
}

// TestMetricsListener: metrics.listen on TCP and on a unix socket, both in
// the ready file, serve the rules' series (and only /metrics); a metrics
// listener whose port is taken makes sluice exit 2 before it starts.
func TestMetricsListener(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "metrics.sock")
	base := fmt.Sprintf(`
data_dir: %[1]s/data
sources:
  in: { type: stdin }
sinks:
  out: { type: file, inputs: [ in ], path: %[1]s/out.log }
`, dir)
	rules := `  rules:
    - { name: lines_total, type: counter, inputs: [ in ] }
`
	for _, tc := range []struct{ name, listen string }{{"tcp", "127.0.0.1:0"}, {"unix", "unix://" + sock}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "c.yaml")
			writeFile(t, cfg, base+fmt.Sprintf("metrics:\n  listen: %q\n", tc.listen)+rules)
			pr, pw := io.Pipe()
			p := start(t, cfg, pr)
			if _, err := io.WriteString(pw, "a\nb\nc\n"); err != nil {
				t.Fatal(err)
			}
			addr := readyMetrics(t, p)
			c := &http.Client{}
			url := "http://" + addr + "/metrics"
			if tc.name == "unix" {
				if addr != sock {
					t.Errorf("ready file says metrics at %q, want %q", addr, sock)
				}
				c.Transport = &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, "unix", sock)
				}}
				url = "http://sluice/metrics"
			}
			waitFor(t, 30*time.Second, "lines_total 3 on "+addr, func() bool {
				resp, err := c.Get(url)
				if err != nil {
					return false
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return strings.Contains(string(b), "\nlines_total 3\n")
			})
			if tc.name == "unix" {
				curlUnixSocket(t, sock)
			}
			if resp, err := c.Get(strings.TrimSuffix(url, "metrics") + "healthz"); err != nil || resp.StatusCode != 404 {
				t.Errorf("/healthz on the metrics listener: %v %v, want 404", resp, err)
			} else {
				resp.Body.Close()
			}
			_ = pw.Close()
			if code := p.stop(syscall.SIGTERM); code != 0 {
				t.Errorf("exit %d", code)
			}
		})
	}
	t.Run("port taken", func(t *testing.T) {
		taken, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer taken.Close()
		cfg := filepath.Join(t.TempDir(), "c.yaml")
		writeFile(t, cfg, base+fmt.Sprintf("metrics:\n  listen: %q\n", taken.Addr())+rules)
		code, out := exited(t, cfg)
		if want := "sluice: cannot start: metrics listening on " + taken.Addr().String(); code != 2 || !strings.Contains(out, want) {
			t.Errorf("exit %d, output:\n%s\nwant exit 2 and %q", code, out, want)
		}
	})
}

// readyMetrics waits for the ready file and returns its metrics address.
func readyMetrics(t *testing.T, p *proc) string {
	t.Helper()
	p.ready()
	data, err := os.ReadFile(p.readyFile)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Metrics string `json:"metrics"`
	}
	if err := json.Unmarshal(data, &r); err != nil || r.Metrics == "" {
		t.Fatalf("ready file %s: %v, no metrics address", data, err)
	}
	return r.Metrics
}

// curlUnixSocket scrapes the socket with curl, a real client other than
// Go's (Prometheus 2.42 cannot scrape a unix socket), asking for
// OpenMetrics.
func curlUnixSocket(t *testing.T, sock string) {
	t.Helper()
	curl, err := exec.LookPath("curl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl not on PATH")
		}
		t.Log("curl not on PATH: the socket is checked with Go's client only")
		return
	}
	out, err := exec.Command(curl, "-fsS", "--unix-socket", sock, "-H", "Accept: application/openmetrics-text; version=1.0.0",
		"http://sluice/metrics").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "\nlines_total 3.0\n") || !strings.HasSuffix(string(out), "# EOF\n") {
		t.Errorf("curl --unix-socket: %v\n%s", err, out)
	}
}
