package push

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// deadline is ctx's deadline, or none.
func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// stream sends chunks over one connection (graphite over TCP), dialled on
// first use and after any error.
type stream struct {
	network, addr string
	verb          string // what a write error says it was doing
	conn          net.Conn
}

func (s *stream) send(ctx context.Context, chunks [][]byte) error {
	if s.conn == nil {
		var d net.Dialer
		c, err := d.DialContext(ctx, s.network, s.addr)
		if err != nil {
			return fmt.Errorf("connecting: %w", err)
		}
		s.conn = c
	}
	_ = s.conn.SetWriteDeadline(deadline(ctx))
	for _, c := range chunks {
		if _, err := s.conn.Write(c); err != nil {
			s.close()
			return fmt.Errorf("%s: %w", s.verb, err)
		}
	}
	return nil
}

func (s *stream) close() {
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn = nil
	}
}

// datagram sends each chunk as one UDP packet (statsd, collectd's network
// protocol). Its socket is connected, so a destination that is down shows
// as ECONNREFUSED on a later write (the ICMP answer to an earlier one).
func datagram(addr string) *stream {
	return &stream{network: "udp", addr: addr, verb: "sending"}
}

// unixsock speaks collectd's unixsock text protocol: one PUTVAL line per
// chunk, each answered by one line, "0 Success: ..." or a negative status
// with the reason.
type unixsock struct {
	path string
	conn net.Conn
	r    *bufio.Reader
}

func (s *unixsock) send(ctx context.Context, chunks [][]byte) error {
	if s.conn == nil {
		var d net.Dialer
		c, err := d.DialContext(ctx, "unix", s.path)
		if err != nil {
			return fmt.Errorf("connecting: %w", err)
		}
		s.conn, s.r = c, bufio.NewReader(c)
	}
	_ = s.conn.SetDeadline(deadline(ctx))
	var refused []string
	for _, c := range chunks {
		if _, err := s.conn.Write(c); err != nil {
			s.close()
			return fmt.Errorf("writing: %w", err)
		}
		answer, err := s.r.ReadString('\n')
		if err != nil {
			s.close()
			return fmt.Errorf("reading the answer: %w", err)
		}
		status, _, _ := strings.Cut(answer, " ")
		if n, err := strconv.Atoi(status); err != nil || n < 0 {
			refused = append(refused, strings.TrimSpace(answer))
		}
	}
	if len(refused) > 0 {
		return fmt.Errorf("%w: %d of %d PUTVAL lines, first: %s", errRejected, len(refused), len(chunks), refused[0])
	}
	return nil
}

func (s *unixsock) close() {
	if s.conn != nil {
		_ = s.conn.Close()
		s.conn, s.r = nil, nil
	}
}

var (
	_ sender = (*stream)(nil)
	_ sender = (*unixsock)(nil)
)
