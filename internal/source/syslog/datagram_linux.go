//go:build linux

package syslog

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"
	"unsafe"

	"github.com/sluice-log/sluice/internal/component"
)

// setReceiveBuffer sets SO_RCVBUF, first with SO_RCVBUFFORCE, which may
// exceed net.core.rmem_max but needs CAP_NET_ADMIN.
func setReceiveBuffer(pc net.PacketConn, n int) error {
	sc, ok := pc.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return fmt.Errorf("getting raw socket: %w", err)
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		if syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, n) != nil {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n)
		}
	})
	return errors.Join(err, serr)
}

// receive reads datagrams straight from the socket without blocking while
// any are queued, so one batch holds every datagram waiting (up to
// maxBatch) and is emitted as soon as the socket is empty.
func (s *Source) receive(ctx context.Context, pc net.PacketConn, emit component.Emit) error {
	sc, ok := pc.(syscall.Conn)
	if !ok {
		return fmt.Errorf("datagram socket %T has no file descriptor", pc)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return fmt.Errorf("getting raw socket: %w", err)
	}
	b := s.newBatcher(ctx, emit)
	buf := make([]byte, int(s.cfg.MaxMessageSize))
	peers := new(peerCache)
	for {
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			b.recv = time.Now()
			for len(b.events) < maxBatch {
				n, err := peers.recvfrom(int(fd), buf)
				switch err {
				case nil:
					s.datagram(b, buf, n, peers.host(s.localHost))
				case syscall.EAGAIN:
					return len(b.events) > 0
				case syscall.EINTR:
				default:
					rerr = err
					return true
				}
			}
			return true
		})
		if b.flush() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading datagrams: %w", err)
		}
		if rerr != nil {
			s.deps.Metrics.Errors.Inc()
			s.warn("reading syslog datagram", "error", rerr)
		}
	}
}

// peerCache receives datagrams with their sender's address and keeps the
// text of the last address, since most datagrams come from few senders.
type peerCache struct {
	rsa    syscall.RawSockaddrAny
	family uint16
	last   [16]byte
	text   string
}

// recvfrom receives one datagram into p and returns its full length, which
// exceeds len(p) when the kernel truncated it (MSG_TRUNC).
func (pc *peerCache) recvfrom(fd int, p []byte) (int, error) {
	pc.rsa.Addr.Family = 0
	l := uint32(syscall.SizeofSockaddrAny)
	n, _, e := syscall.Syscall6(syscall.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))),
		uintptr(len(p)), syscall.MSG_TRUNC, uintptr(unsafe.Pointer(&pc.rsa)), uintptr(unsafe.Pointer(&l)))
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

// host returns the sender's IP address, or local for unix sockets.
func (pc *peerCache) host(local string) string {
	var addr [16]byte
	switch pc.rsa.Addr.Family {
	case syscall.AF_INET:
		copy(addr[:], (*syscall.RawSockaddrInet4)(unsafe.Pointer(&pc.rsa)).Addr[:])
	case syscall.AF_INET6:
		addr = (*syscall.RawSockaddrInet6)(unsafe.Pointer(&pc.rsa)).Addr
	default:
		return local
	}
	if pc.text == "" || pc.family != pc.rsa.Addr.Family || pc.last != addr {
		pc.family, pc.last = pc.rsa.Addr.Family, addr
		if pc.family == syscall.AF_INET {
			pc.text = netip.AddrFrom4([4]byte(addr[:4])).String()
		} else {
			pc.text = netip.AddrFrom16(addr).Unmap().String()
		}
	}
	return pc.text
}
