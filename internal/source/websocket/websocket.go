// Package wssource implements the websocket source: the receiving end of
// the sluice relay protocol (docs/relay-protocol.md), fed by another
// sluice's websocket sink.
//
// Each binary message carries one batch with a sequence number; the source
// emits it with an ack token and sends the receipt only when the token
// fires, so the sender keeps its events until this sluice has durably taken
// them. A batch that arrives again after a reconnect is recognised by its
// sender id and sequence number and not emitted twice while this process
// remembers it. Handshakes are authenticated (bearer token or basic auth)
// before the upgrade, and TLS is available.
package wssource

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/api"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/listener"
	"github.com/sluice-log/sluice/internal/relay"
	"github.com/sluice-log/sluice/internal/tlsconf"
)

func init() {
	component.MustRegister(component.SourceSpec("websocket",
		"Receive events relayed by another sluice's websocket sink, acknowledged end to end.", New).Listener())
}

// Source listens for relay connections.
type Source struct {
	cfg             *Config
	log             *slog.Logger
	tokens          [][32]byte
	tls             *tls.Config
	maxMessage      int
	pingInterval    time.Duration
	pingTimeout     time.Duration
	shutdownTimeout time.Duration
	bound           *listener.Bound
	held            listener.Held[net.Listener]
	listening       func(...net.Addr) // Deps.Metrics.Listening
	senders         senders

	connections, unauthorized prometheus.Counter
	duplicates, badMessages   prometheus.Counter
	resets                    prometheus.Counter
}

// New returns a websocket source.
func New(c *Config, d component.Deps) (component.Source, error) {
	s := &Source{cfg: c, log: d.Logger, maxMessage: int(c.MaxMessageSize),
		pingInterval: c.PingInterval.D(), pingTimeout: c.PingTimeout.D(), shutdownTimeout: c.ShutdownTimeout.D(),
		bound:        listener.NewBound(),
		listening:    d.Metrics.Listening,
		connections:  d.Metrics.Counter("websocket_connections_total", "Relay connections accepted.", nil),
		unauthorized: d.Metrics.Counter("websocket_unauthorized_total", "Relay handshakes refused for bad or missing credentials.", nil),
		duplicates:   d.Metrics.Counter("websocket_duplicate_batches_total", "Batches received again and not emitted twice.", nil),
		badMessages:  d.Metrics.Counter("websocket_bad_messages_total", "Relay messages rejected as malformed.", nil),
		resets: d.Metrics.Counter("websocket_connection_resets_total",
			"Sender connections that ended in a reset; the sender resends what has no receipt.", nil),
	}
	for _, t := range c.Auth.Tokens {
		s.tokens = append(s.tokens, sha256.Sum256([]byte(t.Reveal())))
	}
	if c.TLS.Enabled() {
		tc, err := tlsconf.Server(c.TLS.Cert, c.TLS.Key, c.TLS.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("creating websocket source: %w", err)
		}
		tc.NextProtos = []string{"http/1.1"}
		s.tls = tc
	}
	return s, nil
}

// Addr returns the listening address once Start has bound it.
func (s *Source) Addr(ctx context.Context) (net.Addr, error) { return s.bound.Addr(ctx) }

// Start implements component.Starter: it binds the listener Run serves, so
// a port in use fails start-up. Run without Start starts first.
func (s *Source) Start(context.Context) error { return s.held.Open(s.listen) }

func (s *Source) listen() (net.Listener, error) {
	ln, err := listener.Listen(s.cfg.Address, s.tls)
	if err != nil {
		return nil, err
	}
	s.bound.Set(ln.Addr())
	s.listening(ln.Addr())
	s.log.Info("listening for relayed events", "address", ln.Addr().String(), "path", s.cfg.Path, "tls", s.tls != nil)
	return ln, nil
}

// Run implements component.Source: it serves the listener Start bound
// until ctx is done, and closes it, also when ctx is done already.
func (s *Source) Run(ctx context.Context, emit component.Emit) error {
	ln, err := s.held.Take(s.listen)
	if err != nil {
		return err
	}
	h := &handler{s: s, emit: emit}
	mux := http.NewServeMux()
	mux.Handle(s.cfg.Path, h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:    slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext: listener.BaseContext(ctx)}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		h.sessions.Wait()
		return fmt.Errorf("serving relay connections: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	// Serve closes the listener, even one Shutdown did not see yet.
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		s.log.Warn("relay server ended", "error", err)
	}
	h.sessions.Wait() // each session drains its receipts, bounded by shutdown_timeout
	return nil
}

type handler struct {
	s        *Source
	emit     component.Emit
	sessions sync.WaitGroup
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := h.s
	if !s.authorized(r) {
		s.unauthorized.Inc()
		s.log.Warn("refusing relay connection: bad or missing credentials", "remote", r.RemoteAddr)
		w.Header().Set("WWW-Authenticate", `Basic realm="sluice"`)
		http.Error(w, "unauthorized: a valid bearer token or user is required", http.StatusUnauthorized)
		return
	}
	if !offers(r, relay.Subprotocol) {
		http.Error(w, "this endpoint speaks the sluice relay protocol only (Sec-WebSocket-Protocol: "+relay.Subprotocol+")", http.StatusBadRequest)
		return
	}
	sender := r.Header.Get(relay.HeaderSender)
	if sender != "" && !relay.ValidSender(sender) {
		http.Error(w, "invalid "+relay.HeaderSender+" header", http.StatusBadRequest)
		return
	}
	h.sessions.Add(1)
	defer h.sessions.Done()
	runCtx := listener.RunContext(r)
	if runCtx.Err() != nil {
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set(relay.HeaderMaxMessageSize, strconv.Itoa(s.maxMessage))
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{relay.Subprotocol}})
	if err != nil {
		s.log.Warn("websocket handshake failed", "remote", r.RemoteAddr, "error", err)
		return
	}
	c.SetReadLimit(int64(s.maxMessage))
	s.connections.Inc()
	s.log.Info("sender connected", "remote", r.RemoteAddr, "sender", sender)
	newSession(s, c, sender, r.RemoteAddr).serve(runCtx, h.emit)
}

// authorized checks the handshake's credentials. A sender behind a proxy
// that uses Authorization for its own basic auth sends ours in
// X-Sluice-Authorization, which then takes precedence.
func (s *Source) authorized(r *http.Request) bool {
	if !s.cfg.Auth.Enabled() {
		return true
	}
	if v := r.Header.Get(relay.HeaderAuthorization); v != "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", v)
	}
	return api.Authorized(r, s.cfg.Auth.Users, s.tokens)
}

// offers reports whether the client lists proto in Sec-WebSocket-Protocol.
func offers(r *http.Request, proto string) bool {
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			if strings.TrimSpace(p) == proto {
				return true
			}
		}
	}
	return false
}

var _ component.Source = (*Source)(nil)
