package syslog

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
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
	s, err := New(testutil.Validated(t, c), testutil.Deps(t, "syslog_test"))
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
	if err := c.SetReadDeadline(time.Now().Add(waitTimeout)); err != nil {
		t.Fatal(err)
	}
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

// pki is a throwaway CA with a server and client certificates, as files,
// and a client certificate of another CA.
type pki struct {
	caFile, serverCert, serverKey string
	caPool                        *x509.CertPool
	client, wrongClient           tls.Certificate
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	ca, wrongCA := testutil.NewCA(t), testutil.NewCA(t)
	server := ca.Issue(t, "server")
	return &pki{
		caFile: ca.File, serverCert: server.CertFile, serverKey: server.KeyFile, caPool: ca.Pool,
		client: ca.Issue(t, "client").TLS, wrongClient: wrongCA.Issue(t, "intruder").TLS,
	}
}

func (p *pki) dialTLS(t testing.TB, addr string, certs ...tls.Certificate) (*tls.Conn, error) {
	d := &net.Dialer{Timeout: waitTimeout}
	c, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{RootCAs: p.caPool, Certificates: certs, ServerName: "127.0.0.1"})
	if err == nil {
		// Tests close or get closed: a Close error (close_notify on a
		// connection the server already dropped) says nothing about them.
		t.Cleanup(func() { _ = c.Close() })
	}
	return c, err
}
