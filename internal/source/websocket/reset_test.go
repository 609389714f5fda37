package wssource

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sluice-log/sluice/internal/relay"
	"github.com/sluice-log/sluice/internal/testutil"
)

// A sender whose connection ends in a reset is counted; what it sent
// without a receipt it sends again on its next connection.
func TestConnectionResetIsCounted(t *testing.T) {
	t.Parallel()
	col := &testutil.Collector{}
	s, _ := start(t, col.Emit, nil)
	conns := make(chan net.Conn, 1)
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			conns <- c
		}
		return c, err
	}}
	c, _, err := websocket.Dial(t.Context(), s.url(t), &websocket.DialOptions{
		HTTPClient: &http.Client{Transport: tr}, Subprotocols: []string{relay.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.CloseNow() }()
	raw := (<-conns).(*net.TCPConn)
	if err := raw.SetLinger(0); err != nil { // close with a reset
		t.Fatal(err)
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	if !testutil.Eventually(10*time.Second, func() bool { return testutil.CounterValue(t, s.resets) == 1 }) {
		t.Fatalf("resets = %v, want 1", testutil.CounterValue(t, s.resets))
	}
}
