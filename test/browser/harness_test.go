// Package browser drives the web UI in Debian's headless chromium (with
// chromedp) against a real sluice: lines go in through the http source,
// reach the live sink, and must show up in the page.
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/proctest"
)

// chromium finds Debian's chromium, /opt/sluice-peers/bin first.
func chromium(t *testing.T) string {
	t.Helper()
	for _, dir := range append([]string{"/opt/sluice-peers/bin"}, filepath.SplitList(os.Getenv("PATH"))...) {
		for _, name := range []string{"chromium", "chromium-browser"} {
			p := filepath.Join(dir, name)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
				return p
			}
		}
	}
	testutil.RequireCI(t, "chromium not found on PATH (scripts/install-test-deps.sh installs Debian's chromium)")
	return ""
}

// server is a running sluice: an http source feeding a live sink, and
// the api listener serving the UI.
type server struct {
	api, ingest string
	client      *http.Client
	pid         int
}

const config = `
data_dir: %s
api:
  listen: 127.0.0.1:0
%s
sources:
  ingest:
    type: http
    address: 127.0.0.1:0
sinks:
  live:
    type: live
    inputs: [ "*" ]
    max_lines: 20000
`

func startSluice(t *testing.T, apiExtra string) *server {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sluice.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(config, dir, apiExtra)), 0o600); err != nil {
		t.Fatal(err)
	}
	ready := filepath.Join(dir, "ready.json")
	p := proctest.Start(t, exec.Command(proctest.SluiceBin(t), "run", "-c", cfg, "--ready-file", ready))
	info := p.Ready(t, ready, 20*time.Second)
	return &server{pid: p.Cmd.Process.Pid, api: "http://" + info.API, ingest: "http://" + info.Listeners["ingest"][0], client: &http.Client{Timeout: 10 * time.Second}}
}

// send posts events (JSON objects) to the http source as ndjson, into stream.
func (s *server) send(t *testing.T, stream string, events ...map[string]any) {
	t.Helper()
	if err := s.post(stream, events); err != nil {
		t.Fatal(err)
	}
}

// post is send for other goroutines than the test's.
func (s *server) post(stream string, events []map[string]any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	for _, e := range events {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	resp, err := s.client.Post(s.ingest+"/?stream="+stream, "application/x-ndjson", &b)
	if err != nil {
		return fmt.Errorf("sending to %s: %w", stream, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("sending to %s: %s", stream, resp.Status)
	}
	return nil
}

// lines makes n plain events numbered from first.
func lines(stream string, first, n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"message": fmt.Sprintf("%s line %d", stream, first+i)}
	}
	return out
}

// browser opens a headless chromium tab; it lives until the test ends.
func browser(t *testing.T) context.Context {
	t.Helper()
	exe := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.WindowSize(1440, 860),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-quic", true),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium %s: %v", exe, err)
	}
	return ctx
}

// run runs chromedp actions with a deadline.
func run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(c, actions...); err != nil {
		t.Fatal(err)
	}
}

// get runs one chromedp action that returns a value, with a deadline.
func get[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// waitJS waits until a JavaScript expression is true in the page.
func waitJS(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	var last string
	ok := testutil.Eventually(10*time.Second, func() bool {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		v, err := chromedp.Run(c, chromedp.Evaluate[bool](js))
		if err != nil {
			last = err.Error()
			return false
		}
		return v
	})
	if !ok {
		rows, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify(window.sluice && window.sluice.stats())+" "+location.search+" "+[...new Set([...document.querySelectorAll("#log .row[data-stream]")].map(r => r.dataset.stream))]`))
		t.Fatalf("waiting for %s (%s): %s; page: %s", what, js, last, rows)
	}
}

// artifacts is where screenshots go: $SLUICE_ARTIFACTS, or a temp dir
// kept for a look after the run.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SLUICE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "sluice-ui-artifacts")
	}
	dir = filepath.Join(dir, "browser")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png := get(t, ctx, chromedp.CaptureScreenshot())
	p := filepath.Join(artifacts(t), name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
