package httpsource

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
)

// TestTLSOpenSSLRequestAndCloseAtOnce: the real openssl s_client over TLS
// 1.3 sends a whole request from a file and closes as soon as the file
// ends, reading nothing: every event of every request must arrive.
func TestTLSOpenSSLRequestAndCloseAtOnce(t *testing.T) {
	testutil.SkipIfShort(t)
	if _, err := exec.LookPath("openssl"); err != nil {
		testutil.RequireCI(t, "openssl is not installed")
	}
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
		var body strings.Builder
		for j := range lines {
			fmt.Fprintf(&body, "{\"message\":\"conn %d line %d\"}\n", i, j)
		}
		in := filepath.Join(t.TempDir(), "request")
		req := fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\nContent-Length: %d\r\n\r\n%s", body.Len(), body.String())
		if err := os.WriteFile(in, []byte(req), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(in)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		cmd := exec.CommandContext(ctx, "openssl", "s_client", "-connect", addr, "-tls1_3", "-quiet", "-no_ign_eof")
		cmd.Stdin = f
		out, err := cmd.CombinedOutput()
		cancel()
		if cerr := f.Close(); cerr != nil {
			t.Fatal(cerr)
		}
		if err != nil {
			t.Fatalf("openssl s_client: %v\n%s", err, out)
		}
	}
	if !testutil.Eventually(10*time.Second, func() bool { return len(col.Messages()) >= conns*lines }) {
		t.Fatalf("got %d of %d lines", len(col.Messages()), conns*lines)
	}
}
