package testutil

import (
	"net"
	"strconv"
	"testing"
)

// FreePort returns a loopback port (network tcp or udp) that nothing
// listened on a moment ago: for a peer program the test starts itself, or
// an address that refuses connections. Another process may take it in
// between; tests that can bind :0 themselves should.
func FreePort(t testing.TB, network string) int {
	t.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FreeAddr is FreePort over TCP as a 127.0.0.1:port address.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t, "tcp")))
}
