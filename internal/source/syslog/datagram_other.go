//go:build !linux

package syslog

import (
	"context"
	"net"
	"time"

	"github.com/sluice-log/sluice/internal/component"
)

func setReceiveBuffer(pc net.PacketConn, n int) error {
	if rb, ok := pc.(interface{ SetReadBuffer(int) error }); ok {
		return rb.SetReadBuffer(n)
	}
	return nil
}

// receive reads datagrams one at a time; only Linux batches them.
func (s *Source) receive(ctx context.Context, pc net.PacketConn, emit component.Emit) error {
	b := s.newBatcher(ctx, emit)
	buf := make([]byte, int(s.cfg.MaxMessageSize)+1)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			return err
		}
		b.recv = time.Now()
		host := s.localHost
		if u, ok := addr.(*net.UDPAddr); ok {
			host = u.IP.String()
		}
		s.datagram(b, buf, n, host)
		if b.flush() != nil {
			return nil
		}
	}
}
