// Package wssink implements the websocket sink: it relays batches to
// another sluice's websocket source over the relay protocol
// (docs/relay-protocol.md), with acknowledgements end to end.
//
// Write returns nil only once the receiver has sent a receipt for every
// message of the batch, and the receiver sends one only after its own
// pipeline has durably taken the events, so a batch in this sink's disk
// buffer is never forgotten before the far side has it. One batch is in
// flight at a time (the pipeline calls Write sequentially); throughput
// comes from large batches. A dead connection makes Write return
// component.ErrNotConnected; the pipeline backs off and calls again, and
// the sink dials anew and resends whatever has no receipt, with the same
// sequence numbers so the receiver can recognise it.
package wssink

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/relay"
)

func init() {
	component.MustRegister(component.SinkSpec("websocket",
		"Relay events to another sluice's websocket source, acknowledged end to end.", New))
}

// Sink relays batches over one WebSocket connection at a time. Its state
// (the connection, the batch in flight, the sequence counter) is only
// touched under mu, by Write and Close.
type Sink struct {
	url, redacted string
	header        http.Header
	client        *http.Client
	transport     *http.Transport
	compress      bool
	pingInterval  time.Duration
	pingTimeout   time.Duration
	timeout       time.Duration
	log           *slog.Logger
	connects      prometheus.Counter
	resent        prometheus.Counter

	mu       sync.Mutex
	closed   bool
	link     *link
	cur      *pending
	seq      uint64
	limit    int // largest message to send: the receiver's limit, capped
	tooBig   int // cap learnt from receivers that refused a message as too big
	free     [][]byte
	zbuf     []byte
	sentSize int // largest message sent on the current link
}

// New creates a websocket sink from a validated config. TLS files are read
// here, so a bad certificate fails the configuration rather than the first
// connection.
func New(cfg *Config, deps component.Deps) (component.Sink, error) {
	d := cfg.dest
	tr := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: cfg.Timeout.D(), KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: cfg.Timeout.D(),
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{}, // HTTP/1.1 only: the upgrade needs it
	}
	if d.secure {
		tc, err := d.tls.Config()
		if err != nil {
			return nil, fmt.Errorf("creating websocket sink: %w", err)
		}
		tr.TLSClientConfig = tc
	}
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	s := &Sink{
		url: d.url, redacted: d.url, compress: cfg.Compression,
		header:       header(d.user, d.pass, cfg.Token.Reveal(), hex.EncodeToString(id)),
		transport:    tr,
		client:       &http.Client{Transport: tr, CheckRedirect: noRedirects},
		pingInterval: cfg.PingInterval.D(), pingTimeout: cfg.PingTimeout.D(), timeout: cfg.Timeout.D(),
		log:      deps.Logger,
		connects: deps.Metrics.Counter("websocket_connects_total", "Connections made to the receiver.", nil),
		resent:   deps.Metrics.Counter("websocket_resent_messages_total", "Relay messages sent again after a reconnect or an abandoned receipt.", nil),
		limit:    relay.DefaultMaxMessageSize, tooBig: math.MaxInt,
	}
	return s, nil
}

// header builds the handshake's credentials and sender id. The token goes
// in Authorization unless basic auth (for a proxy) takes that header.
func header(user, pass, token, sender string) http.Header {
	h := http.Header{}
	h.Set("User-Agent", "sluice")
	h.Set(relay.HeaderSender, sender)
	bearer := "Bearer " + token
	switch {
	case user != "":
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+pass)))
		if token != "" {
			h.Set(relay.HeaderAuthorization, bearer)
		}
	case token != "":
		h.Set("Authorization", bearer)
	}
	return h
}

func noRedirects(req *http.Request, _ []*http.Request) error {
	return fmt.Errorf("redirected to %s: set url to the final location", req.URL.Redacted())
}

