package http

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sluice test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue returns a leaf certificate for 127.0.0.1, usable by servers and
// clients, as a tls.Certificate and as PEM cert and key.
func (ca *testCA) issue(t *testing.T, serial int64) (tls.Certificate, []byte, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return pair, certPEM, keyPEM
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTLS(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	serverCert, _, _ := ca.issue(t, 2)
	_, clientCert, clientKey := ca.issue(t, 3)
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)

	srv := httptest.NewUnstartedServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if len(r.TLS.PeerCertificates) == 0 {
			nethttp.Error(w, "no client certificate", nethttp.StatusForbidden)
		}
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientCAs: pool,
		ClientAuth: tls.VerifyClientCertIfGiven}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	caFile := writeFile(t, "ca.pem", ca.pem)
	certFile, keyFile := writeFile(t, "client.pem", clientCert), writeFile(t, "client.key", clientKey)
	for _, tc := range []struct {
		name      string
		tls       TLS
		ok        bool
		rejected  bool
		wantError string
	}{
		{"custom CA and client cert", TLS{CA: caFile, Cert: certFile, Key: keyFile}, true, false, ""},
		{"system roots do not know the CA", TLS{}, false, false, "certificate"},
		{"insecure skip verify", TLS{InsecureSkipVerify: true, Cert: certFile, Key: keyFile}, true, false, ""},
		{"no client certificate", TLS{CA: caFile}, false, true, "403"},
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
	if _, err := newSink(cfg); err == nil {
		t.Fatal("newSink succeeded with a missing CA file")
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
