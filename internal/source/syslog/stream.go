package syslog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/sluice-log/sluice/internal/backoff"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/listener"
	wire "github.com/sluice-log/sluice/internal/syslog"
)

// handshakeTimeout bounds a TLS handshake, so a client that connects and
// sends nothing cannot hold a connection slot through it.
const handshakeTimeout = 10 * time.Second

// connSet tracks the open connections of a listener.
type connSet struct {
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// add registers c, unless the set is closed or holds limit connections.
func (cs *connSet) add(c net.Conn, limit int) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.closed || len(cs.conns) >= limit {
		return false
	}
	cs.conns[c] = struct{}{}
	cs.wg.Add(1)
	return true
}

func (cs *connSet) remove(c net.Conn) {
	cs.mu.Lock()
	delete(cs.conns, c)
	cs.mu.Unlock()
	cs.wg.Done()
}

// closeAll closes every connection and refuses new ones.
func (cs *connSet) closeAll() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.closed = true
	for c := range cs.conns {
		c.Close()
	}
}

func (s *Source) listenStream() (net.Listener, error) {
	if s.cfg.Mode == ModeUnix {
		return s.listenUnix()
	}
	return listener.Listen(s.cfg.Address, s.tls)
}

func (s *Source) listenUnix() (net.Listener, error) {
	if err := removeStaleSocket("unix", s.cfg.Path); err != nil {
		return nil, err
	}
	ln, err := net.Listen("unix", s.cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("listening on unix socket %s: %w", s.cfg.Path, listener.Cause(err))
	}
	if err := s.chmodSocket(); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

func (s *Source) chmodSocket() error {
	if err := os.Chmod(s.cfg.Path, fs.FileMode(s.cfg.sockMode)); err != nil {
		return fmt.Errorf("setting socket permissions: %w", err)
	}
	return nil
}

// removeStaleSocket removes a socket file left by a process that is gone,
// and refuses to touch one that is in use or is not a socket.
func removeStaleSocket(network, path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking socket path: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("socket path %s exists and is not a socket", path)
	}
	if c, err := net.DialTimeout(network, path, time.Second); err == nil {
		c.Close()
		return fmt.Errorf("socket path %s is in use by another process", path)
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("removing stale socket: %w", err)
	}
	return nil
}

// runStream serves ln until ctx is done.
func (s *Source) runStream(ctx context.Context, ln net.Listener, emit component.Emit) error {
	cs := &connSet{conns: map[net.Conn]struct{}{}}
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		cs.closeAll()
	})
	defer stop()
	err := s.accept(ctx, ln, cs, emit)
	ln.Close()
	cs.closeAll()
	cs.wg.Wait()
	return err
}

// accept serves connections until the listener is closed.
func (s *Source) accept(ctx context.Context, ln net.Listener, cs *connSet, emit component.Emit) error {
	// Out of file descriptors and the like: wait and try again, as
	// net/http does.
	bo := backoff.Exponential{Base: 5 * time.Millisecond, Max: time.Second}
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || isClosed(err) {
				return nil
			}
			wait := bo.Next()
			s.deps.Metrics.Errors.Inc()
			s.warn("accepting syslog connection", "error", err, "retry_in", wait)
			if !backoff.Sleep(ctx, wait) {
				return nil
			}
			continue
		}
		bo.Reset()
		if !cs.add(c, s.cfg.MaxConnections) {
			if ctx.Err() == nil {
				s.refused.Inc()
				s.warn("refusing syslog connection: max_connections open", "from", c.RemoteAddr().String(), "max_connections", s.cfg.MaxConnections)
			}
			c.Close()
			continue
		}
		// The gauge counts slots: up once the slot is taken, down only
		// after it is free again, so a client that sees it drop can connect.
		s.connections.Inc()
		go func() {
			defer s.connections.Dec()
			defer cs.remove(c)
			s.serveConn(ctx, c, emit)
		}()
	}
}

