package prom

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"net"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluice-log/sluice/internal/api"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/listener"
)

// Handler serves g's metrics in the format the scraper asks for: the
// Prometheus text format by default, OpenMetrics (with _created lines) or
// protobuf, which carries native histograms, by the Accept header.
func Handler(g prometheus.Gatherer) http.Handler {
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{EnableOpenMetrics: true, EnableOpenMetricsTextCreatedSamples: true})
}

// Server is metrics.listen: /metrics alone on a listener of its own, TCP
// or a unix socket, with the api's TLS and authentication. Start binds it
// (an address taken is an error there, not later); Shutdown stops it.
type Server struct {
	cfg config.Metrics
	g   prometheus.Gatherer
	log *slog.Logger
	srv *http.Server
	ln  net.Listener
}

// NewServer returns the server of cfg (cfg.Listen set) for g's metrics.
func NewServer(cfg config.Metrics, g prometheus.Gatherer, log *slog.Logger) *Server {
	return &Server{cfg: cfg, g: g, log: log}
}

// Start listens and serves in the background.
func (s *Server) Start() error {
	ln, err := listener.ListenServer("metrics", s.cfg.Listen, s.cfg.TLS)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", Handler(s.g))
	s.ln = ln
	s.srv = listener.ServeHTTP("metrics", ln, s.authenticate(mux), s.log)
	s.log.Info("metrics listening", "address", ln.Addr().String(), "tls", s.cfg.TLS.Enabled(), "auth", s.cfg.Auth.Enabled())
	return nil
}

// Addr is the bound address (port 0 resolved, or the socket path).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Shutdown stops the server, waiting for scrapes in flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}

// authenticate requires a bearer token or basic-auth user, as the api
// does, when any credential is configured.
func (s *Server) authenticate(next http.Handler) http.Handler {
	if !s.cfg.Auth.Enabled() {
		return next
	}
	tokens := make([][32]byte, len(s.cfg.Auth.Tokens))
	for i, t := range s.cfg.Auth.Tokens {
		tokens[i] = sha256.Sum256([]byte(t.Reveal()))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if api.Authorized(r, s.cfg.Auth.Users, tokens) {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="sluice metrics", charset="UTF-8"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	})
}
