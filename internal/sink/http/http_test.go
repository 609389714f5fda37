package http

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	nethttp "net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/httpout"
	"github.com/sluice-log/sluice/internal/testutil"
)

// received is one request as the test server saw it.
type received struct {
	method, contentType, encoding, auth, custom string
	body                                        string
}

// recorder is a test server that records requests and answers with the
// next status of a script (200 when the script is used up).
type recorder struct {
	srv     *httptest.Server
	reqs    chan received
	script  []int
	replies atomic.Int32
	reply   string
}

var cmpReceived = cmp.AllowUnexported(received{})

func newRecorder(t *testing.T, script ...int) *recorder {
	r := &recorder{reqs: make(chan received, 100), script: script}
	r.srv = httptest.NewServer(nethttp.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) serve(w nethttp.ResponseWriter, req *nethttp.Request) {
	var in io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			nethttp.Error(w, err.Error(), nethttp.StatusBadRequest)
			return
		}
		in = zr
	}
	b, _ := io.ReadAll(in)
	r.reqs <- received{method: req.Method, contentType: req.Header.Get("Content-Type"),
		encoding: req.Header.Get("Content-Encoding"), auth: req.Header.Get("Authorization"),
		custom: req.Header.Get("X-Custom"), body: string(b)}
	code := 200
	if n := int(r.replies.Add(1)) - 1; n < len(r.script) {
		code = r.script[n]
	}
	w.WriteHeader(code)
	_, _ = io.WriteString(w, r.reply)
}

func (r *recorder) next(t *testing.T) received {
	t.Helper()
	select {
	case got := <-r.reqs:
		return got
	case <-time.After(5 * time.Second):
		t.Fatal("no request received")
		return received{}
	}
}

func cfgFor(url string) *Config {
	c := &Config{}
	c.Defaults()
	c.URL = config.URL(url)
	return c
}

func mustSink(t *testing.T, cfg *Config) *Sink {
	t.Helper()
	s, err := newSink(testutil.Validated(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(t.Context()) })
	return s
}

func testBatch(msgs ...string) *event.Batch {
	b := &event.Batch{}
	for _, m := range msgs {
		b.Events = append(b.Events, event.Event{Timestamp: time.Unix(1, 0), Host: "h", Stream: "s",
			Message: []byte(m), Fields: event.Fields{{Key: "n", Value: event.Int(int64(len(m)))}}})
	}
	return b
}

func ndjson(msgs ...string) string {
	var sb strings.Builder
	for _, m := range msgs {
		fmt.Fprintf(&sb, `{"timestamp":"1970-01-01T00:00:01.000000000Z","host":"h","stream":"s","message":%q,"n":%d}`+"\n", m, len(m))
	}
	return sb.String()
}

func isRejected(err error) bool {
	var rej *component.RejectError
	return errors.As(err, &rej)
}

func TestBodies(t *testing.T) {
	t.Parallel()
	msgs := []string{"one", "two \"quoted\"", ""}
	arr := "[" + strings.ReplaceAll(strings.TrimSuffix(ndjson(msgs...), "\n"), "\n", ",") + "]"
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want received
	}{
		{"ndjson", func(*Config) {},
			received{method: "POST", contentType: "application/x-ndjson", body: ndjson(msgs...)}},
		{"json array", func(c *Config) { c.Encoding = "json_array" },
			received{method: "POST", contentType: "application/json", body: arr}},
		{"gzip ndjson", func(c *Config) { c.Compression = "gzip" },
			received{method: "POST", contentType: "application/x-ndjson", encoding: "gzip", body: ndjson(msgs...)}},
		{"gzip json array", func(c *Config) { c.Compression = "gzip"; c.Encoding = "json_array" },
			received{method: "POST", contentType: "application/json", encoding: "gzip", body: arr}},
		{"method and headers", func(c *Config) {
			c.Method = "PUT"
			c.Headers = map[string]string{"x-custom": "yes", "Content-Type": "text/plain"}
		}, received{method: "PUT", contentType: "text/plain", custom: "yes", body: ndjson(msgs...)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRecorder(t)
			cfg := cfgFor(r.srv.URL)
			tc.edit(cfg)
			s := mustSink(t, cfg)
			for range 3 { // buffers are reused between writes
				if err := s.Write(t.Context(), testBatch(msgs...)); err != nil {
					t.Fatal(err)
				}
				got := r.next(t)
				testutil.Diff(t, tc.want, got, cmpReceived)
				if cfg.Encoding == "json_array" && !json.Valid([]byte(got.body)) {
					t.Errorf("body is not valid JSON: %s", got.body)
				}
			}
		})
	}
}

