package syslog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/tlsconf"
)

// streamTransport writes batches to one TCP or TLS connection, dialled
// lazily on the first Write and again after any failure.
//
// A syslog receiver never sends anything, so a goroutine reads the
// connection only to learn that it ended: when the receiver closes it or
// goes away (its kernel then closes it), the next Write reconnects instead
// of writing into a dead socket, where the first write would still succeed
// and its batch vanish. What is written in the moment between the receiver
// closing and this being noticed, or what the receiver had not read when
// it crashed, is lost: syslog over TCP has no acknowledgements.
type streamTransport struct {
	target   *target
	timeout  time.Duration
	tls      *tls.Config
	connects prometheus.Counter
	log      *slog.Logger
	conn     *watchedConn
}

func newStreamTransport(t *target, timeout time.Duration, connects prometheus.Counter, log *slog.Logger) (*streamTransport, error) {
	s := &streamTransport{target: t, timeout: timeout, connects: connects, log: log}
	if t.mode == ModeTLS {
		c := t.tls
		tc, err := tlsconf.Client(c.CA, c.Cert, c.Key, c.ServerName, c.InsecureSkipVerify)
		if err != nil {
			return nil, err
		}
		s.tls = tc
	}
	return s, nil
}

// send writes the batch with one write call, under a deadline of timeout
// (or ctx, whichever ends first).
func (s *streamTransport) send(ctx context.Context, f *frames) error {
	if s.conn != nil && !s.conn.alive() {
		s.log.Info("syslog receiver closed the connection; reconnecting", "receiver", s.target.String())
		s.drop()
	}
	if s.conn == nil {
		if err := s.dial(ctx); err != nil {
			return fmt.Errorf("connecting to %s: %w: %w", s.target, component.ErrNotConnected, err)
		}
	}
	c := s.conn
	deadline := time.Now().Add(s.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.SetWriteDeadline(deadline); err != nil {
		s.abort()
		return fmt.Errorf("writing to %s: %w", s.target, err)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.SetWriteDeadline(time.Now()) })
	_, err := c.Write(f.buf)
	stop()
	if err != nil {
		s.abort()
		return fmt.Errorf("writing %d messages to %s: %w", f.count(), s.target, err)
	}
	return nil
}

func (s *streamTransport) dial(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	nd := &net.Dialer{KeepAlive: 30 * time.Second}
	var (
		c   net.Conn
		err error
	)
	if s.tls != nil {
		c, err = s.dialTLS(ctx, nd)
	} else {
		c, err = nd.DialContext(ctx, "tcp", s.target.addr)
	}
	if err != nil {
		return err
	}
	s.connects.Inc()
	s.log.Debug("connected to syslog receiver", "receiver", s.target.String(), "local", c.LocalAddr().String())
	s.conn = watch(c)
	return nil
}

// verdictWait is how long a TLS 1.3 connection waits, after the handshake,
// for the receiver to refuse the client certificate it asked for.
const verdictWait = 250 * time.Millisecond

// dialTLS connects and handshakes. In TLS 1.3 the client's handshake ends
// before the server has checked the client certificate, and a server that
// refuses it just sends an alert and closes: everything written meanwhile
// would count as delivered and be lost. So when the server asked for a
// certificate, the connection waits briefly for that verdict.
func (s *streamTransport) dialTLS(ctx context.Context, nd *net.Dialer) (net.Conn, error) {
	cfg := s.tls.Clone()
	requested := false
	cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		requested = true
		if len(s.tls.Certificates) > 0 {
			return &s.tls.Certificates[0], nil
		}
		return &tls.Certificate{}, nil // none: the server decides
	}
	c, err := (&tls.Dialer{NetDialer: nd, Config: cfg}).DialContext(ctx, "tcp", s.target.addr)
	if err != nil {
		return nil, err
	}
	tc := c.(*tls.Conn)
	if !requested || tc.ConnectionState().Version < tls.VersionTLS13 {
		return c, nil
	}
	_ = tc.SetReadDeadline(time.Now().Add(min(verdictWait, s.timeout)))
	_, err = tc.Read(make([]byte, 1))
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		c.Close()
		return nil, fmt.Errorf("receiver refused the client certificate: %w", err)
	}
	_ = tc.SetReadDeadline(time.Time{})
	return c, nil
}

// drop closes the connection, if any; the next send dials again.
func (s *streamTransport) drop() {
	if s.conn != nil {
		s.conn.close()
		s.conn = nil
	}
}

// abort drops a connection whose write failed, without the TLS
// close_notify a graceful close sends: the TLS state is broken after a
// failed write anyway, and to a receiver that stopped reading the alert
// would block for up to 5s (crypto/tls's own bound), holding up a Write
// whose context was cancelled.
func (s *streamTransport) abort() {
	if s.conn != nil {
		s.conn.abort()
		s.conn = nil
	}
}

func (s *streamTransport) close() error {
	s.drop()
	return nil
}

// watchedConn is a connection with a goroutine that reads and discards
// whatever the receiver sends, and marks the connection gone when the read
// fails: end of stream, reset, or the connection closed by close.
type watchedConn struct {
	net.Conn
	gone chan struct{}
}

func watch(c net.Conn) *watchedConn {
	w := &watchedConn{Conn: c, gone: make(chan struct{})}
	go func() {
		defer close(w.gone)
		buf := make([]byte, 512)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	}()
	return w
}

// alive reports whether the receiver has not ended the connection.
func (w *watchedConn) alive() bool {
	select {
	case <-w.gone:
		return false
	default:
		return true
	}
}

// close closes the connection and waits for the reading goroutine.
func (w *watchedConn) close() {
	_ = w.Conn.Close() // the reader sees the end either way
	<-w.gone
}

// abort closes the network connection under any TLS layer at once, and
// waits for the reading goroutine.
func (w *watchedConn) abort() {
	c := w.Conn
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	_ = c.Close() // the reader sees the end either way
	<-w.gone
}

var _ transport = (*streamTransport)(nil)
