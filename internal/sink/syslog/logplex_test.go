package syslog

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	httpsource "github.com/sluice-log/sluice/internal/source/http"
	"github.com/sluice-log/sluice/internal/testutil"
)

// TestLogplexIntoHTTPSource posts batches to sluice's own http source,
// which takes logplex as Heroku drains send it, and checks every event and
// its syslog fields arrive.
func TestLogplexIntoHTTPSource(t *testing.T) {
	t.Parallel()
	c := &httpsource.Config{}
	c.Defaults()
	c.Address = "127.0.0.1:0"
	src, err := httpsource.New(testutil.Validated(t, c), testutil.Deps(t, "http_in"))
	if err != nil {
		t.Fatal(err)
	}
	coll := &testutil.Collector{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx, coll.Emit) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("source Run: %v", err)
		}
	}()
	actx, acancel := context.WithTimeout(t.Context(), waitTimeout)
	defer acancel()
	addr, err := src.(*httpsource.Source).Addr(actx)
	if err != nil {
		t.Fatal(err)
	}

	s := newTestSink(t, func(c *Config) { c.URL = URL("syslog+http://" + addr.String() + "/drain?stream=x") })
	b := events("plex", 50)
	b.Events[3].Message = []byte("multi\nline message")
	b.Events[4].Fields = event.Fields{
		{Key: "facility", Value: event.String("local3")}, {Key: "severity", Value: event.String("err")},
		{Key: "procid", Value: event.String("web.1")}, {Key: "sd", Value: event.Object(event.Fields{
			{Key: "origin@1", Value: event.Object(event.Fields{{Key: "ip", Value: event.String("10.0.0.1")}})}})},
	}
	for i := range 2 {
		if err := s.Write(t.Context(), b); err != nil {
			t.Fatalf("Write %d: %v", i, err)
		}
	}
	got := coll.Events()
	testutil.Diff(t, append(batchMessages(b), batchMessages(b)...), messages(got))
	e := got[4]
	testutil.Diff(t, []string{"web1", "api", "local3", "err", "web.1", "10.0.0.1"}, []string{
		e.Host, e.Stream, text(e, "facility"), text(e, "severity"), text(e, "procid"), text(e, "sd.origin@1.ip")})
	testutil.Diff(t, testTime.Truncate(time.Microsecond), e.Timestamp.UTC())
}

// text returns the field at a dotted path as text.
func text(e event.Event, path string) string {
	cur := e.Fields
	parts := strings.Split(path, ".")
	for i, p := range parts {
		v, ok := cur.Get(p)
		if !ok {
			return ""
		}
		if i == len(parts)-1 {
			return v.Text()
		}
		cur = v.Fields()
	}
	return ""
}

// logplexServer records requests and answers with the given status.
type logplexServer struct {
	*httptest.Server
	mu       sync.Mutex
	status   int
	requests []*http.Request
	bodies   []string
}

func newLogplexServer(t *testing.T, status int) *logplexServer {
	ls := &logplexServer{status: status}
	ls.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ls.mu.Lock()
		ls.requests = append(ls.requests, r)
		ls.bodies = append(ls.bodies, string(body))
		ls.mu.Unlock()
		w.WriteHeader(ls.status)
		_, _ = w.Write([]byte("echo " + r.Header.Get("Authorization")))
	}))
	t.Cleanup(ls.Close)
	return ls
}

func TestLogplexRequest(t *testing.T) {
	t.Parallel()
	ls := newLogplexServer(t, http.StatusOK)
	s := newTestSink(t, func(c *Config) {
		c.URL = URL(strings.Replace(ls.URL, "http://", "syslog+http://drain:s3cret@", 1) + "/logs")
	})
	if err := s.Write(t.Context(), events("m", 2)); err != nil {
		t.Fatal(err)
	}
	r := ls.requests[0]
	user, pass, _ := r.BasicAuth()
	testutil.Diff(t, []string{"POST", "/logs", "application/logplex-1", "2", "drain", "s3cret"}, []string{
		r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Logplex-Msg-Count"), user, pass})
	testutil.Diff(t, octet(header+"m-a0")+octet(header+"m-b1"), ls.bodies[0])
}

func TestLogplexStatus(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		status     int
		wantErr    bool
		wantReject bool
	}{
		{"200 delivered", 200, false, false},
		{"204 delivered", 204, false, false},
		{"500 retried", 500, true, false},
		{"503 retried", 503, true, false},
		{"429 retried", 429, true, false},
		{"408 retried", 408, true, false},
		{"425 retried", 425, true, false},
		{"400 rejected", 400, true, true},
		{"401 rejected", 401, true, true},
		{"302 rejected", 302, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ls := newLogplexServer(t, tc.status)
			s := newTestSink(t, func(c *Config) {
				c.URL = URL(strings.Replace(ls.URL, "http://", "syslog+http://u:hunter2@", 1))
			})
			err := s.Write(t.Context(), events("m", 1))
			var rej *component.RejectError
			testutil.Diff(t, tc.wantErr, err != nil)
			testutil.Diff(t, tc.wantReject, errors.As(err, &rej))
			if err != nil && (strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "dTpodW50ZXIy")) {
				t.Errorf("error reveals the password: %v", err)
			}
		})
	}
}

func TestLogplexHTTPS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	ls := &logplexServer{status: 200}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ls.mu.Lock()
		ls.bodies = append(ls.bodies, string(body))
		ls.mu.Unlock()
	}))
	srv.TLS = p.serverTLS(false)
	srv.StartTLS()
	defer srv.Close()
	s := newTestSink(t, func(c *Config) {
		c.URL = URL(strings.Replace(srv.URL, "https://", "syslog+https://", 1) + "/?ca=" + p.caFile)
	})
	if err := s.Write(t.Context(), events("tls", 1)); err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, []string{octet(header + "tls-a0")}, ls.bodies)

	bad := newTestSink(t, func(c *Config) { c.URL = URL(strings.Replace(srv.URL, "https://", "syslog+https://", 1)) })
	if err := bad.Write(t.Context(), events("tls", 1)); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("Write without the CA = %v, want a certificate error", err)
	}
}
