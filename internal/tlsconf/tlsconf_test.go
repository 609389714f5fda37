package tlsconf

import (
	"testing"

	"github.com/sluice-log/sluice/internal/testutil"
)

// TestServerSendsNoSessionTickets: a TLS 1.3 ticket sent after the
// handshake makes senders that write and close at once reset the
// connection and lose what they wrote (see Server).
func TestServerSendsNoSessionTickets(t *testing.T) {
	t.Parallel()
	ca := testutil.NewCA(t)
	leaf := ca.Issue(t, "server")
	for _, tc := range []struct {
		name     string
		clientCA string
	}{
		{name: "server certificate"},
		{name: "mutual tls", clientCA: ca.File},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := Server(leaf.CertFile, leaf.KeyFile, tc.clientCA)
			if err != nil {
				t.Fatal(err)
			}
			if !cfg.SessionTicketsDisabled {
				t.Error("server config sends session tickets")
			}
		})
	}
}
