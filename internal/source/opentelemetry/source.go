// Package opentelemetry receives OpenTelemetry logs: OTLP/HTTP (protobuf
// or JSON, optionally gzipped) on address and OTLP/gRPC on grpc_address.
//
// A request is answered only once sluice has acknowledged its events end
// to end: success when every sink took them, a partial success that
// counts them rejected when a sink refused them for good (or a full buffer
// dropped them), and 503 / Unavailable when they were not taken, so that
// the OTLP client retries. Records map onto events as internal/otlp
// documents, the mapping the opentelemetry sink reverses.
package opentelemetry

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/collector/pdata/plog"
	"google.golang.org/grpc"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/listener"
	"github.com/sluice-log/sluice/internal/otlp"
	"github.com/sluice-log/sluice/internal/tlsconf"
)

func init() {
	component.MustRegister(component.SourceSpec("opentelemetry",
		"OpenTelemetry logs over OTLP/HTTP (protobuf, JSON) and OTLP/gRPC", New).Listener())
}

// Source is the OTLP receiver.
//
// Start binds both listeners and reports them, so a port in use fails
// start-up; Run serves them and closes them when it returns, also when
// its context is already done.
type Source struct {
	cfg      *Config
	deps     component.Deps
	tokens   [][32]byte
	tls      *tls.Config
	httpAddr *listener.Bound
	grpcAddr *listener.Bound
	held     listener.Held[*sockets]
	dec      otlp.Decoder

	badReqs  prometheus.Counter
	rejected prometheus.Counter
}

// sockets are the two listeners Start opens; either may be nil.
type sockets struct{ http, grpc net.Listener }

func (s *sockets) Close() error {
	var errs []error
	for _, ln := range []net.Listener{s.http, s.grpc} {
		if ln != nil {
			errs = append(errs, ln.Close())
		}
	}
	return errors.Join(errs...)
}

// New returns an opentelemetry source.
func New(c *Config, d component.Deps) (component.Source, error) {
	s := &Source{cfg: c, deps: d, httpAddr: listener.NewBound(), grpcAddr: listener.NewBound(),
		dec: otlp.Decoder{Stream: c.Stream},
		badReqs: d.Metrics.Counter("opentelemetry_bad_requests_total",
			"OTLP requests refused: bad body, encoding, auth, size or method.", nil),
		rejected: d.Metrics.Counter("opentelemetry_rejected_log_records_total",
			"Log records answered as rejected in an OTLP partial success (a sink refused them or a full buffer dropped them).", nil)}
	for _, t := range c.Auth.Tokens {
		s.tokens = append(s.tokens, sha256.Sum256([]byte(t.Reveal())))
	}
	if c.TLS.Enabled() {
		tc, err := tlsconf.Server(c.TLS.Cert, c.TLS.Key, c.TLS.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("opentelemetry source: %w", err)
		}
		s.tls = tc
	}
	return s, nil
}

// HTTPAddr returns the OTLP/HTTP address once Start has bound it.
func (s *Source) HTTPAddr(ctx context.Context) (net.Addr, error) { return s.httpAddr.Addr(ctx) }

// GRPCAddr returns the OTLP/gRPC address once Start has bound it.
func (s *Source) GRPCAddr(ctx context.Context) (net.Addr, error) { return s.grpcAddr.Addr(ctx) }

// Start implements component.Starter: it binds the listeners Run serves.
func (s *Source) Start(context.Context) error { return s.held.Open(s.listen) }