func TestStatusMapping(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		code     int
		rejected bool
	}{
		{"500", 500, false},
		{"503", 503, false},
		{"429", 429, false},
		{"408", 408, false},
		{"425", 425, false},
		{"400", 400, true},
		{"401", 401, true},
		{"404", 404, true},
		{"413", 413, true},
		{"302 not followed", 302, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRecorder(t, tc.code)
			r.reply = "details " + strings.Repeat("x", 5000)
			s := mustSink(t, cfgFor(r.srv.URL))
			err := s.Write(t.Context(), testBatch("a"))
			if err == nil {
				t.Fatalf("Write succeeded on %d", tc.code)
			}
			testutil.Diff(t, tc.rejected, isRejected(err))
			var se *httpout.StatusError
			if !errors.As(err, &se) || se.Code != tc.code {
				t.Fatalf("error %v does not carry status %d", err, tc.code)
			}
			if !strings.Contains(err.Error(), fmt.Sprint(tc.code)) || !strings.Contains(err.Error(), "details xxx") {
				t.Errorf("error %q lacks the status or body", err)
			}
			if len(err.Error()) > 1000 {
				t.Errorf("error is %d bytes long; the body must be bounded", len(err.Error()))
			}
			r.next(t)
			// The batch succeeds once the server recovers.
			if err := s.Write(t.Context(), testBatch("a")); err != nil {
				t.Errorf("second Write: %v", err)
			}
		})
	}
}

func TestRetryThenSuccess(t *testing.T) {
	t.Parallel()
	r := newRecorder(t, 500)
	s := mustSink(t, cfgFor(r.srv.URL))
	err := s.Write(t.Context(), testBatch("x"))
	if err == nil || isRejected(err) {
		t.Fatalf("first Write = %v, want a retryable error", err)
	}
	if err := s.Write(t.Context(), testBatch("x")); err != nil {
		t.Fatalf("second Write = %v", err)
	}
	testutil.Diff(t, ndjson("x"), r.next(t).body)
	testutil.Diff(t, ndjson("x"), r.next(t).body)
}

func TestAuth(t *testing.T) {
	t.Parallel()
	basic := "Basic " + "YWxpY2U6czNjcjN0" // alice:s3cr3t
	for _, tc := range []struct {
		name string
		auth Auth
		user string // URL userinfo
		want string
	}{
		{"none", Auth{}, "", ""},
		{"basic", Auth{User: "alice", Password: "s3cr3t"}, "", basic},
		{"bearer", Auth{Token: "tok123"}, "", "Bearer tok123"},
		{"from url", Auth{}, "alice:s3cr3t@", basic},
		{"auth wins over url", Auth{Token: "tok123"}, "bob:pw@", "Bearer tok123"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRecorder(t)
			cfg := cfgFor(strings.Replace(r.srv.URL, "http://", "http://"+tc.user, 1))
			cfg.Auth = tc.auth
			s := mustSink(t, cfg)
			if err := s.Write(t.Context(), testBatch("a")); err != nil {
				t.Fatal(err)
			}
			testutil.Diff(t, tc.want, r.next(t).auth)
		})
	}
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	cfg := cfgFor(srv.URL)
	cfg.Timeout = config.Duration(100 * time.Millisecond)
	s := mustSink(t, cfg)
	start := time.Now()
	err := s.Write(t.Context(), testBatch("a"))
	if err == nil || isRejected(err) || !strings.Contains(err.Error(), "Timeout") {
		t.Fatalf("Write = %v, want a retryable timeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Write took %v despite a 100ms timeout", d)
	}
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(nethttp.NotFoundHandler())
	url := srv.URL
	srv.Close()
	s := mustSink(t, cfgFor(url))
	if err := s.Write(t.Context(), testBatch("a")); err == nil || isRejected(err) {
		t.Fatalf("Write = %v, want a retryable error", err)
	}
}

func TestEarlyResponseKeepsNextBodyIntact(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	bodies := make(chan string, 10)
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(400) // answer before reading the body
			return
		}
		b, _ := io.ReadAll(r.Body)
		bodies <- string(b)
	}))
	t.Cleanup(srv.Close)
	s := mustSink(t, cfgFor(srv.URL))
	big := strings.Repeat("y", 2<<20)
	if err := s.Write(t.Context(), testBatch(big)); !isRejected(err) {
		t.Fatalf("first Write = %v, want rejected", err)
	}
	for i := range 3 {
		msg := fmt.Sprintf("next-%d", i)
		if err := s.Write(t.Context(), testBatch(msg)); err != nil {
			t.Fatal(err)
		}
		testutil.Diff(t, ndjson(msg), <-bodies)
	}
}

