package syslog

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/listener"
)

func (s *Source) listenPacket() (net.PacketConn, error) {
	pc, err := s.bindPacket()
	if err != nil {
		return nil, err
	}
	if s.cfg.ReceiveBuffer > 0 {
		if err := setReceiveBuffer(pc, int(s.cfg.ReceiveBuffer)); err != nil {
			s.deps.Logger.Warn("setting syslog receive buffer", "receive_buffer", s.cfg.ReceiveBuffer, "error", err)
		}
	}
	return pc, nil
}

func (s *Source) bindPacket() (net.PacketConn, error) {
	if s.cfg.Mode == ModeUDP {
		return listener.ListenUDP(s.cfg.Address)
	}
	if err := removeStaleSocket("unixgram", s.cfg.Path); err != nil {
		return nil, err
	}
	pc, err := net.ListenPacket("unixgram", s.cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("listening on unix datagram socket %s: %w", s.cfg.Path, listener.Cause(err))
	}
	if err := s.chmodSocket(); err != nil {
		pc.Close()
		// Best effort: the chmod error is the one to report, and a socket
		// file left behind is removed as stale by the next start.
		_ = os.Remove(s.cfg.Path)
		return nil, err
	}
	return pc, nil
}

// removeSocket removes the datagram socket's file when Run returns. A file
// left behind does no harm (the next start removes it as stale), so a
// failure is only logged.
func (s *Source) removeSocket() {
	if err := os.Remove(s.cfg.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.deps.Logger.Warn("removing syslog socket file", "path", s.cfg.Path, "error", err)
	}
}

// runDatagram receives datagrams on pc, one message each, until ctx is
// done, then closes pc.
func (s *Source) runDatagram(ctx context.Context, pc net.PacketConn, emit component.Emit) error {
	if s.cfg.Mode == ModeUnixDgram {
		// Unlike listeners, datagram sockets leave their file.
		defer s.removeSocket()
	}
	defer pc.Close()
	stop := context.AfterFunc(ctx, func() { pc.Close() })
	defer stop()
	err := s.receive(ctx, pc, emit)
	if ctx.Err() != nil || isClosed(err) {
		return nil
	}
	return err
}

// datagram adds one datagram of n bytes (which may exceed buf when the
// kernel truncated it) to the batch.
func (s *Source) datagram(b *batcher, buf []byte, n int, peer string) {
	maxSize := int(s.cfg.MaxMessageSize)
	if n > maxSize {
		s.oversize.Inc()
		s.warn("syslog datagram longer than max_message_size truncated", "from", peer, "size", n, "max_message_size", s.cfg.MaxMessageSize)
		n = maxSize
	}
	frame := buf[:min(n, len(buf))]
	if len(frame) > 0 && frame[len(frame)-1] == '\n' {
		frame = frame[:len(frame)-1] // some senders end datagrams with a newline
	}
	if len(frame) > 0 {
		b.add(frame, peer)
	}
}
