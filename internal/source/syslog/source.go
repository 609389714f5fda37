// Package syslog is the syslog source: it listens on UDP, TCP, TLS or a unix
// socket and turns every syslog message into one event.
//
// Each frame is parsed as RFC 5424 or RFC 3164 on its own, and a frame that
// is neither is kept whole and counted, never dropped. Stream transports
// take newline and octet-counted framing (RFC 6587) on one connection; each
// connection has its own goroutine, bounded by max_connections, and emits
// batches of what it has read whenever it would wait for the socket, so a
// slow pipeline just reads the connection slower. Syslog has no
// acknowledgements, so nothing waits for the token each batch carries; UDP
// is best effort.
package syslog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	wire "github.com/sluice-log/sluice/internal/syslog"
	"github.com/sluice-log/sluice/internal/tlsconf"
)

// maxBatch is the most events emitted at once.
const maxBatch = 512

// Source receives syslog messages.
//
// Start binds the socket of the configured mode (a TCP or TLS listener, a
// UDP socket, a unix stream or datagram socket file) and reports its
// address, so a port in use or a socket path that cannot be created fails
// there, before sluice reports itself started. Run serves what Start bound
// and closes it when it returns, also when its context is already done;
// Run without Start starts first, so each Run after the first binds anew.
type Source struct {
	cfg       *Config
	deps      component.Deps
	loc       *time.Location
	tls       *tls.Config
	localHost string // host of messages from unix sockets that name none

	fallbacks, oversize, refused prometheus.Counter
	shortFrames, resets          prometheus.Counter
	connections                  prometheus.Gauge
	logLimit                     limiter

	mu        sync.Mutex
	held      io.Closer // what Start bound for the next Run: a net.Listener or net.PacketConn
	addr      net.Addr
	listening chan struct{} // closed once the source first listens
	once      sync.Once     // closes listening
}

// New returns a syslog source from a validated config. TLS files are read
// here, so a bad certificate fails the configuration rather than the first
// connection.
func New(c *Config, d component.Deps) (component.Source, error) {
	s := &Source{cfg: c, deps: d, loc: c.loc, listening: make(chan struct{})}
	if c.Mode == ModeTLS {
		var err error
		if s.tls, err = tlsconf.Server(c.TLS.Cert, c.TLS.Key, c.TLS.ClientCA); err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
	}
	s.localHost, _ = os.Hostname()
	m := d.Metrics
	s.fallbacks = m.Counter("syslog_parse_fallbacks_total", "Syslog frames that were neither RFC 5424 nor RFC 3164, kept whole as the message.", nil)
	s.oversize = m.Counter("syslog_oversize_total", "Syslog frames longer than max_message_size: truncated, or their connection closed.", nil)
	s.refused = m.Counter("syslog_connections_refused_total", "Syslog connections closed at once because max_connections were open.", nil)
	s.shortFrames = m.Counter("syslog_truncated_frames_total", "Octet-counted syslog frames cut short by the end of their connection: delivered with what arrived and syslog_truncated: true.", nil)
	s.resets = m.Counter("syslog_connection_resets_total", "Syslog connections whose read ended in a reset by the peer, after which data it sent may have been lost.", nil)
	s.connections = m.Gauge("syslog_connections", "Open syslog connections.", nil)
	return s, nil
}

// Addr returns the address listened on once Start has bound it, or nil.
func (s *Source) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Start implements component.Starter: it binds the socket Run serves. A
// second Start before Run keeps the socket of the first.
func (s *Source) Start(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held != nil {
		return nil
	}
	var addr net.Addr
	if s.cfg.datagram() {
		pc, err := s.listenPacket()
		if err != nil {
			return err
		}
		s.held, addr = pc, pc.LocalAddr()
	} else {
		ln, err := s.listenStream()
		if err != nil {
			return err
		}
		s.held, addr = ln, ln.Addr()
	}
	s.addr = addr
	s.once.Do(func() { close(s.listening) })
	s.deps.Metrics.Listening(addr)
	s.deps.Logger.Info("listening for syslog", "mode", s.cfg.Mode, "address", addr.String())
	return nil
}

// take hands what Start bound over to Run, starting first when Start was
// not called (or its socket was used by an earlier Run).
func (s *Source) take(ctx context.Context) (io.Closer, error) {
	for range 2 {
		s.mu.Lock()
		h := s.held
		s.held = nil
		s.mu.Unlock()
		if h != nil {
			return h, nil
		}
		if err := s.Start(ctx); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("syslog socket taken by a concurrent Run") // Run is not called concurrently
}

// Run serves the socket Start bound until ctx is cancelled, then closes it
// and every connection and waits for their goroutines.
func (s *Source) Run(ctx context.Context, emit component.Emit) error {
	h, err := s.take(ctx)
	if err != nil {
		return err
	}
	if pc, ok := h.(net.PacketConn); ok {
		return s.runDatagram(ctx, pc, emit)
	}
	return s.runStream(ctx, h.(net.Listener), emit)
}

func (s *Source) decoder() *wire.Decoder {
	return &wire.Decoder{Location: s.loc, StreamFromHost: s.cfg.StreamFrom == "host"}
}

// batcher collects the events of one connection or socket until flushed.
type batcher struct {
	s      *Source
	dec    *wire.Decoder
	events []event.Event
	bytes  int
	recv   time.Time // when the bytes being decoded were read
	emit   func(*event.Batch) error
}

func (s *Source) newBatcher(ctx context.Context, emit component.Emit) *batcher {
	return &batcher{s: s, dec: s.decoder(), events: make([]event.Event, 0, 8),
		emit: func(b *event.Batch) error { return emit(ctx, b) }}
}

// add decodes one frame into the batch.
func (b *batcher) add(frame []byte, fallbackHost string) {
	b.events = append(b.events, event.Event{})
	if b.dec.Decode(frame, b.recv, fallbackHost, &b.events[len(b.events)-1]) == wire.FormatRaw {
		b.s.fallbacks.Inc()
		b.s.warn("syslog frame is neither RFC 5424 nor RFC 3164; kept whole", "from", fallbackHost, "frame", preview(frame))
	}
	b.bytes += len(frame)
}

// flush emits the batch, if any. It fails only when the source stops.
func (b *batcher) flush() error {
	n := len(b.events)
	if n == 0 {
		return nil
	}
	batch := &event.Batch{Events: b.events, Ack: ack.New(nil)} // nothing to acknowledge to
	b.events, b.bytes = make([]event.Event, 0, min(max(n, 8), maxBatch)), 0
	return b.emit(batch)
}

func preview(b []byte) string {
	const n = 128
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

// limiter lets one log line through per interval, so a flood of bad input
// cannot flood sluice's own log; the counters still count everything.
type limiter struct{ last atomic.Int64 }

const logInterval = 10 * time.Second

func (l *limiter) allow() bool {
	now, last := time.Now().UnixNano(), l.last.Load()
	return now-last >= int64(logInterval) && l.last.CompareAndSwap(last, now)
}

// warn logs a rate-limited warning about bad input.
func (s *Source) warn(msg string, args ...any) {
	if s.logLimit.allow() {
		s.deps.Logger.Warn(msg, args...)
	}
}

// isClosed reports whether err comes from closing the socket on shutdown.
func isClosed(err error) bool { return errors.Is(err, net.ErrClosed) }

func init() {
	component.MustRegister(component.SourceSpec("syslog",
		"syslog messages (RFC 5424 and 3164) over UDP, TCP, TLS or unix sockets", New).Listener())
}

var _ component.Source = (*Source)(nil)
