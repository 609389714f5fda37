package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/proctest"
)

// sendMarker is cmd/sluice's SplitMarker.
const sendMarker = " [sluice: line continues]"

// sendServerConfig is a hub as `sluice send` meets it: the websocket
// (relay) source and the api listener with TLS and a bearer token, into
// the live sink and a file that counts what arrived.
func sendServerConfig(t *testing.T, dir, relayAddr string, ca *testutil.CA) string {
	leaf := ca.Issue(t, "127.0.0.1")
	cfg := filepath.Join(dir, "sluice.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: %[1]s/data
api:
  listen: "127.0.0.1:0"
  tls: { cert: %[2]q, key: %[3]q }
  auth: { tokens: [ "t0ken" ] }
sources:
  relay:
    type: websocket
    address: %[4]q
    tls: { cert: %[2]q, key: %[3]q }
    auth: { tokens: [ "t0ken" ] }
sinks:
  live: { type: live, inputs: [ relay ] }
  out: { type: file, inputs: [ relay ], path: %[1]s/out.log, encoding: text }
`, dir, leaf.CertFile, leaf.KeyFile, relayAddr))
	return cfg
}

// sendCmd is `sluice send` to the relay source on port.
func sendCmd(t *testing.T, port int, ca *testutil.CA, token string, args ...string) *exec.Cmd {
	return exec.Command(sluiceBin(t), append([]string{"send", "--server", "wss://127.0.0.1:" + strconv.Itoa(port),
		"--tls-ca", ca.File, "--token", token}, args...)...)
}

// TestSendToTail: `sluice send` → websocket source (TLS, token) → live
// sink → `sluice tail` (TLS, token): every line arrives, in order, and is
// echoed on send's stdout; the wrong token is refused with exit 2.
func TestSendToTail(t *testing.T) {
	dir := t.TempDir()
	ca := testutil.NewCA(t)
	p := start(t, sendServerConfig(t, dir, "127.0.0.1:0", ca), nil)
	tail := startTail(t, "--server", "https://"+p.api(), "--tls-ca", ca.File, "--token", "t0ken", "--stream", "app", "--last", "5000", "--json")

	const n = 3000
	var input strings.Builder
	for i := range n {
		fmt.Fprintf(&input, "2024-01-02 03:04:05 line %d\twith a tab\r\n", i)
	}
	cmd := sendCmd(t, p.port("relay"), ca, "t0ken", "--stream", "app")
	cmd.Stdin = strings.NewReader(input.String())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sluice send: %v\n%s", err, stderr.String())
	}
	testutil.Diff(t, input.String(), stdout.String()) // echoed byte for byte
	waitFor(t, 30*time.Second, "sluice tail to print every line", func() bool { return tail.count() >= n })
	tail.mu.Lock()
	for i, l := range tail.lines[:n] {
		// No date guessing: the message is the line, \r included.
		var e struct{ Stream, Message string }
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("tail --json printed %q: %v", l, err)
		}
		if want := fmt.Sprintf("2024-01-02 03:04:05 line %d\twith a tab\r", i); e.Message != want || e.Stream != "app" {
			t.Errorf("tail line %d = %q in %q, want %q in app", i, e.Message, e.Stream, want)
			break
		}
	}
	tail.mu.Unlock()

	bad := sendCmd(t, p.port("relay"), ca, "wrong", "--mute")
	bad.Stdin = strings.NewReader("x\n")
	out, err := bad.CombinedOutput()
	if code := exitCode(err); code != 2 {
		t.Fatalf("send with a wrong token: exit %d, want 2\n%s", code, out)
	}
	if !strings.Contains(string(out), "refused the credentials") || !strings.Contains(string(out), "401") {
		t.Errorf("wrong token: output %q does not say the server refused it", out)
	}
}

// TestSendServerRestart: the server stops and starts again on the same
// port while `sluice send` is streaming, politely (SIGTERM: it drains and
// answers what it cannot take "abandoned") or not (SIGKILL, mid-stream:
// batches in flight have no receipt). send reconnects, resends what had
// no receipt, and exits 0: every line is in the server's output file
// (duplicates are allowed: delivery is at least once).
func TestSendServerRestart(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) { sendRestart(t, sig) })
	}
}

func sendRestart(t *testing.T, sig syscall.Signal) {
	dir := t.TempDir()
	ca := testutil.NewCA(t)
	addr := freeTCPAddr(t)
	cfg := sendServerConfig(t, dir, addr, ca)
	p := start(t, cfg, nil)
	_, portS, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portS)
	p.ready()

	pr, pw := io.Pipe()
	cmd := sendCmd(t, port, ca, "t0ken", "--stream", "app", "--mute", "--timeout", "60s")
	cmd.Stdin = pr
	stderr := &proctest.SyncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	out := filepath.Join(dir, "out.log")
	const n = 40000
	written := make(chan struct{})
	go func() { // paced, so that the restart falls mid-stream; bounded by n
		defer close(written)
		tick := time.NewTicker(2 * time.Millisecond) // 200 lines a tick
		defer tick.Stop()
		for i := range n {
			if _, err := fmt.Fprintf(pw, "line %d\n", i); err != nil {
				t.Error(err)
				return
			}
			if i%200 == 199 {
				<-tick.C
			}
		}
	}()
	waitFor(t, 30*time.Second, "the first lines to arrive", func() bool { return countLines(out) > 2000 })
	if sig == syscall.SIGKILL {
		_ = p.cmd.Process.Kill()
		p.wait(30 * time.Second)
	} else if code := p.stop(sig); code != 0 {
		t.Fatalf("server exit %d", code)
	}
	atStop := countLines(out)
	p2 := start(t, cfg, nil)
	p2.ready()
	<-written
	_ = pw.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sluice send: %v\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("sluice send did not exit\n%s", stderr.String())
	}
	// send exited 0: everything was acknowledged, so it is in the file.
	seen := map[string]int{}
	for _, l := range readFileLines(t, out) {
		seen[l]++
	}
	dups := 0
	for i := range n {
		switch c := seen[fmt.Sprintf("line %d", i)]; {
		case c == 0:
			t.Fatalf("line %d lost", i)
		case c > 1:
			dups += c - 1
		}
	}
	t.Logf("%d lines in, %d when the server stopped, %d distinct out, %d duplicates", n, atStop, len(seen), dups)
	if atStop >= n {
		t.Errorf("the server stopped after every line had arrived: the restart was not mid-stream")
	}
	if !strings.Contains(stderr.String(), "connected again") {
		t.Errorf("send's stderr %q does not say it reconnected", stderr.String())
	}
}

// TestSendLongLine: a 1 MB line is split into 256 KiB pieces with the
// marker, counted on stderr, and the pieces rebuild the line exactly.
func TestSendLongLine(t *testing.T) {
	dir := t.TempDir()
	ca := testutil.NewCA(t)
	p := start(t, sendServerConfig(t, dir, "127.0.0.1:0", ca), nil)
	long := strings.Repeat("0123456789abcdé", 1_000_000/16)
	cmd := sendCmd(t, p.port("relay"), ca, "t0ken", "--mute")
	cmd.Stdin = strings.NewReader("before\n" + long + "\nafter\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sluice send: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "1 line(s) longer than 262144 bytes split into 4 pieces") {
		t.Errorf("stderr %q does not count the split", stderr.String())
	}
	out := filepath.Join(dir, "out.log")
	waitFor(t, 30*time.Second, "6 lines", func() bool { return countLines(out) >= 6 })
	lines := readFileLines(t, out)
	if len(lines) != 6 || lines[0] != "before" || lines[5] != "after" {
		t.Fatalf("got %d lines, want before, 4 pieces, after", len(lines))
	}
	var rebuilt strings.Builder
	for i, piece := range lines[1:5] {
		body, marked := strings.CutSuffix(piece, sendMarker)
		if marked != (i < 3) {
			t.Errorf("piece %d: marked %v", i, marked)
		}
		if len(body) > 262144+3 {
			t.Errorf("piece %d is %d bytes", i, len(body))
		}
		rebuilt.WriteString(body)
	}
	if rebuilt.String() != long {
		t.Error("the pieces do not rebuild the line")
	}
}

func freeTCPAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func countLines(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	return bytes.Count(data, []byte("\n"))
}

func readFileLines(t *testing.T, path string) []string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 4<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
