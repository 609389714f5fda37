// Package api is sluice's one HTTP listener: /healthz, /api/v1/health, /metrics,
// the login page and session API, and the mount point for the web UI and
// ingest endpoints of later components. It listens on loopback unless told
// otherwise, speaks TLS when given a certificate, and, when users or tokens
// are configured, requires basic auth, a bearer token or a login session
// (cookie) on every path but /healthz and the login page; cookie-borne
// requests from another origin are refused (CSRF).
package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/listener"
)

// Server serves the API.
type Server struct {
	cfg      config.API
	mux      *http.ServeMux
	srv      *http.Server
	ln       net.Listener
	log      *slog.Logger
	sessions *sessions
	limiter  *limiter
	counters counters

	mu     sync.Mutex
	routes []string // every pattern on mux, for Routes
}

// Health reports whether sluice is healthy: a non-nil error (naming the
// failing components and why) makes /healthz answer 503; report is the
// state of every component, served as JSON by /healthz?verbose and
// /api/v1/health.
type Health func() (report any, err error)

// New builds the server; Start opens the listener.
func New(cfg config.API, g prometheus.Gatherer, health Health, log *slog.Logger) *Server {
	s := &Server{cfg: cfg, mux: http.NewServeMux(), log: log,
		sessions: newSessions(cfg.Sessions.TTL.D()), limiter: newLimiter(loginBurst, loginEvery),
		counters: newCounters(g)}
	s.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{EnableOpenMetrics: true, EnableOpenMetricsTextCreatedSamples: true}))
	s.Handle("GET /healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		report, err := health()
		if r.URL.Query().Has("verbose") {
			writeHealthJSON(w, report, err)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	}))
	s.Handle("GET /api/v1/health", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		report, err := health()
		writeHealthJSON(w, report, err)
	}))
	s.Handle("GET "+LoginPath, http.HandlerFunc(s.loginPage))
	s.Handle("POST "+LoginAPIPath, http.HandlerFunc(s.login))
	s.Handle("POST "+LogoutAPIPath, http.HandlerFunc(s.logout))
	return s
}

// writeHealthJSON answers {"status": "ok"|"failing", "error": ..., "components": report},
// with 503 when failing.
func writeHealthJSON(w http.ResponseWriter, report any, err error) {
	body := struct {
		Status     string `json:"status"`
		Error      string `json:"error,omitempty"`
		Components any    `json:"components"`
	}{Status: "ok", Components: report}
	code := http.StatusOK
	if err != nil {
		body.Status, body.Error, code = "failing", err.Error(), http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(body) // the client went away: nothing to do
}

// Handle mounts a handler behind the same authentication.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.mu.Lock()
	s.routes = append(s.routes, pattern)
	s.mu.Unlock()
	s.mux.Handle(pattern, h)
}

// Routes lists every pattern registered with Handle, sorted: what a test
// walks to prove no route answers without credentials.
func (s *Server) Routes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(slices.Values(s.routes))
}

// Start listens and serves in the background.
func (s *Server) Start() error {
	ln, err := listener.ListenServer("api", s.cfg.Listen, s.cfg.TLS, "h2", "http/1.1")
	if err != nil {
		return err
	}
	s.ln = ln
	s.srv = listener.ServeHTTP("api", ln, s.authenticate(s.mux), s.log)
	s.log.Info("api listening", "address", ln.Addr().String(), "tls", s.cfg.TLS.Enabled(), "auth", s.cfg.Auth.Enabled(),
		"open", s.URL())
	return nil
}

// URL is what a browser or `sluice tail --server` opens: the listener's
// address with http:// or https://, or the unix socket path.
func (s *Server) URL() string {
	if s.ln.Addr().Network() == "unix" {
		return "unix://" + s.ln.Addr().String()
	}
	if s.cfg.TLS.Enabled() {
		return "https://" + s.ln.Addr().String() + "/"
	}
	return "http://" + s.ln.Addr().String() + "/"
}

// Addr is the address the server listens on (useful with port 0).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown stops the server, waiting for requests in flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}
