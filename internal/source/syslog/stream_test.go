package syslog

import (
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
	"testing"

	wire "github.com/sluice-log/sluice/internal/syslog"
	"github.com/sluice-log/sluice/internal/testutil"
)

// TestTLS13WriteAndCloseAtOnce is the sender that connects, writes a few
// lines and closes without reading. With TLS 1.3 session tickets the
// server's ticket reached the closed socket, the client's kernel answered
// with a reset and the server's kernel dropped every unread line.
func TestTLS13WriteAndCloseAtOnce(t *testing.T) {
	t.Parallel()
	const conns, lines = 20, 5
	for _, tc := range []struct {
		name   string
		mutual bool
	}{
		{name: "server certificate", mutual: false},
		{name: "mutual tls", mutual: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newPKI(t)
			h := start(t, func(c *Config) {
				c.Mode, c.TLS.Cert, c.TLS.Key = ModeTLS, p.serverCert, p.serverKey
				if tc.mutual {
					c.TLS.ClientCA = p.caFile
				}
			})
			var certs []tls.Certificate
			if tc.mutual {
				certs = []tls.Certificate{p.client}
			}
			var want []string
			for i := range conns {
				c, raw := testutil.DialTLS13LikeOpenSSL(t, h.addr(), &tls.Config{
					RootCAs: p.caPool, Certificates: certs, ServerName: "127.0.0.1"})
				var b strings.Builder
				for j := range lines {
					msg := fmt.Sprintf("conn %d line %d", i, j)
					want = append(want, msg)
					fmt.Fprintf(&b, "<13>1 2026-01-02T03:04:05Z host app - - - %s\n", msg)
				}
				if _, err := c.Write([]byte(b.String())); err != nil {
					t.Fatalf("write: %v", err)
				}
				// At once and without close_notify, as OpenSSL-based
				// senders that lost everything did.
				if err := raw.Close(); err != nil {
					t.Fatal(err)
				}
			}
			got := messages(h.wait(t, conns*lines))
			slices.Sort(got)
			slices.Sort(want)
			testutil.Diff(t, want, got)
			if n := count(t, h.src.resets); n != 0 {
				t.Errorf("syslog_connection_resets_total = %d, want 0", n)
			}
		})
	}
}

// TestOctetFrameCutShort: a frame declaring 300 bytes of which 60 arrive
// before the peer closes is delivered marked syslog_truncated and counted.
func TestOctetFrameCutShort(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	c := dial(t, "tcp", h.addr())
	whole := "<13>1 2026-01-02T03:04:05Z host app - - - whole"
	part := "<13>1 2026-01-02T03:04:05Z host app - - - " + strings.Repeat("x", 60-43)
	write(t, c, fmt.Sprintf("%d %s300 %s", len(whole), whole, part))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	evs := h.wait(t, 2)
	testutil.Diff(t, []string{"whole", strings.Repeat("x", 17)}, messages(evs))
	testutil.Diff(t, []string{"", "true"}, []string{field(evs[0], wire.FieldTruncated), field(evs[1], wire.FieldTruncated)})
	if n := count(t, h.src.shortFrames); n != 1 {
		t.Errorf("syslog_truncated_frames_total = %d, want 1", n)
	}
}
