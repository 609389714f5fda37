package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The carbon-cache peer (Debian graphite-carbon, unpacked by
// scripts/install-test-deps.sh; whisper-fetch from python3-whisper): its
// state in a temp dir, its plaintext line receiver on a free loopback port.
type carbon struct {
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

func startCarbon(t *testing.T, dir string, port int) *carbon {
	t.Helper()
	requirePeer(t, "carbon-cache")
	requirePeer(t, "whisper-fetch")
	c := &carbon{dir: dir, port: port, done: make(chan struct{})}
	for _, d := range []string{"conf", "whisper", "log", "run"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, filepath.Join(dir, "conf", "carbon.conf"), fmt.Sprintf(`[cache]
STORAGE_DIR = %[1]s/
LOCAL_DATA_DIR = %[1]s/whisper/
WHITELISTS_DIR = %[1]s/conf/
CONF_DIR = %[1]s/conf/
LOG_DIR = %[1]s/log/
PID_DIR = %[1]s/run/
DATABASE = whisper
ENABLE_LOGROTATION = False
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = 5000
MAX_CREATES_PER_MINUTE = 5000
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = %[2]d
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = %[3]d
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = %[4]d
LOG_UPDATES = True
LOG_CREATES = True
WHISPER_AUTOFLUSH = True
`, dir, port, freeTCPPort(t), freeTCPPort(t)))
	writeFile(t, filepath.Join(dir, "conf", "storage-schemas.conf"), "[default]\npattern = .*\nretentions = 1s:1h,1m:1d\n")
	out, err := os.Create(filepath.Join(dir, "carbon.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	// --debug: in the foreground, logging to stdout; the PID is ours.
	c.cmd = exec.Command("carbon-cache", "--config="+filepath.Join(dir, "conf", "carbon.conf"),
		"--pidfile="+filepath.Join(dir, "run", "own.pid"), "--debug", "start")
	c.cmd.Stdout, c.cmd.Stderr = out, out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(10 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
		if t.Failed() {
			t.Logf("carbon-cache:\n%s", readFile(t, filepath.Join(dir, "carbon.out")))
		}
	})
	waitFor(t, peerWait, "carbon-cache listening", func() bool {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			conn.Close()
		}
		return err == nil
	})
	return c
}

// last returns the newest value whisper-fetch reads from the metric's
// whisper file (dotted path), or -1 when there is none yet.
func (c *carbon) last(t *testing.T, metric string) float64 {
	t.Helper()
	f := filepath.Join(c.dir, "whisper", strings.ReplaceAll(metric, ".", "/")+".wsp")
	if _, err := os.Stat(f); err != nil {
		return -1
	}
	out, err := exec.Command("whisper-fetch", fmt.Sprintf("--from=%d", time.Now().Add(-10*time.Minute).Unix()), f).Output()
	if err != nil {
		return -1
	}
	v := -1.0
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[1] != "None" {
			v, _ = strconv.ParseFloat(f[1], 64)
		}
	}
	return v
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

const accessLines = `10.0.0.1 - - [06/Dec/2026:03:00:00 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8"
10.0.0.1 - - [06/Dec/2026:03:00:01 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8"
10.0.0.2 - - [06/Dec/2026:03:00:02 +0000] "POST /x HTTP/1.1" 404 10 "-" "curl/8"
`

// pushConfig is a file source through the nginx parser into a counter
// rule, a file sink beside it, and one graphite pusher.
func pushConfig(dir, log string, port int, interval string) string {
	return fmt.Sprintf(`
data_dir: %[1]s/data
api: { listen: 127.0.0.1:0 }
sources:
  lines: { type: file, include: [ %[2]s ], read_from: beginning }
transforms:
  access: { type: parse, inputs: [ lines ], format: nginx_combined }
sinks:
  out: { type: file, inputs: [ lines ], path: %[1]s/out.log }
metrics:
  rules:
    - name: http_requests_total
      type: counter
      inputs: [ access ]
      labels: { code: "{{ .status }}", method: "{{ .method }}" }
  push:
    carbon:
      type: graphite
      address: 127.0.0.1:%[3]d
      prefix: sluice
      tags: path
      interval: %[4]s
`, dir, log, port, interval)
}

// sluice run --once with a graphite pusher: the final totals reach
// carbon-cache, read back with whisper-fetch.
func TestPushGraphiteToCarbonOnce(t *testing.T) {
	dir := t.TempDir()
	c := startCarbon(t, filepath.Join(dir, "carbon"), freeTCPPort(t))
	log := filepath.Join(dir, "access.log")
	writeFile(t, log, accessLines)
	cfg := filepath.Join(dir, "sluice.yaml")
	writeFile(t, cfg, pushConfig(dir, log, c.port, "1h")) // only the final push
	if code, out := exited(t, cfg, "--once"); code != 0 {
		t.Fatalf("sluice run --once: exit %d\n%s", code, out)
	}
	for metric, want := range map[string]float64{
		"sluice.http_requests_total.code.200.method.GET":  2,
		"sluice.http_requests_total.code.404.method.POST": 1,
	} {
		waitFor(t, peerWait, metric+" in whisper", func() bool { return c.last(t, metric) == want })
	}
}

// A pusher whose carbon is down: events keep flowing to the file sink,
// the failures are counted and /healthz names the pusher; once carbon
// starts on that port, the pusher catches up and /healthz recovers.
func TestPushDestinationDownPipelineFlows(t *testing.T) {
	dir := t.TempDir()
	port := freeTCPPort(t) // nothing listens there yet
	log := filepath.Join(dir, "access.log")
	writeFile(t, log, "")
	cfg := filepath.Join(dir, "sluice.yaml")
	writeFile(t, cfg, pushConfig(dir, log, port, "200ms"))
	p := start(t, cfg, nil)
	api := p.api()
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const n = 300
	for i := range n {
		if _, err := fmt.Fprintf(f, "10.0.0.%d - - [06/Dec/2026:03:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"c\"\n", i%250); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, peerWait, "every event in the file sink", func() bool {
		data, _ := os.ReadFile(filepath.Join(dir, "out.log"))
		return strings.Count(string(data), "\n") == n
	})
	health := func() (int, string) {
		resp, err := http.Get("http://" + api + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	waitFor(t, peerWait, "/healthz to report the pusher", func() bool {
		code, body := health()
		return code == http.StatusServiceUnavailable && strings.Contains(body, "pushers.carbon failed: ")
	})
	if got := metric(t, api, `sluice_metrics_push_failures_total{pusher="carbon"}`); got < 1 {
		t.Errorf("push failures %v, want counted", got)
	}
	c := startCarbon(t, filepath.Join(dir, "carbon"), port)
	waitFor(t, peerWait, "the count in carbon", func() bool {
		return c.last(t, "sluice.http_requests_total.code.200.method.GET") == n
	})
	waitFor(t, peerWait, "/healthz to recover", func() bool { code, _ := health(); return code == http.StatusOK })
	if got := metric(t, api, `sluice_metrics_push_sent_total{pusher="carbon"}`); got < 1 {
		t.Errorf("push sent %v, want counted", got)
	}
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}
}
