// Package httpsource receives events over HTTP POST: NDJSON, a JSON array
// or one JSON object (logtrain's event packets among them), syslog over
// HTTP in logplex framing as Heroku drains send it, and plain text lines.
//
// With acknowledgements on (the default) a request is answered only after
// every sink has taken its events, so a client that sees 2xx knows its
// logs are safe and one that sees 5xx or a broken connection retries.
// Bodies are bounded, and bearer-token or basic auth and TLS are available.
package httpsource

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/api"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/listener"
	"github.com/sluice-log/sluice/internal/tlsconf"
)

// Config configures the http source.
type Config struct {
	// Address is host:port to listen on. Default 127.0.0.1:9581.
	Address string `yaml:"address"`
	// Path is the URL path prefix that accepts POSTs. Default "/".
	Path string `yaml:"path"`
	// Format is auto (by Content-Type and content), json, ndjson, logplex,
	// syslog (one syslog message per line) or text (one raw line per event).
	// Default auto.
	Format string `yaml:"format"`
	// MaxBodySize bounds a request body; larger ones get 413. Default 10MiB.
	MaxBodySize config.ByteSize `yaml:"max_body_size"`
	// Stream is the stream of events that name none. Default "http".
	Stream string `yaml:"stream"`
	// Timeout bounds how long a request may wait for its events to be
	// acknowledged before it is answered 503. Default 60s.
	Timeout config.Duration `yaml:"timeout"`
	// TLS serves HTTPS when cert and key are set; client_ca requires
	// client certificates.
	TLS config.ServerTLS `yaml:"tls"`
	// Auth requires a bearer token or a basic-auth user (bcrypt hash).
	Auth config.Auth `yaml:"auth"`
}

var formats = map[string]bool{"auto": true, "json": true, "ndjson": true, "logplex": true, "syslog": true, "text": true}

// Defaults implements component.Defaulter.
func (c *Config) Defaults() {
	c.Address = "127.0.0.1:9581"
	c.Path = "/"
	c.Format = "auto"
	c.MaxBodySize = 10 << 20
	c.Stream = "http"
	c.Timeout = config.Duration(60 * time.Second)
}

// Validate implements component.Validator.
func (c *Config) Validate() error {
	if !formats[c.Format] {
		return fmt.Errorf("format must be auto, json, ndjson, logplex, syslog or text, not %q", c.Format)
	}
	if !strings.HasPrefix(c.Path, "/") {
		return fmt.Errorf("path must start with /")
	}
	if c.TLS.Enabled() && (c.TLS.Cert == "" || c.TLS.Key == "") {
		return errors.New("tls needs both cert and key")
	}
	return nil
}

// Source is an HTTP listener.
//
// Start binds the address (with TLS when configured) and reports it
// listening, so a port in use fails there, before sluice reports itself
// started. Run serves that listener and closes it when it returns, also
// when its context is already done; Run without Start starts first.
type Source struct {
	cfg     *Config
	deps    component.Deps
	tokens  [][32]byte
	tls     *tls.Config
	bound   *listener.Bound
	held    listener.Held[net.Listener]
	badReqs interface{ Inc() }
	resets  interface{ Inc() }
}

// New returns an http source.
func New(c *Config, d component.Deps) (component.Source, error) {
	s := &Source{cfg: c, deps: d, bound: listener.NewBound(),
		badReqs: d.Metrics.Counter("http_bad_requests_total", "Requests refused: bad body, auth, size or method.", nil),
		resets: d.Metrics.Counter("http_connection_resets_total",
			"Requests whose body read ended in a reset by the client: it got no answer, and must send again.", nil)}
	for _, t := range c.Auth.Tokens {
		s.tokens = append(s.tokens, sha256.Sum256([]byte(t.Reveal())))
	}
	if c.TLS.Enabled() {
		tc, err := tlsconf.Server(c.TLS.Cert, c.TLS.Key, c.TLS.ClientCA)
		if err != nil {
			return nil, err
		}
		s.tls = tc
	}
	return s, nil
}

// Addr returns the listening address once Start has bound it.
func (s *Source) Addr(ctx context.Context) (net.Addr, error) { return s.bound.Addr(ctx) }

