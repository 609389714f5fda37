package opentelemetry

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	grpcgzip "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/testutil"
)

// start runs a source on loopback ports with cfg edited by edit.
func start(t *testing.T, edit func(*Config), col *testutil.Collector) *Source {
	t.Helper()
	cfg := testutil.NewConfig(t, func(c *Config) {
		c.Address, c.GRPCAddress = "127.0.0.1:0", "127.0.0.1:0"
		if edit != nil {
			edit(c)
		}
	})
	src, err := New(cfg, testutil.Deps(t, "otel"))
	if err != nil {
		t.Fatal(err)
	}
	testutil.StartSource(t, src, col.Emit)
	return src.(*Source)
}

func httpURL(t *testing.T, s *Source, scheme string) string {
	addr, err := s.HTTPAddr(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return scheme + "://" + addr.String() + "/v1/logs"
}

func grpcClient(t *testing.T, s *Source, creds credentials.TransportCredentials) plogotlp.GRPCClient {
	addr, err := s.GRPCAddr(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	cc, err := grpc.NewClient(addr.String(), grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return plogotlp.NewGRPCClient(cc)
}

func post(t *testing.T, client *http.Client, url, ct string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if client == nil {
		client = &http.Client{Transport: &http.Transport{}}
		defer client.CloseIdleConnections()
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestHTTPJSONGzip: OTLP/JSON, gzipped, is answered in JSON.
func TestHTTPJSONGzip(t *testing.T) {
	col := &testutil.Collector{}
	s := start(t, nil, col)
	body, err := requestOf([]string{"one", "two"}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	resp, out := post(t, nil, httpURL(t, s, "http"), "application/json", gz(t, body), map[string]string{"Content-Encoding": "gzip"})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), out)
	}
	testutil.Diff(t, []string{"one", "two"}, col.Messages())
}

// TestGRPC: LogsService/Export, gzip-compressed, with a bearer token.
func TestGRPC(t *testing.T) {
	col := &testutil.Collector{}
	s := start(t, func(c *Config) { c.Auth.Tokens = []config.Secret{"s3cret"} }, col)
	client := grpcClient(t, s, nil)
	_, err := client.Export(t.Context(), requestOf([]string{"a"}))
	if status.Code(err) != codes.Unauthenticated {
		t.Fatalf("without token: %v", err)
	}
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer s3cret")
	resp, err := client.Export(ctx, requestOf([]string{"a", "b"}), grpc.UseCompressor(grpcgzip.Name))
	if err != nil {
		t.Fatal(err)
	}
	if n := resp.PartialSuccess().RejectedLogRecords(); n != 0 {
		t.Fatalf("%d rejected", n)
	}
	testutil.Diff(t, []string{"a", "b"}, col.Messages())
}

// TestAcknowledgementOutcomes: rejected records are a partial success,
// records not taken a 503 / Unavailable.
func TestAcknowledgementOutcomes(t *testing.T) {
	col := &testutil.Collector{Hold: true, Notify: make(chan struct{}, 4)}
	s := start(t, nil, col)
	body, _ := requestOf([]string{"x", "y", "z"}).MarshalProto()
	type answer struct {
		resp *http.Response
		out  []byte
	}
	for _, tc := range []struct {
		st       ack.Status
		code     int
		rejected int64
	}{{ack.Rejected, 200, 3}, {ack.Dropped, 200, 3}, {ack.Abandoned, 503, 0}, {ack.Delivered, 200, 0}} {
		done := make(chan answer, 1)
		go func() {
			resp, out := post(t, nil, httpURL(t, s, "http"), ctProtobuf, body, nil)
			done <- answer{resp, out}
		}()
		<-col.Notify
		col.Release(tc.st)
		a := <-done
		if a.resp.StatusCode != tc.code {
			t.Fatalf("%v: status %d: %s", tc.st, a.resp.StatusCode, a.out)
		}
		if tc.code == 200 {
			resp := plogotlp.NewExportResponse()
			if err := resp.UnmarshalProto(a.out); err != nil {
				t.Fatal(err)
			}
			if got := resp.PartialSuccess().RejectedLogRecords(); got != tc.rejected {
				t.Errorf("%v: rejected %d, want %d", tc.st, got, tc.rejected)
			}
		}
	}
	// gRPC: the same over LogsService/Export.
	client := grpcClient(t, s, nil)
	go func() {
		<-col.Notify
		col.Release(ack.Abandoned)
	}()
	if _, err := client.Export(t.Context(), requestOf([]string{"q"})); status.Code(err) != codes.Unavailable {
		t.Fatalf("abandoned over gRPC: %v", err)
	}
}

// TestRefusals: bad requests get a clear status and are counted.
func TestRefusals(t *testing.T) {
	col := &testutil.Collector{}
	s := start(t, func(c *Config) {
		c.MaxBodySize = 4096
		c.Auth.Tokens = []config.Secret{"tok"}
	}, col)
	url := httpURL(t, s, "http")
	auth := map[string]string{"Authorization": "Bearer tok"}
	big, _ := requestOf([]string{strings.Repeat("a", 10000)}).MarshalProto()
	for _, tc := range []struct {
		name string
		ct   string
		body []byte
		hdr  map[string]string
		code int
	}{
		{"no token", ctProtobuf, nil, nil, 401},
		{"wrong token", ctProtobuf, nil, map[string]string{"Authorization": "Bearer nope"}, 401},
		{"text", "text/plain", []byte("hi"), auth, 415},
		{"garbage", ctProtobuf, []byte("\x0a\xff\xff\xff"), auth, 400},
		{"bad json", "application/json", []byte("{"), auth, 400},
		{"too big", ctProtobuf, big, auth, 413},
		{"gzip bomb", ctProtobuf, gz(t, big), map[string]string{"Authorization": "Bearer tok", "Content-Encoding": "gzip"}, 413},
		{"bad gzip", ctProtobuf, []byte("not gzip"), map[string]string{"Authorization": "Bearer tok", "Content-Encoding": "gzip"}, 400},
		{"brotli", ctProtobuf, []byte("x"), map[string]string{"Authorization": "Bearer tok", "Content-Encoding": "br"}, 415},
	} {
		resp, out := post(t, nil, url, tc.ct, tc.body, tc.hdr)
		if resp.StatusCode != tc.code {
			t.Errorf("%s: status %d, want %d: %s", tc.name, resp.StatusCode, tc.code, out)
		}
	}
	// gRPC refuses an oversized message before Export sees it; it is
	// counted all the same.
	ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer tok")
	if _, err := grpcClient(t, s, nil).Export(ctx, requestOf([]string{strings.Repeat("a", 10000)})); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("oversized gRPC message: %v", err)
	}
	testutil.WaitFor(t, 5*time.Second, "the gRPC refusal to be counted", func() bool {
		return testutil.CounterValue(t, s.badReqs) == 10
	})
	if len(col.Messages()) != 0 {
		t.Errorf("refused requests emitted %q", col.Messages())
	}
}

// TestTLS serves both listeners over TLS.
func TestTLS(t *testing.T) {
	ca := testutil.NewCA(t)
	leaf := ca.Issue(t, "server")
	col := &testutil.Collector{}
	s := start(t, func(c *Config) { c.TLS = config.ServerTLS{Cert: leaf.CertFile, Key: leaf.KeyFile} }, col)
	tc := &tls.Config{RootCAs: ca.Pool, MinVersion: tls.VersionTLS12}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
	defer hc.CloseIdleConnections()
	body, _ := requestOf([]string{"https"}).MarshalProto()
	if resp, out := post(t, hc, httpURL(t, s, "https"), ctProtobuf, body, nil); resp.StatusCode != 200 {
		t.Fatalf("https: %d %s", resp.StatusCode, out)
	}
	if _, err := grpcClient(t, s, credentials.NewTLS(tc)).Export(context.Background(), requestOf([]string{"grpcs"})); err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, []string{"https", "grpcs"}, col.Messages())
}

// TestStartFailsOnBusyPort: each listener's port in use stops start-up.
func TestStartFailsOnBusyPort(t *testing.T) {
	testutil.CheckListenerStart(t, "tcp", func(t testing.TB, address string) component.Source {
		cfg := testutil.NewConfig(t, func(c *Config) { c.Address, c.GRPCAddress = "127.0.0.1:0", address })
		s, err := New(cfg, testutil.Deps(t, "otel"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
