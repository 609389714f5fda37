package drains

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

// receiver is an HTTP drain on loopback that decodes the NDJSON bodies the
// http sink sends and counts the events per stream. hang makes it accept
// requests and never answer them (until unhung, when the held requests
// fail without being counted, as a timed-out request must).
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	byApp  map[string][]string // messages in arrival order
	total  atomic.Int64
	hang   atomic.Bool
	unhang chan struct{}
}

func newReceiver(t testing.TB) *receiver {
	r := &receiver{byApp: map[string][]string{}, unhang: make(chan struct{})}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.close)
	return r
}

// newReceiverAt is a receiver listening on addr, e.g. a refusing drain's
// address once it recovers.
func newReceiverAt(t testing.TB, addr string) *receiver {
	r := &receiver{byApp: map[string][]string{}, unhang: make(chan struct{})}
	r.srv = httptest.NewUnstartedServer(http.HandlerFunc(r.serve))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	r.srv.Listener = l
	r.srv.Start()
	t.Cleanup(r.close)
	return r
}

func (r *receiver) close() {
	r.release()
	r.srv.Close()
}

func (r *receiver) release() {
	if r.hang.CompareAndSwap(true, false) {
		close(r.unhang)
	}
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	if r.hang.Load() {
		select {
		case <-r.unhang:
		case <-req.Context().Done():
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	sc := bufio.NewScanner(req.Body)
	sc.Buffer(nil, 1<<20)
	var got []map[string]any
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		got = append(got, m)
	}
	r.mu.Lock()
	for _, m := range got {
		s, _ := m["stream"].(string)
		msg, _ := m["message"].(string)
		r.byApp[s] = append(r.byApp[s], msg)
	}
	r.mu.Unlock()
	r.total.Add(int64(len(got)))
	w.WriteHeader(http.StatusOK)
}

func (r *receiver) url() string { return r.srv.URL + "/in" }

func (r *receiver) messages(app string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.byApp[app]...)
}

// testConfig is a drains config with short timeouts for tests.
func testConfig(t *testing.T, edit func(*Config)) *Config {
	return testutil.NewConfig(t, func(c *Config) {
		c.Timeout = config.Duration(10 * time.Second)
		c.MaxBackoff = config.Duration(100 * time.Millisecond)
		c.FlushTimeout = config.Duration(2 * time.Second)
		if edit != nil {
			edit(c)
		}
	})
}

func newRouter(t *testing.T, c *Config, dataDir string) *Router {
	t.Helper()
	deps := testutil.Deps(t, "drains")
	if dataDir != "" {
		deps.DataDir = dataDir
	}
	s, err := New(c, deps)
	if err != nil {
		t.Fatal(err)
	}
	r := s.(*Router)
	t.Cleanup(func() { _ = r.Close(t.Context()) })
	return r
}

// batch makes n events of app numbered from first.
func batch(app string, first, n int) *event.Batch {
	b := &event.Batch{Events: make([]event.Event, n)}
	for i := range b.Events {
		b.Events[i] = event.Event{Timestamp: time.Unix(1700000000, 0), Host: "h", Stream: app,
			Message: []byte(app + " " + strconv.Itoa(first+i))}
	}
	return b
}

func write(t testing.TB, r *Router, b *event.Batch) {
	t.Helper()
	if err := r.Write(t.Context(), b); err != nil {
		t.Fatal(err)
	}
}
