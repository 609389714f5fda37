package sinktest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// HTTPPeer is an in-process HTTP server on 127.0.0.1 for the harnesses of
// sinks that POST, with the hooks of an Instance: Break answers 503,
// Restart closes the server and listens again on the same address, Hang
// holds every request until the client gives up or the test ends. What
// the handler records survives a restart; recording is the handler's job.
type HTTPPeer struct {
	// URL is the base URL, http://127.0.0.1:port.
	URL string

	t       testing.TB
	handler http.Handler
	mu      sync.Mutex
	srv     *httptest.Server
	broken  bool
	hung    bool
	release chan struct{} // closed when the test ends, to free hung requests
}

// NewHTTPPeer starts a peer serving h, stopped when the test ends.
func NewHTTPPeer(t testing.TB, h http.Handler) *HTTPPeer {
	t.Helper()
	p := &HTTPPeer{t: t, handler: h, release: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sinktest: listening: %v", err)
	}
	p.URL = "http://" + ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() {
		close(p.release)
		p.mu.Lock()
		srv := p.srv
		p.mu.Unlock()
		srv.Close()
	})
	return p
}

func (p *HTTPPeer) serve(ln net.Listener) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(p.serveHTTP))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	p.mu.Lock()
	p.srv = srv
	p.mu.Unlock()
}

func (p *HTTPPeer) serveHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	broken, hung := p.broken, p.hung
	p.mu.Unlock()
	switch {
	case hung:
		select {
		case <-r.Context().Done():
		case <-p.release:
		}
	case broken:
		http.Error(w, "sinktest: peer broken", http.StatusServiceUnavailable)
	default:
		p.handler.ServeHTTP(w, r)
	}
}

// Break answers 503 to every request until heal is called.
func (p *HTTPPeer) Break() (heal func()) {
	p.set(&p.broken, true)
	return func() { p.set(&p.broken, false) }
}

// Hang holds every request until the client cancels it or the test ends.
func (p *HTTPPeer) Hang() { p.set(&p.hung, true) }

func (p *HTTPPeer) set(flag *bool, v bool) {
	p.mu.Lock()
	*flag = v
	p.mu.Unlock()
}

// Restart closes the server, with every connection, and serves again on
// the same address.
func (p *HTTPPeer) Restart() {
	p.mu.Lock()
	srv := p.srv
	p.mu.Unlock()
	addr := srv.Listener.Addr().String()
	srv.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatalf("sinktest: listening again on %s: %v", addr, err)
	}
	p.serve(ln)
}
