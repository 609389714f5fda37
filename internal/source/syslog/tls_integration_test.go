package syslog

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil"
)

// TestTLSRealSendersCloseAtOnce connects with openssl s_client and socat,
// which write their stdin and close as soon as it ends, without waiting for
// anything from the server: every line must arrive.
func TestTLSRealSendersCloseAtOnce(t *testing.T) {
	testutil.SkipIfShort(t)
	const conns, lines = 20, 5
	for _, tc := range []struct {
		name, program string
		args          func(addr string) []string
	}{
		{"openssl s_client", "openssl", func(a string) []string {
			return []string{"s_client", "-connect", a, "-tls1_3", "-quiet", "-no_ign_eof"}
		}},
		{"socat", "socat", func(a string) []string {
			return []string{"-u", "-", "OPENSSL:" + a + ",verify=0"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := exec.LookPath(tc.program); err != nil {
				testutil.RequireCI(t, tc.program+" is not installed")
			}
			p := newPKI(t)
			h := start(t, func(c *Config) { c.Mode, c.TLS.Cert, c.TLS.Key = ModeTLS, p.serverCert, p.serverKey })
			var want []string
			for i := range conns {
				var b strings.Builder
				for j := range lines {
					msg := fmt.Sprintf("conn %d line %d", i, j)
					want = append(want, msg)
					fmt.Fprintf(&b, "<13>1 2026-01-02T03:04:05Z host app - - - %s\n", msg)
				}
				in := filepath.Join(t.TempDir(), "in")
				if err := os.WriteFile(in, []byte(b.String()), 0o600); err != nil {
					t.Fatal(err)
				}
				sendFile(t, in, tc.program, tc.args(h.addr())...)
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

// sendFile runs program with stdin from the file in.
func sendFile(t *testing.T, in, program string, args ...string) {
	t.Helper()
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, program, args...)
	cmd.Stdin = f
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", program, strings.Join(args, " "), err, out)
	}
}
