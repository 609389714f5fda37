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
		select { // a slow receiver
		case <-time.After(5 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
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
	cfg := filepath.Join(dir, "sluice.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: %[1]s/data
api: { listen: "127.0.0.1:0" }
sources:
  app: { type: file, include: [ "%[1]s/in/*.log" ], read_from: beginning }
sinks:
  receiver:
    type: http
    inputs: [ app ]
    url: %[2]s/ingest
    encoding: ndjson
    batch: { max_events: 500, timeout: 100ms }
    buffer: { max_events: 5000 }
    retry: { initial_backoff: 50ms, max_backoff: 500ms }
`, dir, srv.URL))
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
	// The receiver stays down until sluice's buffer in front of it is full
	// and the source is held back: the moment memory would grow if it were
	// not bounded.
	api := p.api()
	waitFor(t, 10*time.Second, "failing requests", func() bool { sample(); return requests.Load() > 5 })
	waitSettled(t, 60*time.Second, "the source to be held back", func() float64 {
		sample()
		return metric(t, api, `sluice_component_sent_events_total{component_id="app"`)
	})
	sample()
	failing.Store(false)
	waitFor(t, 120*time.Second, "all lines received", func() bool {
		sample()
		mu.Lock()
		defer mu.Unlock()
		return len(received) >= lines
	})
	retries := metric(t, api, "sluice_sink_retries_total")
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
