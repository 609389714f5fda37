package syslog

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"

	"github.com/sluice-log/sluice/internal/event"
	wire "github.com/sluice-log/sluice/internal/syslog"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitTimeout bounds every wait in these tests.
const waitTimeout = 10 * time.Second

// receiver is an in-process syslog receiver on a stream socket: it splits
// what it reads into frames with the same framing reader the syslog source
// uses, and also keeps the raw bytes, to check the framing exactly.
type receiver struct {
	ln     net.Listener
	mu     sync.Mutex
	raw    []byte
	frames []string
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
	notify chan struct{}

	paused   atomic.Bool   // hang: stop reading, so the sender's writes block
	unpause  chan struct{} // closed by stop
	stopOnce sync.Once
}

// listenStream starts a receiver on addr (127.0.0.1:0 for a free port),
// over TLS when tc is set, and stops it when the test ends.
func listenStream(t *testing.T, addr string, tc *tls.Config) *receiver {
	t.Helper()
	var ln net.Listener
	var err error
	// A just-closed port may take a moment to be free again.
	eventually(t, "listening on "+addr, func() bool {
		ln, err = net.Listen("tcp", addr)
		return err == nil
	})
	if tc != nil {
		ln = tls.NewListener(ln, tc)
	}
	r := &receiver{ln: ln, conns: map[net.Conn]struct{}{}, notify: make(chan struct{}, 1), unpause: make(chan struct{})}
	r.wg.Add(1)
	go r.accept()
	t.Cleanup(r.stop)
	return r
}

func (r *receiver) addr() string { return r.ln.Addr().String() }

func (r *receiver) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		r.mu.Lock()
		r.conns[c] = struct{}{}
		r.mu.Unlock()
		r.wg.Add(1)
		go r.serve(c)
	}
}

type teeConn struct {
	net.Conn
	r *receiver
}

func (c teeConn) Read(p []byte) (int, error) {
	if c.r.paused.Load() {
		<-c.r.unpause
	}
	n, err := c.Conn.Read(p)
	c.r.mu.Lock()
	c.r.raw = append(c.r.raw, p[:n]...)
	c.r.mu.Unlock()
	return n, err
}

func (r *receiver) serve(c net.Conn) {
	defer r.wg.Done()
	defer c.Close()
	rd := wire.NewReader(teeConn{c, r}, 1<<20)
	for {
		frame, err := rd.Next()
		if err != nil {
			return
		}
		r.mu.Lock()
		r.frames = append(r.frames, string(frame))
		r.mu.Unlock()
		select {
		case r.notify <- struct{}{}:
		default:
		}
	}
}

// hang makes the receiver stop reading until it is stopped.
func (r *receiver) hang() { r.paused.Store(true) }

// stop closes the listener and every connection, and waits. It may be
// called more than once.
func (r *receiver) stop() {
	r.stopOnce.Do(func() { close(r.unpause) })
	r.ln.Close()
	r.mu.Lock()
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// wait returns the frames once at least n have arrived.
func (r *receiver) wait(t *testing.T, n int) []string {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		r.mu.Lock()
		got := append([]string(nil), r.frames...)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-r.notify:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("receiver got %d frames, want %d: %q", len(got), n, got)
		}
	}
}

func (r *receiver) rawBytes() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return string(r.raw)
}

// newTestSink builds a sink from the defaults changed by edit.
func newTestSink(t *testing.T, edit func(*Config)) *Sink {
	t.Helper()
	s, err := newSink(testutil.NewConfig(t, edit), testutil.Deps(t, "syslog_sink_test"))
	if err != nil {
		t.Fatalf("newSink: %v", err)
	}
	t.Cleanup(func() { _ = s.Close(t.Context()) })
	return s
}

var testTime = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

// events returns n events with messages "prefix-i".
func events(prefix string, n int) *event.Batch {
	b := &event.Batch{}
	for i := range n {
		b.Events = append(b.Events, event.Event{
			Timestamp: testTime, Host: "web1", Stream: "api",
			Message: []byte(prefix + "-" + string(rune('a'+i%26)) + itoa(i)),
		})
	}
	return b
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}

// decoded parses frames back into events.
func decoded(frames []string) []event.Event {
	var dec wire.Decoder
	out := make([]event.Event, len(frames))
	for i, f := range frames {
		dec.Decode([]byte(f), time.Time{}, "", &out[i])
	}
	return out
}

func messages(evs []event.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = string(e.Message)
	}
	return out
}

func batchMessages(b *event.Batch) []string { return messages(b.Events) }

// count reads a counter.
func count(t *testing.T, c prometheus.Counter) int {
	t.Helper()
	var d dto.Metric
	if err := c.Write(&d); err != nil {
		t.Fatal(err)
	}
	return int(d.Counter.GetValue())
}

// waitDead waits until the sink has noticed that its receiver closed the
// connection.
func waitDead(t *testing.T, s *Sink) {
	t.Helper()
	st := s.tr.(*streamTransport)
	eventually(t, "the sink to notice the closed connection", func() bool {
		return st.conn == nil || !st.conn.alive()
	})
}

// eventually waits until cond holds, checking it every few milliseconds,
// and fails t after waitTimeout.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.WaitFor(t, waitTimeout, what, cond)
}

// pki is a throwaway CA and certificates, written to files.
type pki struct {
	caFile, serverCert, serverKey, clientCert, clientKey string
	caPool                                               *x509.CertPool
	server                                               tls.Certificate
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	caKey := newKey(t)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	p := &pki{caPool: x509.NewCertPool()}
	p.caPool.AddCert(ca)
	p.caFile = writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER)
	p.serverCert, p.serverKey = issue(t, dir, "server", ca, caKey, x509.ExtKeyUsageServerAuth)
	p.clientCert, p.clientKey = issue(t, dir, "client", ca, caKey, x509.ExtKeyUsageClientAuth)
	if p.server, err = tls.LoadX509KeyPair(p.serverCert, p.serverKey); err != nil {
		t.Fatal(err)
	}
	return p
}

func issue(t *testing.T, dir, cn string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, usage x509.ExtKeyUsage) (certFile, keyFile string) {
	key := newKey(t)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{usage}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, dir, cn+".pem", "CERTIFICATE", der), writePEM(t, dir, cn+".key", "EC PRIVATE KEY", kder)
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (p *pki) serverTLS(requireClient bool) *tls.Config {
	tc := &tls.Config{Certificates: []tls.Certificate{p.server}, MinVersion: tls.VersionTLS12}
	if requireClient {
		tc.ClientCAs, tc.ClientAuth = p.caPool, tls.RequireAndVerifyClientCert
	}
	return tc
}

// readDatagrams reads n datagrams from pc.
func readDatagrams(t *testing.T, pc net.PacketConn, n int) []string {
	t.Helper()
	var out []string
	buf := make([]byte, 1<<17)
	_ = pc.SetReadDeadline(time.Now().Add(waitTimeout))
	for len(out) < n {
		k, _, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("got %d datagrams, want %d: %q", len(out), n, out)
			}
			t.Fatal(err)
		}
		out = append(out, string(buf[:k]))
	}
	return out
}
