package prom_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/logging"
	"github.com/sluice-log/sluice/internal/metrics/prom"
	"github.com/sluice-log/sluice/internal/metrics/store"
	"github.com/sluice-log/sluice/internal/testutil"
)

func startServer(t *testing.T, cfg config.Metrics) *prom.Server {
	t.Helper()
	s := store.New(0, nil, nil)
	s.Family(store.Options{Name: "hits_total", Help: "Hits.", Kind: store.Counter}).Add(nil, 3)
	reg := prometheus.NewRegistry()
	reg.MustRegister(prom.NewSeries(s))
	srv := prom.NewServer(cfg, reg, logging.New(t.Output(), 0, false, 0))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	return srv
}

func get(t *testing.T, c *http.Client, url string, hdr ...string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// TestServerUnixSocket scrapes metrics.listen's unix socket with Go's
// HTTP client (Prometheus 2.42 cannot scrape a unix socket), in each
// negotiated format, and finds nothing but /metrics there.
func TestServerUnixSocket(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "metrics.sock")
	startServer(t, config.Metrics{Listen: "unix://" + sock})
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	for _, tc := range []struct{ accept, ctype, body string }{
		{"", "text/plain; version=0.0.4", "hits_total 3\n"},
		{"application/openmetrics-text; version=1.0.0", "application/openmetrics-text; version=1.0.0", "hits_total 3.0\n"},
		{"application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited", "application/vnd.google.protobuf", ""},
	} {
		code, ctype, body := get(t, c, "http://sluice/metrics", "Accept", tc.accept)
		if code != 200 || !strings.HasPrefix(ctype, tc.ctype) || !strings.Contains(body, tc.body) {
			t.Errorf("Accept %q: %d %q\n%s", tc.accept, code, ctype, body)
		}
		if strings.HasPrefix(ctype, "application/vnd.google.protobuf") {
			var mf = decodeProto(t, body)
			testutil.Diff(t, 3.0, mf["hits_total"].Metric[0].GetCounter().GetValue())
		}
	}
	if code, _, _ := get(t, c, "http://sluice/healthz"); code != 404 {
		t.Errorf("/healthz on the metrics listener: %d, want 404", code)
	}
}

// TestServerTLSAuth: metrics.tls and metrics.auth work as the api's.
func TestServerTLSAuth(t *testing.T) {
	t.Parallel()
	ca := testutil.NewCA(t)
	leaf := ca.Issue(t, "127.0.0.1")
	srv := startServer(t, config.Metrics{Listen: "127.0.0.1:0",
		TLS:  config.ServerTLS{Cert: leaf.CertFile, Key: leaf.KeyFile},
		Auth: config.Auth{Tokens: []config.Secret{"s3cret"}}})
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}}}
	url := "https://" + srv.Addr().String() + "/metrics"
	if code, _, _ := get(t, c, url); code != 401 {
		t.Errorf("no token: %d, want 401", code)
	}
	if code, _, body := get(t, c, url, "Authorization", "Bearer s3cret"); code != 200 || !strings.Contains(body, "hits_total 3") {
		t.Errorf("with token: %d\n%s", code, body)
	}
}

// TestServerAddressTaken: Start fails, naming the address.
func TestServerAddressTaken(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	srv := prom.NewServer(config.Metrics{Listen: ln.Addr().String()}, prometheus.NewRegistry(), logging.New(io.Discard, 0, false, 0))
	if err := srv.Start(); err == nil || !strings.Contains(err.Error(), "metrics listening on "+ln.Addr().String()) {
		t.Errorf("Start: %v", err)
	}
}
