package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// receiver is an NDJSON HTTP endpoint that can be taken down (nothing
// listening: connection refused) and brought back on the same port, and
// that counts every message it got.
type receiver struct {
	t     *testing.T
	addr  string
	delay time.Duration

	mu  sync.Mutex
	got map[string]int
	srv *http.Server
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, addr: "127.0.0.1:" + itoa(freePort(t)), got: map[string]int{}}
	t.Cleanup(r.stop)
	return r
}

func (r *receiver) url() string { return "http://" + r.addr + "/ingest" }

func (r *receiver) start() {
	r.t.Helper()
	var ln net.Listener
	var err error
	for i := 0; i < 100; i++ { // the port may linger briefly after stop
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(r.serve)}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			r.t.Errorf("receiver: %v", err)
		}
	}()
}

func (r *receiver) stop() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	if r.delay > 0 {
		time.Sleep(r.delay)
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
