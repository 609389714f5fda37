package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/proctest"
	"github.com/sluice-log/sluice/internal/tlsconf"
)

// rtailClient finds the real rtail npm client: $SLUICE_RTAIL, or the copy
// scripts/install-test-deps.sh installs.
func rtailClient(t *testing.T) string {
	if p := os.Getenv("SLUICE_RTAIL"); p != "" {
		return p
	}
	home, _ := os.UserHomeDir()
	p := filepath.Join(home, ".cache", "sluice-peers", "rtail", "node_modules", ".bin", "rtail")
	if _, err := os.Stat(p); err != nil {
		testutil.RequireCI(t, "the rtail npm client is not installed (run scripts/install-test-deps.sh)")
	}
	return p
}

// tailProc is a running `sluice tail` whose stdout lines are collected.
type tailProc struct {
	cmd    *exec.Cmd
	stderr *proctest.SyncBuffer
	mu     sync.Mutex
	lines  []string
	done   chan struct{}
}

func startTail(t *testing.T, args ...string) *tailProc {
	t.Helper()
	tp := &tailProc{cmd: exec.Command(sluiceBin(t), append([]string{"tail"}, args...)...), stderr: &proctest.SyncBuffer{},
		done: make(chan struct{})}
	tp.cmd.Stderr = tp.stderr
	out, err := tp.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := tp.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(tp.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			tp.mu.Lock()
			tp.lines = append(tp.lines, sc.Text())
			tp.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = tp.cmd.Process.Kill()
		<-tp.done
		_ = tp.cmd.Wait()
		if t.Failed() {
			t.Logf("sluice tail stderr:\n%s", tp.stderr.String())
		}
	})
	return tp
}

func (tp *tailProc) count() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return len(tp.lines)
}

// TestLiveRtailToTail: the real rtail npm client sends to sluice's rtail
// source, the live sink keeps the lines, and `sluice tail` follows them
// over TLS with a bearer token; the wrong token is refused (exit 2), the
// streams API lists the stream, and after a restart it still does.
func TestLiveRtailToTail(t *testing.T) {
	client := rtailClient(t)
	dir := t.TempDir()
	ca := testutil.NewCA(t)
	leaf := ca.Issue(t, "api")
	cfg := filepath.Join(dir, "sluice.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: %[1]s/data
api:
  listen: "127.0.0.1:0"
  tls: { cert: %[2]q, key: %[3]q }
  auth: { tokens: [ "t0ken" ] }
sources:
  rt: { type: rtail, address: "127.0.0.1:0" }
sinks:
  live: { type: live, inputs: [ rt ] }
`, dir, leaf.CertFile, leaf.KeyFile))
	p := start(t, cfg, nil)
	api := p.api()
	server := "https://" + api
	const n = 200
	tail := startTail(t, "--server", server, "--tls-ca", ca.File, "--token", "t0ken", "--stream", "api.example",
		"--json", "--last", "1000")

	var input strings.Builder
	for i := range n {
		fmt.Fprintf(&input, "plain line %d\n", i)
	}
	cmd := exec.Command(client, "--id", "api.example", "--host", "127.0.0.1", "--port", strconv.Itoa(p.port("rt")),
		"--mute", "--no-parse-date")
	cmd.Stdin = strings.NewReader(input.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rtail: %v\n%s", err, out)
	}
	waitFor(t, 30*time.Second, "sluice tail to print every line", func() bool { return tail.count() >= n })
	seen := map[string]bool{}
	tail.mu.Lock()
	for _, l := range tail.lines {
		var e struct{ Stream, Message string }
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Errorf("tail --json printed %q: %v", l, err)
		}
		if e.Stream != "api.example" {
			t.Errorf("stream %q, want api.example", e.Stream)
		}
		seen[e.Message] = true
	}
	tail.mu.Unlock()
	for i := range n {
		if !seen[fmt.Sprintf("plain line %d", i)] {
			t.Errorf("tail lacks plain line %d", i)
		}
	}
	_ = tail.cmd.Process.Signal(syscall.SIGINT)
	<-tail.done
	if err := tail.cmd.Wait(); err != nil {
		t.Errorf("tail after SIGINT: %v (want exit 0)", err)
	}

	// The wrong token: refused at once, exit 2, saying why.
	bad := exec.Command(sluiceBin(t), "tail", "--server", server, "--tls-ca", ca.File, "--token", "wrong")
	var stderr bytes.Buffer
	bad.Stderr = &stderr
	err := bad.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(stderr.String(), "401") {
		t.Errorf("tail with a wrong token: %v, stderr %q; want exit 2 naming the 401", err, stderr.String())
	}

	// The streams API, as curl would ask for it.
	checkStreams(t, ca.File, server, n)

	// A restart keeps the backlog (saved under data_dir at shutdown).
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("sluice exited %d on SIGTERM", code)
	}
	p2 := start(t, cfg, nil)
	checkStreams(t, ca.File, "https://"+p2.api(), n)
}

// checkStreams asks the streams API for the one stream of n lines.
func checkStreams(t *testing.T, caFile, server string, n int) {
	t.Helper()
	tc, err := tlsconf.Client(caFile, "", "", "", false)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
	defer c.CloseIdleConnections()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, server+"/api/v1/live/streams", nil)
	req.Header.Set("Authorization", "Bearer t0ken")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var streams struct {
		Streams []struct {
			Name  string
			Lines int
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&streams); err != nil {
		t.Fatal(err)
	}
	if len(streams.Streams) != 1 || streams.Streams[0].Name != "api.example" || streams.Streams[0].Lines != n {
		t.Errorf("streams = %+v, want api.example with %d lines", streams.Streams, n)
	}
}