// Write sends b and waits for the receipts of all its messages.
func (s *Sink) Write(ctx context.Context, b *event.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("websocket sink is closed")
	}
	if len(b.Events) == 0 {
		return nil
	}
	l, err := s.connect(ctx)
	if err != nil {
		return err
	}
	p := s.prepare(b)
	s.refit(p)
	if err := s.send(ctx, l, p); err != nil {
		return err
	}
	return s.await(ctx, l, p)
}

// connect returns the live link, dialling a new one when there is none.
func (s *Sink) connect(ctx context.Context) (*link, error) {
	if s.link != nil && !s.link.isDead() {
		return s.link, nil
	}
	s.drop()
	l, err := s.dial(ctx)
	if err != nil {
		return nil, err
	}
	s.connects.Inc()
	s.link, s.sentSize = l, 0
	s.limit = min(l.limit, s.tooBig)
	s.log.Info("connected to receiver", "url", s.redacted, "max_message_size", s.limit)
	return l, nil
}

// drop closes the current link, if any; messages sent on it will be sent
// again on the next one.
func (s *Sink) drop() {
	if s.link == nil {
		return
	}
	l := s.link
	s.link = nil
	l.close(false)
	if errors.Is(l.closeErr(), errTooBig) && s.sentSize > relay.MinMaxMessageSize {
		s.tooBig = max(s.sentSize/2, relay.MinMaxMessageSize)
	}
}

// send writes every message of p that has no final receipt and was not
// already sent on l.
func (s *Sink) send(ctx context.Context, l *link, p *pending) error {
	for _, m := range p.msgs {
		if m.done || m.sentOn == l {
			continue
		}
		wctx, cancel := context.WithTimeout(ctx, s.timeout)
		err := l.c.Write(wctx, websocket.MessageBinary, m.data)
		cancel()
		if err != nil {
			s.drop()
			return fmt.Errorf("sending to %s: %w: %w", s.redacted, component.ErrNotConnected, err)
		}
		if m.sentOn != nil || m.resend {
			s.resent.Inc()
		}
		m.sentOn, m.resend = l, false
		s.sentSize = max(s.sentSize, len(m.data))
	}
	return nil
}

// await waits until every message of p sent on l has a receipt.
func (s *Sink) await(ctx context.Context, l *link, p *pending) error {
	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	for {
		waiting, abandoned := s.collect(l, p)
		if waiting == 0 && abandoned > 0 {
			return fmt.Errorf("receiver %s abandoned %d message(s), probably while stopping; sending again", s.redacted, abandoned)
		}
		if waiting == 0 {
			if len(p.msgs) > 0 {
				l.forget(p.msgs[len(p.msgs)-1].seq + 1)
			}
			err := p.result()
			s.release()
			return err
		}
		select {
		case <-l.notify:
		case <-l.dead:
			err := l.closeErr()
			s.drop()
			return fmt.Errorf("waiting for receipts from %s: %w: %w", s.redacted, component.ErrNotConnected, err)
		case <-timer.C:
			return fmt.Errorf("waiting for receipts from %s: none for %d message(s) within %s; still waiting on the same connection", s.redacted, waiting, s.timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// collect applies the receipts that arrived on l. It returns how many
// messages still wait for one there, and how many were abandoned.
func (s *Sink) collect(l *link, p *pending) (waiting, abandoned int) {
	for _, m := range p.msgs {
		if m.done {
			continue
		}
		if m.sentOn != l {
			abandoned++ // to be sent again
			continue
		}
		r, ok := l.receipt(m.seq)
		switch {
		case !ok:
			waiting++
		case r.Status.Done():
			m.done, m.status, m.reason = true, r.Status, r.Reason
		default:
			m.sentOn, m.resend = nil, true
			abandoned++
		}
	}
	return waiting, abandoned
}

// Close closes the connection politely. It is safe to call more than once.
func (s *Sink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.link != nil {
		s.link.close(true)
		s.link = nil
	}
	s.release()
	s.transport.CloseIdleConnections()
	return nil
}

var _ component.Sink = (*Sink)(nil)