func (s *Source) listen() (*sockets, error) {
	socks := &sockets{}
	if s.cfg.Address != "" {
		ln, err := listener.Listen(s.cfg.Address, s.tls)
		if err != nil {
			return nil, err
		}
		socks.http = ln
	}
	if s.cfg.GRPCAddress != "" {
		// gRPC does its own TLS (it needs ALPN h2), so this one is plain.
		ln, err := listener.Listen(s.cfg.GRPCAddress, nil)
		if err != nil {
			_ = socks.Close()
			return nil, err
		}
		socks.grpc = ln
	}
	if socks.http != nil {
		s.httpAddr.Set(socks.http.Addr())
		s.deps.Metrics.Listening(socks.http.Addr())
		s.deps.Logger.Info("listening for OTLP/HTTP logs", "address", socks.http.Addr().String(), "path", s.cfg.Path, "tls", s.tls != nil)
	}
	if socks.grpc != nil {
		s.grpcAddr.Set(socks.grpc.Addr())
		s.deps.Metrics.Listening(socks.grpc.Addr())
		s.deps.Logger.Info("listening for OTLP/gRPC logs", "address", socks.grpc.Addr().String(), "tls", s.tls != nil)
	}
	return socks, nil
}

// Run implements component.Source: it serves the listeners Start bound
// until ctx is done, then lets the requests in flight finish.
func (s *Source) Run(ctx context.Context, emit component.Emit) error {
	socks, err := s.held.Take(s.listen)
	if err != nil {
		return err
	}
	h := &handler{s: s, emit: emit, run: ctx}
	done := make(chan error, 2)
	var hs *httpServer
	var gs *grpc.Server
	if socks.http != nil {
		hs = s.serveHTTP(ctx, h, socks.http, done)
	}
	if socks.grpc != nil {
		gs = s.serveGRPC(h, socks.grpc, done)
	}
	var serveErr error
	select {
	case serveErr = <-done:
	case <-ctx.Done():
	}
	// Requests in flight finish: they wait for their acknowledgements.
	grace := s.cfg.Timeout.D() + 5*time.Second
	if hs != nil {
		hs.shutdown(grace)
	}
	if gs != nil {
		stopGRPC(gs, grace)
	}
	_ = socks.Close()
	if serveErr != nil {
		return fmt.Errorf("serving OTLP: %w", serveErr)
	}
	return nil
}

// handler is what the HTTP and gRPC servers share: decoding into events
// and delivering them.
type handler struct {
	s    *Source
	emit component.Emit
	run  context.Context
}

// result is how a request's records fared.
type result struct {
	rejected int64  // records to report rejected in a partial success
	message  string // the partial success's error_message
}

// deliver emits the records of ld as one batch and waits for their
// acknowledgement. An error means they were not taken: the client must
// retry.
func (h *handler) deliver(reqCtx context.Context, ld plog.Logs) (result, error) {
	s := h.s
	n := ld.LogRecordCount()
	if n == 0 {
		return result{}, nil
	}
	events := s.dec.Append(make([]event.Event, 0, n), ld, time.Now().UTC())
	b := &event.Batch{Events: events}
	ctx, cancel := context.WithTimeout(reqCtx, s.cfg.Timeout.D())
	defer cancel()
	// Shutdown stops accepting (emit gives up), but a request whose events
	// are already in the pipeline keeps waiting for their acknowledgement.
	emitCtx, cancelEmit := context.WithCancel(ctx)
	defer cancelEmit()
	stop := context.AfterFunc(h.run, cancelEmit)
	defer stop()
	done := make(chan ack.Status, 1)
	b.Ack = ack.New(func(st ack.Status) { done <- st })
	if err := h.emit(emitCtx, b); err != nil {
		return result{}, fmt.Errorf("not accepted: %w", err)
	}
	var st ack.Status
	select {
	case st = <-done:
	case <-ctx.Done():
		// The events stay in the pipeline and may still be delivered; the
		// client is told to retry, so duplicates are possible, loss is not.
		return result{}, errors.New("timed out waiting for acknowledgement")
	}
	switch st {
	case ack.Delivered:
		return result{}, nil
	case ack.Rejected:
		s.rejected.Add(float64(n))
		return result{rejected: int64(n), message: "refused by a sink"}, nil
	case ack.Dropped:
		s.rejected.Add(float64(n))
		return result{rejected: int64(n), message: "dropped by a full buffer"}, nil
	}
	return result{}, errors.New("not delivered; retry")
}

var (
	_ component.Source  = (*Source)(nil)
	_ component.Starter = (*Source)(nil)
)
