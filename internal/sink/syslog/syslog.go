// Package syslog is the syslog sink: it encodes each event as an RFC 5424
// message and sends it over UDP, TCP or TLS (RFC 5425), or POSTs batches in
// logplex framing to syslog+http(s) drains.
//
// A Write encodes the whole batch into one buffer and hands it to the
// transport in one go: one write on a stream connection, one datagram per
// message on UDP, one request over HTTP. Syslog has no acknowledgements, so
// a batch written to a TCP or TLS connection counts as delivered once the
// kernel took it; a receiver that crashes with data in flight loses it. The
// sink never retries by itself: a failed write closes the connection and
// returns an error for the pipeline to retry, and the next Write dials
// again, returning component.ErrNotConnected while the receiver is away.
package syslog

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	wire "github.com/sluice-log/sluice/internal/syslog"
)

func init() {
	component.MustRegister(component.SinkSpec[Config]("syslog",
		"Send events as RFC 5424 syslog over UDP, TCP, TLS or HTTP(S) (logplex).", New))
}

// transport delivers one encoded batch. Calls are never concurrent.
type transport interface {
	send(ctx context.Context, f *frames) error
	close() error
}

// Sink sends batches to one syslog receiver. mu serialises Write and Close.
type Sink struct {
	target    *target
	enc       *encoder
	tr        transport
	truncated prometheus.Counter
	log       *slog.Logger

	mu        sync.Mutex
	closed    bool
	closeOnce sync.Once
	closeErr  error
}

// New creates a syslog sink from a validated config. TLS files are read
// here, so a bad certificate fails the configuration rather than the first
// connection.
func New(cfg *Config, deps component.Deps) (component.Sink, error) {
	return newSink(cfg, deps)
}

func newSink(cfg *Config, deps component.Deps) (*Sink, error) {
	t := cfg.dest
	s := &Sink{target: t, log: deps.Logger, enc: newEncoder(cfg, t.mode)}
	s.truncated = deps.Metrics.Counter("syslog_truncated_total",
		"Syslog messages cut to max_message_size before sending.", nil)
	connects := deps.Metrics.Counter("syslog_connections_total",
		"Connections the syslog sink opened to its receiver, reconnections included.", nil)
	var err error
	switch t.mode {
	case ModeUDP:
		s.tr = &udpTransport{target: t}
	case ModeTCP, ModeTLS:
		s.tr, err = newStreamTransport(t, cfg.Timeout.D(), connects, deps.Logger)
	default:
		s.tr, err = newLogplexTransport(t, cfg.Timeout.D())
	}
	if err != nil {
		return nil, fmt.Errorf("creating syslog sink: %w", err)
	}
	return s, nil
}

// Write encodes b and sends it. An error leaves the pipeline to retry.
func (s *Sink) Write(ctx context.Context, b *event.Batch) error {
	if len(b.Events) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("writing to %s: sink is closed", s.target)
	}
	f := s.enc.encode(b)
	if err := s.tr.send(ctx, f); err != nil {
		return err
	}
	if f.truncated > 0 {
		s.truncated.Add(float64(f.truncated))
		s.log.Debug("syslog messages truncated to max_message_size", "messages", f.truncated, "max_message_size", s.enc.max)
	}
	return nil
}

// Close closes the connection. It is idempotent.
func (s *Sink) Close(context.Context) error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.closed = true
		s.closeErr = s.tr.close()
	})
	return s.closeErr
}

// frames is a batch encoded for the wire: buf holds every message with its
// framing, and message i is buf[ends[i-1]:ends[i]].
type frames struct {
	buf       []byte
	ends      []int
	truncated int
}

func (f *frames) count() int { return len(f.ends) }

// message returns the bytes of message i.
func (f *frames) message(i int) []byte {
	start := 0
	if i > 0 {
		start = f.ends[i-1]
	}
	return f.buf[start:f.ends[i]]
}

// framing of the encoded messages.
const (
	frameNone = iota
	frameOctet
	frameLF
)

// encoder turns batches into frames, reusing its buffers.
type encoder struct {
	opts    wire.EncodeOptions
	max     int
	framing int
	f       frames
}

func newEncoder(cfg *Config, mode string) *encoder {
	e := &encoder{
		opts: wire.EncodeOptions{Facility: cfg.Facility, Severity: cfg.Severity, AppName: cfg.AppName},
		max:  int(cfg.MaxMessageSize),
	}
	switch {
	case mode == ModeUDP:
		e.framing, e.max = frameNone, min(e.max, maxDatagram)
	case mode == ModeHTTP || mode == ModeHTTPS || cfg.Framing == FramingOctet:
		e.framing = frameOctet
	default:
		e.framing = frameLF
	}
	return e
}

// encode encodes and frames every event of b. The frames are valid until
// the next call.
func (e *encoder) encode(b *event.Batch) *frames {
	f := &e.f
	f.buf, f.ends, f.truncated = f.buf[:0], f.ends[:0], 0
	for i := range b.Events {
		start := len(f.buf)
		f.buf = wire.AppendRFC5424(f.buf, &b.Events[i], &e.opts)
		if len(f.buf)-start > e.max {
			f.buf = f.buf[:start+cut(f.buf[start:], e.max)]
			f.truncated++
		}
		switch e.framing {
		case frameOctet:
			f.buf = wire.FrameOctetCounted(f.buf, start)
		case frameLF:
			replaceLF(f.buf[start:])
			f.buf = append(f.buf, '\n')
		}
		f.ends = append(f.ends, len(f.buf))
	}
	return f
}

// cut returns where to cut msg so that it is at most limit bytes long and
// no UTF-8 sequence is split: it moves back over up to three continuation
// bytes.
func cut(msg []byte, limit int) int {
	n := limit
	for n > limit-3 && n > 0 && msg[n]&0xC0 == 0x80 {
		n--
	}
	if msg[n]&0xC0 == 0x80 {
		return limit // not UTF-8 anyway: cut at the limit
	}
	return n
}

// replaceLF turns newlines into spaces, so that a message cannot end its
// newline-delimited frame early.
func replaceLF(b []byte) {
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return
		}
		b[i] = ' '
		b = b[i+1:]
	}
}

var _ component.Sink = (*Sink)(nil)
