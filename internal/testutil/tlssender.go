package testutil

import (
	"crypto/tls"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"
)

// DialTLS13LikeOpenSSL connects to address and completes a TLS 1.3
// handshake as senders built on OpenSSL (openssl s_client, Python's ssl,
// C agents) do, which crypto/tls alone does not reproduce:
//
//   - it offers session resumption (a Go client without a session cache
//     offers none and is sent no tickets);
//   - it reads the socket one TLS record at a time, so whatever the server
//     sends after its Finished (session tickets) stays unread in the kernel;
//   - Nagle's algorithm is on, so what it writes right after its Finished
//     waits in the kernel for that Finished to be acknowledged.
//
// Write to the returned conn, then close the raw socket (without
// close_notify) to be the sender that writes and closes at once: a close
// with unread data is a reset, which discards what was still unsent.
func DialTLS13LikeOpenSSL(t testing.TB, address string, cfg *tls.Config) (c *tls.Conn, raw net.Conn) {
	t.Helper()
	raw, err := net.DialTimeout("tcp", address, 10*time.Second)
	if err != nil {
		t.Fatalf("dialing %s: %v", address, err)
	}
	t.Cleanup(func() { _ = raw.Close() }) // closed already by most tests
	if err := raw.(*net.TCPConn).SetNoDelay(false); err != nil {
		t.Fatal(err)
	}
	cfg = cfg.Clone()
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS13, tls.VersionTLS13
	cfg.ClientSessionCache = tls.NewLRUClientSessionCache(1)
	c = tls.Client(&recordConn{Conn: raw}, cfg)
	if err := c.HandshakeContext(t.Context()); err != nil {
		t.Fatalf("tls handshake with %s: %v", address, err)
	}
	return c, raw
}

// recordConn reads one TLS record at a time from the socket.
type recordConn struct {
	net.Conn
	left int // bytes of the current record not yet read
}

// Read implements io.Reader.
func (c *recordConn) Read(p []byte) (int, error) {
	if c.left == 0 {
		var hdr [5]byte
		if _, err := io.ReadFull(c.Conn, hdr[:]); err != nil {
			return 0, err
		}
		c.left = int(binary.BigEndian.Uint16(hdr[3:]))
		return copy(p, hdr[:]), nil // crypto/tls reads at least a header
	}
	n, err := c.Conn.Read(p[:min(len(p), c.left)])
	c.left -= n
	return n, err
}
