package e2e

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// receiver is an NDJSON HTTP endpoint that counts every message it got. It
// listens on a port of its own from the start, so it keeps its address
// while it is down: then it resets every connection as soon as a request
// arrives, without reading it, as a crashed peer behind a port would. It
// starts down; start brings it up.
type receiver struct {
	t   *testing.T
	srv *httptest.Server

	mu      sync.Mutex
	up      bool
	delay   time.Duration // per request, when up
	refused int
	got     map[string]int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, got: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) url() string { return r.srv.URL + "/ingest" }

// start brings the receiver up.
func (r *receiver) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.up = true
}

// setDelay makes every request take d (a slow receiver).
func (r *receiver) setDelay(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delay = d
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	up, delay := r.up, r.delay
	if !up {
		r.refused++
	}
	r.mu.Unlock()
	if !up {
		r.reset(w)
		return
	}
	if delay > 0 {
		select { // a slow receiver
		case <-time.After(delay):
		case <-req.Context().Done():
			return
		}
	}
	sc := bufio.NewScanner(req.Body)
	sc.Buffer(nil, 1<<20)
	var msgs []string
	for sc.Scan() {
		var ev struct{ Message string }
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			http.Error(w, "bad json", 400)
			return
		}
		msgs = append(msgs, ev.Message)
	}
	if sc.Err() != nil {
		http.Error(w, "read error", 500)
		return
	}
	r.mu.Lock()
	for _, m := range msgs {
		r.got[m]++
	}
	r.mu.Unlock()
}

// reset closes the request's connection with a TCP reset.
func (r *receiver) reset(w http.ResponseWriter) {
	c, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		r.t.Errorf("receiver: hijacking a connection: %v", err)
		return
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}

// refusals counts the requests refused while down.
func (r *receiver) refusals() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refused
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func (r *receiver) snapshot() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.got))
	for k, v := range r.got {
		out[k] = v
	}
	return out
}
