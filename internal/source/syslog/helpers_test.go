package syslog

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitTimeout bounds every wait in these tests.
const waitTimeout = 10 * time.Second

// harness is a running source and what it emitted.
type harness struct {
	src  *Source
	coll *testutil.Collector
	stop func() error
}

// start runs a source made from the defaults changed by edit, listening on
// a free loopback port, and stops it when the test ends.
func start(t testing.TB, edit func(*Config)) *harness {
	t.Helper()
	c := &Config{}
	c.Defaults()
	c.Address = "127.0.0.1:0"
	c.Timezone = "UTC"
	if edit != nil {
		edit(c)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	s, err := New(c, testutil.Deps(t, "syslog_test"))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h := &harness{src: s.(*Source), coll: &testutil.Collector{Notify: make(chan struct{}, 4096)}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.src.Run(ctx, h.coll.Emit) }()
	select {
	case <-h.src.listening:
	case err := <-done:
		cancel()
		t.Fatalf("Run ended before listening: %v", err)
	case <-time.After(waitTimeout):
		t.Fatal("source did not start listening")
	}
	stopped := false
	h.stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(waitTimeout):
			t.Fatal("Run did not return after cancel")
			return nil
		}
	}
	t.Cleanup(func() {
		if err := h.stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return h
}

func (h *harness) addr() string { return h.src.Addr().String() }

// wait blocks until at least n events arrived and returns them.
func (h *harness) wait(t testing.TB, n int) []event.Event {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		if evs := h.coll.Events(); len(evs) >= n {
			return evs
		}
		select {
		case <-h.coll.Notify:
		case <-deadline:
			t.Fatalf("got %d events, want %d", len(h.coll.Events()), n)
		}
	}
}

func messages(evs []event.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = string(e.Message)
	}
	return out
}

func field(e event.Event, key string) string {
	v, _ := e.Fields.Get(key)
	return v.Text()
}

// count reads a counter or gauge.
func count(t testing.TB, m prometheus.Metric) int {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	if d.Counter != nil {
		return int(d.Counter.GetValue())
	}
	return int(d.Gauge.GetValue())
}

func dial(t testing.TB, network, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout(network, addr, waitTimeout)
	if err != nil {
		t.Fatalf("dial %s %s: %v", network, addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func write(t testing.TB, c net.Conn, s string) {
	t.Helper()
	if _, err := c.Write([]byte(s)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// waitClosed reads from c until the server closes it.
func waitClosed(t testing.TB, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(waitTimeout))
	buf := make([]byte, 64)
	for {
		if _, err := c.Read(buf); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("connection was not closed by the server")
			}
			return
		}
	}
}

// pki is a throwaway CA with a server and client certificates, as files.
type pki struct {
	dir                              string
	caFile, serverCert, serverKey    string
	caPool                           *x509.CertPool
	client, wrongClient, serverTLSok tls.Certificate
}

func newCA(t testing.TB, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return cert, key
}

func issue(t testing.TB, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func newPKI(t testing.TB) *pki {
	p := &pki{dir: t.TempDir(), caPool: x509.NewCertPool()}
	ca, caKey := newCA(t, "test ca")
	wrongCA, wrongKey := newCA(t, "wrong ca")
	p.caPool.AddCert(ca)
	writeFile := func(name string, b []byte) string {
		path := filepath.Join(p.dir, name)
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	p.caFile = writeFile("ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw}))
	sc, sk := issue(t, ca, caKey, "server", x509.ExtKeyUsageServerAuth)
	p.serverCert, p.serverKey = writeFile("server.pem", sc), writeFile("server.key", sk)
	pair := func(c, k []byte) tls.Certificate {
		cert, err := tls.X509KeyPair(c, k)
		if err != nil {
			t.Fatal(err)
		}
		return cert
	}
	p.client = pair(issue(t, ca, caKey, "client", x509.ExtKeyUsageClientAuth))
	p.wrongClient = pair(issue(t, wrongCA, wrongKey, "intruder", x509.ExtKeyUsageClientAuth))
	return p
}

func (p *pki) dialTLS(t testing.TB, addr string, certs ...tls.Certificate) (*tls.Conn, error) {
	d := &net.Dialer{Timeout: waitTimeout}
	c, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{RootCAs: p.caPool, Certificates: certs, ServerName: "127.0.0.1"})
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}
