// Package api is sluice's one HTTP listener: /healthz, /api/v1/health, /metrics,
// and the mount point for the web UI and ingest endpoints of later
// components. It listens on loopback unless told otherwise, speaks TLS when
// given a certificate, and requires basic auth or a bearer token on every
// path but /healthz when users or tokens are configured.
package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/crypto/bcrypt"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/tlsconf"
)

// Server serves the API.
type Server struct {
	cfg config.API
	mux *http.ServeMux
	srv *http.Server
	ln  net.Listener
	log *slog.Logger
}

// Health reports whether sluice is healthy: a non-nil error (naming the
// failing components and why) makes /healthz answer 503; report is the
// state of every component, served as JSON by /healthz?verbose and
// /api/v1/health.
type Health func() (report any, err error)

// New builds the server; Start opens the listener.
func New(cfg config.API, g prometheus.Gatherer, health Health, log *slog.Logger) *Server {
	s := &Server{cfg: cfg, mux: http.NewServeMux(), log: log}
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{EnableOpenMetrics: true, EnableOpenMetricsTextCreatedSamples: true}))
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
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
	})
	s.mux.HandleFunc("GET /api/v1/health", func(w http.ResponseWriter, _ *http.Request) {
		report, err := health()
		writeHealthJSON(w, report, err)
	})
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
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Start listens and serves in the background.
func (s *Server) Start() error {
	ln, err := listen(s.cfg.Listen)
	if err != nil {
		return err
	}
	if s.cfg.TLS.Enabled() {
		tc, err := tlsconf.Server(s.cfg.TLS.Cert, s.cfg.TLS.Key, s.cfg.TLS.ClientCA)
		if err != nil {
			ln.Close()
			return fmt.Errorf("api tls: %w", err)
		}
		tc.NextProtos = []string{"h2", "http/1.1"}
		ln = tls.NewListener(ln, tc)
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.authenticate(s.mux),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("api server stopped", "error", err)
		}
	}()
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

func listen(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix://"); ok {
		_ = os.Remove(path) // a stale socket from a previous run
		ln, err := net.Listen("unix", path)
		if err != nil {
			return nil, fmt.Errorf("api listening on %s: %w", addr, err)
		}
		return ln, os.Chmod(path, 0o660)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("api listening on %s: %w", addr, err)
	}
	return ln, nil
}

// authenticate requires a valid bearer token or basic-auth user on every
// path except /healthz, when any credential is configured.
func (s *Server) authenticate(next http.Handler) http.Handler {
	if !s.cfg.Auth.Enabled() {
		return next
	}
	tokens := make([][32]byte, len(s.cfg.Auth.Tokens))
	for i, t := range s.cfg.Auth.Tokens {
		tokens[i] = sha256.Sum256([]byte(t.Reveal()))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || Authorized(r, s.cfg.Auth.Users, tokens) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="sluice", charset="UTF-8"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	})
}

// Authorized checks r's credentials: a bearer token compared in constant
// time (as SHA-256 digests, so length leaks nothing), or a basic-auth user
// whose password matches its bcrypt hash.
func Authorized(r *http.Request, users map[string]config.Secret, tokens [][32]byte) bool {
	h := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
		sum := sha256.Sum256([]byte(tok))
		match := 0
		for _, t := range tokens {
			match |= subtle.ConstantTimeCompare(sum[:], t[:])
		}
		return match == 1
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	hash, known := users[user]
	if !known {
		// Spend the same time as a real check so user names cannot be probed.
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(pass))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash.Reveal()), []byte(pass)) == nil
}

var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("sluice-dummy"), bcrypt.DefaultCost)