// peerHost is the host of events from c that name none.
func (s *Source) peerHost(c net.Conn) string {
	if s.cfg.Mode == ModeUnix {
		return s.localHost
	}
	if host, _, err := net.SplitHostPort(c.RemoteAddr().String()); err == nil {
		return host
	}
	return c.RemoteAddr().String()
}

// serveConn reads one connection to its end.
func (s *Source) serveConn(ctx context.Context, c net.Conn, emit component.Emit) {
	defer c.Close()
	peer := s.peerHost(c)
	if tc, ok := c.(*tls.Conn); ok {
		hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				s.deps.Metrics.Errors.Inc()
				if errors.Is(err, syscall.ECONNRESET) {
					s.resets.Inc() // whatever the client wrote after its Finished is lost
				}
				s.warn("syslog tls handshake failed", "from", peer, "error", err)
			}
			return
		}
	}
	b := s.newBatcher(ctx, emit)
	rd := wire.NewReader(&connReader{conn: c, idle: s.cfg.IdleTimeout.D(), b: b}, int(s.cfg.MaxMessageSize))
	rd.SplitNUL = s.cfg.Mode == ModeUnix
	truncated, short := 0, 0
	for {
		frame, err := rd.Next()
		if err != nil {
			_ = b.flush() // fails only on shutdown, when nothing can be done
			s.endConn(ctx, peer, err)
			return
		}
		b.add(frame, peer)
		if rd.Short != short {
			short = rd.Short
			s.cutShort(b, peer)
		}
		if rd.Truncated != truncated {
			s.oversize.Add(float64(rd.Truncated - truncated))
			truncated = rd.Truncated
			s.warn("syslog message longer than max_message_size truncated", "from", peer, "max_message_size", s.cfg.MaxMessageSize)
		}
		if len(b.events) >= maxBatch && b.flush() != nil {
			return
		}
	}
}

// cutShort marks the event just added, whose octet-counted frame ended with
// its connection before the announced count of bytes arrived, and counts it.
func (s *Source) cutShort(b *batcher, peer string) {
	ev := &b.events[len(b.events)-1]
	ev.Fields.Set(wire.FieldTruncated, event.Bool(true))
	s.shortFrames.Inc()
	s.deps.Metrics.Errors.Inc()
	s.warn("syslog connection ended inside an octet-counted frame; kept what arrived, marked "+wire.FieldTruncated, "from", peer)
}

// endConn accounts for why a connection ended.
func (s *Source) endConn(ctx context.Context, peer string, err error) {
	switch {
	case ctx.Err() != nil || errors.Is(err, io.EOF) || isClosed(err):
	case errors.Is(err, syscall.ECONNRESET):
		// The kernel drops what it had received but not yet handed over
		// when a reset arrives, so messages may have been lost.
		s.resets.Inc()
		s.deps.Metrics.Errors.Inc()
		s.warn("syslog connection reset by peer; messages it sent last may be lost", "from", peer, "error", err)
	case errors.Is(err, wire.ErrFrameTooLarge):
		s.oversize.Inc()
		s.deps.Metrics.Errors.Inc()
		s.warn("closing syslog connection: octet-counted frame larger than max_message_size", "from", peer, "error", err)
	case errors.Is(err, os.ErrDeadlineExceeded):
		s.deps.Logger.Debug("closing idle syslog connection", "from", peer, "idle_timeout", s.cfg.IdleTimeout)
	default:
		s.deps.Logger.Debug("syslog connection ended", "from", peer, "error", err)
	}
}

// connReader feeds a connection to the framing reader. Before it waits for
// the socket it emits the events decoded so far, so a batch holds what one
// read delivered and an idle sender's last message is never held back.
type connReader struct {
	conn net.Conn
	idle time.Duration
	b    *batcher
}

// Read implements io.Reader.
func (r *connReader) Read(p []byte) (int, error) {
	if err := r.b.flush(); err != nil {
		return 0, err
	}
	if r.idle > 0 {
		if err := r.conn.SetReadDeadline(time.Now().Add(r.idle)); err != nil {
			return 0, err
		}
	}
	n, err := r.conn.Read(p)
	r.b.recv = time.Now()
	return n, err
}
