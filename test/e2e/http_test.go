package e2e

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestSlowFailingHTTPReceiver sends a file through the http sink to a
// receiver that fails for a while and then answers slowly: nothing is lost
// and sluice's memory stays bounded by its buffers.
func TestSlowFailingHTTPReceiver(t *testing.T) {
	const lines = 200000
	var (
		mu       sync.Mutex
		received = map[string]int{}
		failing  atomic.Bool
		requests atomic.Int64
	)
	failing.Store(true)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if failing.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		time.Sleep(5 * time.Millisecond) // a slow receiver
		sc := bufio.NewScanner(r.Body)
		var batch []string
		for sc.Scan() {
			batch = append(batch, sc.Text())
		}
		mu.Lock()
		for _, l := range batch {
			received[l]++
		}
		mu.Unlock()
	}))
	defer srv.Close()

	dir := t.TempDir()
	port := freePort(t)
	cfg := filepath.Join(dir, "sluice.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: %[1]s/data
api: { listen: "127.0.0.1:%[2]d" }
sources:
  app: { type: file, include: [ "%[1]s/in/*.log" ], read_from: beginning }
sinks:
  receiver:
    type: http
    inputs: [ app ]
    url: %[3]s/ingest
    encoding: ndjson
    batch: { max_events: 500, timeout: 100ms }
    buffer: { max_events: 5000 }
    retry: { initial_backoff: 50ms, max_backoff: 500ms }
`, dir, port, srv.URL))
	if err := mkdir(filepath.Join(dir, "in")); err != nil {
		t.Fatal(err)
	}
	w := newLineWriter(t, filepath.Join(dir, "in", "app.log"))
	w.write(lines)
	p := start(t, cfg, nil)
	maxRSS := 0
	sample := func() {
		if r := p.rssKiB(); r > maxRSS {
			maxRSS = r
		}
	}
	waitFor(t, 10*time.Second, "failing requests", func() bool { sample(); return requests.Load() > 5 })
	time.Sleep(2 * time.Second) // the receiver stays down a while
	sample()
	failing.Store(false)
	waitFor(t, 120*time.Second, "all lines received", func() bool {
		sample()
		mu.Lock()
		defer mu.Unlock()
		return len(received) >= lines
	})
	retries := metric(t, fmt.Sprintf("127.0.0.1:%d", port), "sluice_sink_retries_total")
	p.stop(syscall.SIGTERM)
	mu.Lock()
	defer mu.Unlock()
	seen := map[string]int{}
	for l, c := range received {
		var ev struct{ Message string }
		if err := jsonUnmarshal(l, &ev); err != nil {
			t.Fatalf("receiver got invalid NDJSON line %q: %v", l, err)
		}
		seen[ev.Message] += c
	}
	checkExactlyOnce(t, seen, lines, true)
	if retries == 0 {
		t.Error("sluice_sink_retries_total is 0 although the receiver failed")
	}
	// Bounded: the buffer holds 5000 events; 200k lines must not be in memory.
	t.Logf("peak RSS while the receiver was down or slow: %d KiB; retries %v", maxRSS, retries)
	if maxRSS > 150*1024 {
		t.Errorf("peak RSS %d KiB: memory is not bounded by the buffers", maxRSS)
	}
}