func TestSecretsNeverShow(t *testing.T) {
	t.Parallel()
	const password, token = "pa55-SECRET-word", "TOKEN-secret-123"
	// The server echoes the Authorization header, as some error pages do.
	echo := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		code := 401
		if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer") {
			code = 500
		}
		w.WriteHeader(code)
		fmt.Fprintf(w, "bad credentials %s in %s", r.Header.Get("Authorization"), r.URL)
	}))
	t.Cleanup(echo.Close)
	down := httptest.NewServer(nethttp.NotFoundHandler())
	down.Close()

	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	basicURL := strings.Replace(echo.URL, "http://", "http://alice:"+password+"@", 1)
	configs := map[string]*Config{
		"basic":           {URL: config.URL(echo.URL), Auth: Auth{User: "alice", Password: password}},
		"basic in url":    {URL: config.URL(basicURL)},
		"bearer":          {URL: config.URL(echo.URL), Auth: Auth{Token: token}},
		"down basic":      {URL: config.URL(strings.Replace(down.URL, "http://", "http://alice:"+password+"@", 1))},
		"down bearer":     {URL: config.URL(down.URL), Auth: Auth{Token: token}},
		"bad tls, basic":  {URL: config.URL(echo.URL), Auth: Auth{User: "alice", Password: password}, TLS: config.ClientTLS{CA: "/nonexistent"}},
		"invalid + token": {URL: "ftp://x", Auth: Auth{Token: token}},
	}
	for name, c := range configs {
		full := cfgFor(string(c.URL))
		full.Auth, full.TLS = c.Auth, c.TLS
		log.Info("config", "name", name, "config", full)
		log.Info("config", "printf", fmt.Sprintf("%v %+v %#v", full, full, full))
		err := full.Validate()
		var s *Sink
		if err == nil {
			s, err = newSink(full)
		}
		if err != nil {
			log.Error("creating sink", "error", err)
			continue
		}
		err = s.Write(t.Context(), testBatch("a"))
		if err == nil {
			t.Errorf("%s: Write succeeded", name)
		}
		log.Error("write failed", "name", name, "error", err)
		_ = s.Close(t.Context())
	}
	out := logs.String()
	for _, secret := range []string{password, token, "YWxpY2U6cGE1NS1TRUNSRVQtd29yZA"} {
		if strings.Contains(out, secret) {
			t.Errorf("logs reveal %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "bad credentials Basic <redacted>") || !strings.Contains(out, "Bearer <redacted>") {
		t.Errorf("echoed credentials not redacted as expected:\n%s", out)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	spec, ok := component.Lookup(component.KindSink, "http")
	if !ok {
		t.Fatal("http sink is not registered")
	}
	def := spec.NewConfig().(*Config)
	testutil.Diff(t, &Config{Method: "POST", Encoding: "ndjson", Compression: "none",
		Timeout: config.Duration(30 * time.Second)}, def, cmpopts.IgnoreUnexported(Config{}))
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"valid", func(*Config) {}, ""},
		{"no url", func(c *Config) { c.URL = "" }, "url is required"},
		{"bad scheme", func(c *Config) { c.URL = "ftp://x" }, `scheme "ftp"`},
		{"no host", func(c *Config) { c.URL = "http:///x" }, "no host"},
		{"bad url", func(c *Config) { c.URL = "http://a b:secret@x/%zz" }, "not a valid URL"},
		{"bad method", func(c *Config) { c.Method = "PO ST" }, "invalid method"},
		{"bad encoding", func(c *Config) { c.Encoding = "xml" }, "unknown encoding"},
		{"bad compression", func(c *Config) { c.Compression = "zstd" }, "unknown compression"},
		{"zero timeout", func(c *Config) { c.Timeout = 0 }, "timeout must be positive"},
		{"bad header", func(c *Config) { c.Headers = map[string]string{"a b": "x"} }, "invalid header name"},
		{"token and user", func(c *Config) { c.Auth = Auth{User: "u", Token: "t"} }, "not both"},
		{"password alone", func(c *Config) { c.Auth = Auth{Password: "p"} }, "password needs user"},
		{"cert without key", func(c *Config) { c.TLS.Cert = "c.pem" }, "cert and key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := spec.NewConfig().(*Config)
			c.URL = "https://logs.example.com/in"
			tc.edit(c)
			err := c.Validate()
			if (tc.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("Validate() error reveals the URL password: %v", err)
			}
		})
	}
}

func TestCloseIsIdempotent(t *testing.T) {
	t.Parallel()
	s := mustSink(t, cfgFor("http://127.0.0.1:1/"))
	for range 2 {
		if err := s.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestHostHeader(t *testing.T) {
	t.Parallel()
	hosts := make(chan string, 1)
	srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) { hosts <- r.Host }))
	t.Cleanup(srv.Close)
	cfg := cfgFor(srv.URL)
	cfg.Headers = map[string]string{"host": "logs.example.com"}
	s := mustSink(t, cfg)
	if err := s.Write(t.Context(), testBatch("a")); err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, "logs.example.com", <-hosts)
}
