// Package e2e runs the built sluice binary against real files, pipes,
// signals and HTTP servers, and counts every event in and out.
package e2e

import (
	"bufio"
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

	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/proctest"
)

// sluiceBin returns the binary under test (proctest.SluiceBin); -short
// skips the test.
func sluiceBin(t *testing.T) string {
	t.Helper()
	testutil.SkipIfShort(t)
	return proctest.SluiceBin(t)
}

// proc is a running sluice.
type proc struct {
	run       *proctest.Proc
	t         *testing.T
	cmd       *exec.Cmd
	stderr    *proctest.SyncBuffer
	done      <-chan struct{}
	readyFile string
	info      *proctest.ReadyInfo
}

// start runs `sluice run -c cfg` with extra args and a ready file; stdin
// may be nil. Configs listen on port 0; ready, api and port tell where.
func start(t *testing.T, cfg string, stdin io.Reader, args ...string) *proc {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready.json")
	cmd := exec.Command(sluiceBin(t), append([]string{"run", "-c", cfg, "--ready-file", ready}, args...)...)
	cmd.Stdin = stdin
	pp := proctest.Start(t, cmd)
	return &proc{run: pp, t: t, cmd: cmd, stderr: pp.Output, done: pp.Done(), readyFile: ready}
}

// ready waits until sluice has written its ready file (the API and every
// listening source are bound) and returns what it says.
func (p *proc) ready() proctest.ReadyInfo {
	p.t.Helper()
	if p.info == nil {
		info := p.run.Ready(p.t, p.readyFile, 30*time.Second)
		p.info = &info
	}
	return *p.info
}

// api is the host:port the API listens on, once sluice is ready.
func (p *proc) api() string {
	p.t.Helper()
	a := p.ready().API
	if a == "" {
		p.t.Fatal("the ready file names no api address")
	}
	return a
}

// port is the port source id listens on, once sluice is ready.
func (p *proc) port(id string) int {
	p.t.Helper()
	addrs := p.ready().Listeners[id]
	if len(addrs) != 1 {
		p.t.Fatalf("source %s listens on %v, want one address", id, addrs)
	}
	_, port, err := net.SplitHostPort(addrs[0])
	if err != nil {
		p.t.Fatal(err)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		p.t.Fatal(err)
	}
	return n
}

// stop sends sig and waits for exit, returning the exit code.
func (p *proc) stop(sig syscall.Signal) int {
	p.t.Helper()
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.t.Fatalf("sluice did not exit within 60s of %v", sig)
	}
	return p.run.ExitCode()
}

// wait waits for the process to exit by itself.
func (p *proc) wait(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		p.t.Fatalf("sluice did not exit within %v", d)
	}
	return p.run.ExitCode()
}

// rssKiB reads the resident set size of the process.
func (p *proc) rssKiB() int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.Fields(v)[0])
			return n
		}
	}
	return 0
}

// metric scrapes one sample (name with labels, as printed) from /metrics.
func metric(t *testing.T, addr, prefix string) float64 {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scraping metrics: %v", err)
	}
	defer resp.Body.Close()
	sum := 0.0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, prefix) {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			sum += v
		}
	}
	return sum
}

// waitFor polls cond every 20ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.WaitFor(t, d, what, cond)
}

// waitSettled waits until read returns the same positive value for 500 ms
// (a counter that stopped moving), and returns it.
func waitSettled(t *testing.T, d time.Duration, what string, read func() float64) float64 {
	t.Helper()
	last, since := -1.0, time.Now()
	waitFor(t, d, what, func() bool {
		if n := read(); n != last {
			last, since = n, time.Now()
		}
		return last > 0 && time.Since(since) >= 500*time.Millisecond
	})
	return last
}

// countLines counts the lines of every file matching glob, per line.
func readLines(t *testing.T, glob string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	files, _ := filepath.Glob(glob)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			if l != "" {
				seen[l]++
			}
		}
	}
	return seen
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// lineWriter appends numbered lines to a file.
type lineWriter struct {
	t    *testing.T
	path string
	f    *os.File
	next int
}

func newLineWriter(t *testing.T, path string) *lineWriter {
	w := &lineWriter{t: t, path: path}
	w.reopen()
	t.Cleanup(func() { w.f.Close() })
	return w
}

func (w *lineWriter) reopen() {
	if w.f != nil {
		w.f.Close()
	}
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		w.t.Fatal(err)
	}
	w.f = f
}

// write appends n lines in one write call per 100 lines.
func (w *lineWriter) write(n int) {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "line-%07d some payload to make the line a realistic length\n", w.next)
		w.next++
		if b.Len() > 8<<10 || i == n-1 {
			if _, err := w.f.WriteString(b.String()); err != nil {
				w.t.Fatal(err)
			}
			b.Reset()
		}
	}
}

// checkExactlyOnce asserts that lines 0..n-1 each appear once in seen.
func checkExactlyOnce(t *testing.T, seen map[string]int, n int, allowDup bool) (dups int) {
	t.Helper()
	missing := 0
	for i := 0; i < n; i++ {
		l := fmt.Sprintf("line-%07d some payload to make the line a realistic length", i)
		switch c := seen[l]; {
		case c == 0:
			if missing < 5 {
				t.Errorf("missing %q", l)
			}
			missing++
		case c > 1:
			dups += c - 1
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d lines missing", missing, n)
	}
	if extra := len(seen) - n; extra > 0 {
		// A process killed in the middle of writing leaves a torn last line
		// (a prefix of a real one); anything else is an error.
		torn := 0
		for l := range seen {
			if !strings.HasSuffix(l, "realistic length") && strings.HasPrefix(l, "line-") {
				torn++
			}
		}
		if !allowDup || torn != extra {
			t.Errorf("%d unexpected lines (%d of them torn writes)", extra, torn)
		}
	}
	if dups > 0 && !allowDup {
		t.Errorf("%d duplicated lines", dups)
	}
	return dups
}
