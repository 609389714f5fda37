package httpsource

import (
	"crypto/tls"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestStart(t *testing.T) {
	t.Parallel()
	testutil.CheckListenerStart(t, "tcp", func(t testing.TB, address string) component.Source {
		c := testutil.NewConfig(t, func(c *Config) { c.Address = address })
		s, err := New(c, testutil.Deps(t, "http"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestTLS13RequestAndCloseAtOnce: a client that writes a whole request
// over TLS 1.3 and closes without reading the answer (with Nagle on, as C
// clients have it) must not lose it to a reset provoked by an unread
// session ticket.
func TestTLS13RequestAndCloseAtOnce(t *testing.T) {
	t.Parallel()
	const conns, lines = 20, 5
	ca := testutil.NewCA(t)
	leaf := ca.Issue(t, "server")
	col := &testutil.Collector{}
	base := start(t, col, func(c *Config) {
		c.Format = "ndjson"
		c.TLS.Cert, c.TLS.Key = leaf.CertFile, leaf.KeyFile
	})
	addr := strings.TrimPrefix(base, "http://")
	for i := range conns {
		c, raw := testutil.DialTLS13LikeOpenSSL(t, addr, &tls.Config{RootCAs: ca.Pool, ServerName: "127.0.0.1"})
		var body strings.Builder
		for j := range lines {
			fmt.Fprintf(&body, "{\"message\":\"conn %d line %d\"}\n", i, j)
		}
		if _, err := fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nContent-Length: %d\r\n\r\n%s", body.Len(), body.String()); err != nil {
			t.Fatal(err)
		}
		_ = raw.Close() // at once, without close_notify
	}
	// Collector.Notify may miss batches of requests whose client is gone.
	if !testutil.Eventually(10*time.Second, func() bool { return len(col.Messages()) >= conns*lines }) {
		t.Fatalf("got %d of %d lines", len(col.Messages()), conns*lines)
	}
}