// Start implements component.Starter: it binds the listener Run serves.
func (s *Source) Start(context.Context) error { return s.held.Open(s.listen) }

func (s *Source) listen() (net.Listener, error) {
	ln, err := listener.Listen(s.cfg.Address, s.tls)
	if err != nil {
		return nil, err
	}
	s.bound.Set(ln.Addr())
	s.deps.Metrics.Listening(ln.Addr())
	s.deps.Logger.Info("listening for http events", "address", ln.Addr().String(), "tls", s.tls != nil)
	return ln, nil
}

// Run implements component.Source: it serves the listener Start bound
// until ctx is done, then lets the requests in flight finish.
func (s *Source) Run(ctx context.Context, emit component.Emit) error {
	ln, err := s.held.Take(s.listen)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(s.cfg.Path, &handler{s: s, emit: emit})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		BaseContext: listener.BaseContext(ctx)}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("serving http: %w", err)
	case <-ctx.Done():
	}
	// Requests in flight finish: they wait for their acknowledgements.
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.Timeout.D()+5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	// Serve closes the listener, even one Shutdown did not see yet.
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		s.deps.Logger.Warn("http server ended", "error", err)
	}
	return nil
}

type handler struct {
	s    *Source
	emit component.Emit
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := h.s
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		s.badReqs.Inc()
		w.Header().Set("Allow", "POST, PUT")
		http.Error(w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	if s.cfg.Auth.Enabled() && !api.Authorized(r, s.cfg.Auth.Users, s.tokens) {
		s.badReqs.Inc()
		w.Header().Set("WWW-Authenticate", `Basic realm="sluice"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	events, status, err := s.decode(r)
	if errors.Is(err, syscall.ECONNRESET) {
		// Nothing was emitted and no answer can reach the client: it
		// must send again, or its events are lost on its side.
		s.resets.Inc()
		s.deps.Metrics.Errors.Inc()
		s.deps.Logger.Warn("request body cut by a connection reset; the client got no answer", "remote", r.RemoteAddr, "error", err)
		return
	}
	if err != nil {
		s.badReqs.Inc()
		s.deps.Metrics.Errors.Inc()
		s.deps.Logger.Warn("refusing request", "remote", r.RemoteAddr, "error", err)
		http.Error(w, err.Error(), status)
		return
	}
	if len(events) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	st, err := h.deliver(r.Context(), listener.RunContext(r), events)
	switch {
	case err != nil:
		http.Error(w, "not accepted: "+err.Error(), http.StatusServiceUnavailable)
	case !st.Committable():
		http.Error(w, "not delivered; retry", http.StatusServiceUnavailable)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// deliver emits the events and waits for their acknowledgement.
// runCtx is Run's: once it is done no more events are handed over.
func (h *handler) deliver(reqCtx, runCtx context.Context, events []event.Event) (ack.Status, error) {
	s := h.s
	b := &event.Batch{Events: events}
	ctx, cancel := context.WithTimeout(reqCtx, s.cfg.Timeout.D())
	defer cancel()
	// Shutdown stops accepting (emit gives up), but a request whose events
	// are already in the pipeline keeps waiting for their acknowledgement.
	emitCtx, cancelEmit := context.WithCancel(ctx)
	defer cancelEmit()
	stop := context.AfterFunc(runCtx, cancelEmit)
	defer stop()
	result := make(chan ack.Status, 1)
	b.Ack = ack.New(func(st ack.Status) { result <- st })
	if err := h.emit(emitCtx, b); err != nil {
		return ack.Abandoned, err
	}
	select {
	case st := <-result:
		return st, nil
	case <-ctx.Done():
		// The events stay in the pipeline and may still be delivered; the
		// client is told to retry, so duplicates are possible, loss is not.
		return ack.Abandoned, errors.New("timed out waiting for acknowledgement")
	}
}

func init() {
	component.MustRegister(component.SourceSpec("http", "events over HTTP POST: NDJSON, JSON, logplex (Heroku drains), syslog or text lines", New).Listener())
}

var _ component.Source = (*Source)(nil)
