package elasticsearch

import (
	"crypto/tls"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	tu "github.com/sluice-log/sluice/internal/testutil"
)

// TestTLS talks to the fake cluster over TLS with a private CA that also
// requires a client certificate.
func TestTLS(t *testing.T) {
	ca := tu.NewCA(t)
	server, client := ca.Issue(t, "server"), ca.Issue(t, "client")
	es := newFakeES()
	srv := httptest.NewUnstartedServer(es)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{server.TLS}, ClientCAs: ca.Pool, ClientAuth: tls.RequireAndVerifyClientCert}
	srv.StartTLS()
	defer srv.Close()
	withCert := config.ClientTLS{Cert: client.CertFile, Key: client.KeyFile}
	for _, tc := range []struct {
		name  string
		url   string
		tls   config.ClientTLS
		error string // "" for success; alternatives separated by |
	}{
		{"CA and client certificate", srv.URL, config.ClientTLS{CA: ca.File, Cert: client.CertFile, Key: client.KeyFile}, ""},
		{"CA from the drain url", "es+" + srv.URL + "?ca=" + ca.File, withCert, ""},
		{"system roots", srv.URL, withCert, "certificate"},
		// TLS 1.3 completes the client's handshake before the server
		// checks the certificate: the client sees the alert, or a write
		// on the connection the server already closed.
		{"no client certificate", srv.URL, config.ClientTLS{CA: ca.File}, "certificate|broken pipe|connection reset|closed network connection"},
		{"wrong server name", srv.URL, config.ClientTLS{CA: ca.File, Cert: client.CertFile, Key: client.KeyFile, ServerName: "wrong.example"}, "wrong.example"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tu.NewConfig(t, func(c *Config) { c.URL, c.TLS, c.Index = config.URL(tc.url), tc.tls, "logs" })
			s, err := New(c, tu.Deps(t, "es"))
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := s.Close(t.Context()); err != nil {
					t.Errorf("Close: %v", err)
				}
			}()
			err = s.Write(t.Context(), &event.Batch{Events: []event.Event{{Message: []byte("m")}}})
			if (err == nil) != (tc.error == "") || err != nil && !containsAny(err.Error(), tc.error) {
				t.Fatalf("Write = %v, want error %q", err, tc.error)
			}
		})
	}
}

func containsAny(s, alternatives string) bool {
	for _, a := range strings.Split(alternatives, "|") {
		if strings.Contains(s, a) {
			return true
		}
	}
	return false
}

func TestTLSCertWithoutKey(t *testing.T) {
	c := &Config{URL: "https://es:9200", TLS: config.ClientTLS{Cert: "c.pem"}}
	c.Defaults()
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "cert and key") {
		t.Fatalf("Validate() = %v, want a cert and key error", err)
	}
}

// TestURLPasswordNeverPrinted checks that printing the config hides the
// password of a drain URL.
func TestURLPasswordNeverPrinted(t *testing.T) {
	c := &Config{URL: "es+https://elastic:hunter2@es:9200/logs"}
	for _, out := range []string{fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c)} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("%q reveals the password", out)
		}
	}
}
