package httpsource

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/testutil"
)

// A request whose body is cut by a reset is counted (the client got no
// answer, so it must send again) and emits nothing.
func TestBodyCutByResetIsCounted(t *testing.T) {
	c := testutil.NewConfig(t, func(c *Config) { c.Address = "127.0.0.1:0" })
	src, err := New(c, testutil.Deps(t, "http"))
	if err != nil {
		t.Fatal(err)
	}
	s := src.(*Source)
	col := &testutil.Collector{}
	run := testutil.StartSource(t, s, col.Emit)
	defer func() { <-run.Stop() }()
	addr, err := s.Addr(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	// Expect: 100-continue makes the server say when the handler starts
	// reading the body, so the reset surely cuts the body, not the headers.
	if _, err := fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"+
		"Content-Length: 1000\r\nExpect: 100-continue\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	status, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(status, "HTTP/1.1 100") {
		t.Fatalf("waiting for 100 Continue: %q, %v", status, err)
	}
	if _, err := fmt.Fprint(conn, `{"message":"cut"}`+"\n"); err != nil {
		t.Fatal(err)
	}
	if err := conn.(*net.TCPConn).SetLinger(0); err != nil { // close with a reset
		t.Fatal(err)
	}
	if err := conn.Close(); err != nil {
		t.Fatal(err)
	}
	resets := s.resets.(prometheus.Counter)
	if !testutil.Eventually(10*time.Second, func() bool { return testutil.CounterValue(t, resets) == 1 }) {
		t.Fatalf("resets = %v, want 1", testutil.CounterValue(t, resets))
	}
	testutil.Diff(t, []string(nil), col.Messages())
}
