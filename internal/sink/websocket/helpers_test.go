package wssink

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	wssource "github.com/sluice-log/sluice/internal/source/websocket"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// receiver is a websocket source running in the test.
type receiver struct {
	src  *wssource.Source
	addr string
	stop func()
}

// startReceiver runs a websocket source on addr ("127.0.0.1:0" for any
// port) feeding col; stop ends its Run and waits for it.
func startReceiver(t testing.TB, addr string, emit component.Emit, mod func(*wssource.Config)) *receiver {
	t.Helper()
	c := &wssource.Config{}
	c.Defaults()
	c.Address = addr
	c.ShutdownTimeout = 0
	if mod != nil {
		mod(c)
	}
	s, err := wssource.New(c, testutil.Deps(t, "relay-in"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := s.Run(ctx, emit); err != nil {
			t.Errorf("source run: %v", err)
		}
	}()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	src := s.(*wssource.Source)
	a, err := src.Addr(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return &receiver{src: src, addr: a.String(), stop: stop}
}

// newTestSink builds a sink for url and closes it at the end of the test.
func newTestSink(t testing.TB, url string, mod func(*Config)) *Sink {
	t.Helper()
	c := &Config{}
	c.Defaults()
	c.URL = URL(url)
	c.Timeout = config.Duration(5 * time.Second)
	if mod != nil {
		mod(c)
	}
	s, err := New(c, testutil.Deps(t, "relay-out"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s.(*Sink)
}

// makeBatch returns events "ev-<from>" to "ev-<from+n-1>" with a field
// holding the id.
func makeBatch(from, n int) *event.Batch {
	b := &event.Batch{Events: make([]event.Event, n)}
	ts := time.Date(2026, 11, 22, 1, 2, 3, 456789, time.UTC)
	for i := range b.Events {
		id := from + i
		b.Events[i] = event.Event{Timestamp: ts.Add(time.Duration(id)), Host: "web-1", Stream: "app",
			Message: fmt.Appendf(nil, "ev-%d", id), Fields: event.Fields{{Key: "id", Value: event.Int(int64(id))}}}
	}
	return b
}

// deliver calls Write until it succeeds, like the pipeline's sink runner
// with a short backoff, and fails the test after a deadline.
func deliver(t *testing.T, s *Sink, b *event.Batch) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for attempt := 0; ; attempt++ {
		err := s.Write(t.Context(), b)
		if err == nil {
			return
		}
		var rej *component.RejectError
		if errors.As(err, &rej) || time.Now().After(deadline) {
			t.Fatalf("write failed after %d attempts: %v", attempt+1, err)
		}
		time.Sleep(20 * time.Millisecond) // the pipeline's backoff
	}
}

// countIDs counts how often each "ev-N" message occurs.
func countIDs(msgs []string) map[int]int {
	n := map[int]int{}
	for _, m := range msgs {
		id, err := strconv.Atoi(strings.TrimPrefix(m, "ev-"))
		if err == nil {
			n[id]++
		}
	}
	return n
}

// pki is a CA with one certificate for 127.0.0.1, written as PEM files.
type pki struct {
	ca, cert, key string
}

func newPKI(t testing.TB) pki {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sluice relay test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := pki{ca: filepath.Join(dir, "ca.pem"), cert: filepath.Join(dir, "cert.pem"), key: filepath.Join(dir, "key.pem")}
	write := func(path, typ string, b []byte) {
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(p.ca, "CERTIFICATE", caDER)
	write(p.cert, "CERTIFICATE", der)
	write(p.key, "EC PRIVATE KEY", keyDER)
	return p
}

// tcpProxy forwards loopback TCP connections to a target, and can cut
// them, stop forwarding (a peer that vanished without closing), or cut
// connections idle for longer than idle (a proxy's read timeout).
type tcpProxy struct {
	ln     net.Listener
	target string
	idle   time.Duration

	mu     sync.Mutex
	conns  []net.Conn
	frozen bool
	thaw   chan struct{}
	wg     sync.WaitGroup
}

func startProxy(t *testing.T, target string, idle time.Duration) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, idle: idle, thaw: make(chan struct{})}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		ln.Close()
		p.freeze(false)
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *tcpProxy) addr() string { return p.ln.Addr().String() }

func (p *tcpProxy) accept() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", p.target)
		if err != nil {
			in.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, in, out)
		p.mu.Unlock()
		p.wg.Go(func() { p.pipe(in, out) })
		p.wg.Go(func() { p.pipe(out, in) })
	}
}

func (p *tcpProxy) pipe(from, to net.Conn) {
	defer from.Close()
	defer to.Close()
	buf := make([]byte, 64<<10)
	for {
		if p.idle > 0 {
			_ = from.SetReadDeadline(time.Now().Add(p.idle))
		}
		n, err := from.Read(buf)
		if err != nil {
			return
		}
		p.mu.Lock()
		frozen, thaw := p.frozen, p.thaw
		p.mu.Unlock()
		if frozen {
			<-thaw
		}
		if _, err := to.Write(buf[:n]); err != nil {
			return
		}
	}
}

// cut closes every forwarded connection.
func (p *tcpProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// freeze stops (or resumes) forwarding bytes without closing anything.
func (p *tcpProxy) freeze(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen && !on {
		close(p.thaw)
		p.thaw = make(chan struct{})
	}
	p.frozen = on
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
