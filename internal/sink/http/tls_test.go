package http

import (
	"crypto/tls"
	nethttp "net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestTLS(t *testing.T) {
	t.Parallel()
	ca := testutil.NewCA(t)
	server, client := ca.Issue(t, "server"), ca.Issue(t, "client")

	srv := httptest.NewUnstartedServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if len(r.TLS.PeerCertificates) == 0 {
			nethttp.Error(w, "no client certificate", nethttp.StatusForbidden)
		}
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{server.TLS}, ClientCAs: ca.Pool,
		ClientAuth: tls.VerifyClientCertIfGiven}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	caFile, certFile, keyFile := ca.File, client.CertFile, client.KeyFile
	for _, tc := range []struct {
		name      string
		tls       config.ClientTLS
		ok        bool
		rejected  bool
		wantError string
	}{
		{"custom CA and client cert", config.ClientTLS{CA: caFile, Cert: certFile, Key: keyFile}, true, false, ""},
		{"system roots do not know the CA", config.ClientTLS{}, false, false, "certificate"},
		{"insecure skip verify", config.ClientTLS{InsecureSkipVerify: true, Cert: certFile, Key: keyFile}, true, false, ""},
		{"no client certificate", config.ClientTLS{CA: caFile}, false, true, "403"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := cfgFor(srv.URL)
			cfg.TLS = tc.tls
			s := mustSink(t, cfg)
			err := s.Write(t.Context(), testBatch("a"))
			if tc.ok {
				if err != nil {
					t.Fatalf("Write: %v", err)
				}
				return
			}
			if err == nil || isRejected(err) != tc.rejected || !containsFold(err.Error(), tc.wantError) {
				t.Fatalf("Write = %v, want error with %q (rejected=%v)", err, tc.wantError, tc.rejected)
			}
		})
	}
}

func TestTLSFilesMissing(t *testing.T) {
	t.Parallel()
	cfg := cfgFor("https://127.0.0.1:1/")
	cfg.TLS.CA = filepath.Join(t.TempDir(), "missing.pem")
	if _, err := newSink(testutil.Validated(t, cfg)); err == nil {
		t.Fatal("newSink succeeded with a missing CA file")
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
