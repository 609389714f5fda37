package config

import (
	"crypto/tls"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil"
)

func TestClientTLSValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		tls  ClientTLS
		err  string
	}{
		{"zero", ClientTLS{}, ""},
		{"everything", ClientTLS{CA: "ca.pem", Cert: "c.pem", Key: "k.pem", ServerName: "h", InsecureSkipVerify: true}, ""},
		{"cert without key", ClientTLS{Cert: "c.pem"}, "cert and key"},
		{"key without cert", ClientTLS{Key: "k.pem"}, "cert and key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.tls.Validate()
			if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("Validate() = %v, want %q", err, tc.err)
			}
		})
	}
}

func TestClientTLSConfig(t *testing.T) {
	t.Parallel()
	ca := testutil.NewCA(t)
	leaf := ca.Issue(t, "client")
	c, err := ClientTLS{CA: ca.File, Cert: leaf.CertFile, Key: leaf.KeyFile, ServerName: "logs.example", InsecureSkipVerify: true}.Config()
	if err != nil {
		t.Fatal(err)
	}
	if c.RootCAs == nil || !c.RootCAs.Equal(ca.Pool) {
		t.Error("RootCAs is not the CA file's pool")
	}
	testutil.Diff(t, []any{1, "logs.example", true, uint16(tls.VersionTLS12)},
		[]any{len(c.Certificates), c.ServerName, c.InsecureSkipVerify, c.MinVersion})

	c, err = ClientTLS{}.Config()
	if err != nil {
		t.Fatal(err)
	}
	if c.RootCAs != nil || len(c.Certificates) != 0 || c.InsecureSkipVerify {
		t.Error("zero ClientTLS does not give the system roots and no certificate")
	}

	if _, err := (ClientTLS{CA: filepath.Join(t.TempDir(), "missing.pem")}).Config(); err == nil {
		t.Error("missing CA file: no error")
	}
}
