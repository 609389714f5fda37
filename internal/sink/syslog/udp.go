package syslog

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/sluice-log/sluice/internal/component"
)

// udpTransport sends each message as one datagram from an unconnected
// socket, so the receiver's ICMP "port unreachable" never turns into a
// write error: UDP is fire and forget, and a message the network or a
// missing receiver drops is gone without anyone knowing. Only local errors
// (no route, no buffer space) fail a send; then the messages not yet sent
// are retried and those already sent are not.
type udpTransport struct {
	target *target
	conn   *net.UDPConn
	raddr  *net.UDPAddr
}

// open resolves the receiver's address (again after an error, in case its
// DNS name moved) and opens a socket of the matching family.
func (u *udpTransport) open(ctx context.Context) error {
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", hostOf(u.target.addr))
	if err != nil {
		return err
	}
	if len(addrs) == 0 {
		return fmt.Errorf("no address for %s", u.target.addr)
	}
	port, err := net.DefaultResolver.LookupPort(ctx, "udp", portOf(u.target.addr))
	if err != nil {
		return err
	}
	ip := addrs[0].Unmap()
	network := "udp6"
	if ip.Is4() {
		network = "udp4"
	}
	conn, err := net.ListenUDP(network, nil)
	if err != nil {
		return err
	}
	u.conn, u.raddr = conn, net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, uint16(port)))
	return nil
}

func (u *udpTransport) send(ctx context.Context, f *frames) error {
	if u.conn == nil {
		if err := u.open(ctx); err != nil {
			return fmt.Errorf("opening udp socket for %s: %w: %w", u.target, component.ErrNotConnected, err)
		}
	}
	for i := range f.count() {
		if _, err := u.conn.WriteToUDP(f.message(i), u.raddr); err != nil {
			_ = u.close()
			err = fmt.Errorf("sending datagram %d of %d to %s: %w", i+1, f.count(), u.target, err)
			if i == 0 {
				return err
			}
			outcomes := make([]component.Outcome, f.count())
			for j := i; j < len(outcomes); j++ {
				outcomes[j] = component.Retry
			}
			return &component.PartialError{Outcomes: outcomes, Err: err}
		}
	}
	return nil
}

func (u *udpTransport) close() error {
	if u.conn == nil {
		return nil
	}
	err := u.conn.Close()
	u.conn = nil
	return err
}

func hostOf(hostport string) string {
	h, _, _ := net.SplitHostPort(hostport)
	return h
}

func portOf(hostport string) string {
	_, p, _ := net.SplitHostPort(hostport)
	return p
}

var _ transport = (*udpTransport)(nil)
