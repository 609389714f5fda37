package httpout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
)

// server answers every request with status, header Retry-After and body,
// and records the bodies it read (gunzipped).
type server struct {
	*httptest.Server
	bodies chan string
}

func newServer(t *testing.T, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{bodies: make(chan string, 100)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			in = zr
		}
		b, _ := io.ReadAll(in)
		s.bodies <- string(b)
		h(w, r)
	}))
	s.Listener.Close()
	s.Listener = ln
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func reply(code int, retryAfter, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

func payload(t *testing.T, gzipped bool, body string) *Payload {
	t.Helper()
	p, err := NewPayload(gzipped, gzip.DefaultCompression)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Finish(t.Context(), append(p.Begin(), body...)); err != nil {
		t.Fatal(err)
	}
	return p
}

func newClient(t *testing.T, o Options) *Client {
	c := New(o)
	t.Cleanup(c.Close)
	return c
}

// kind names an outcome: "ok", "retry" or "reject".
func kind(err error) string {
	var rej *component.RejectError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &rej):
		return "reject"
	}
	return "retry"
}

func TestStatusTable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code int
		want string
	}{
		{200, "ok"}, {201, "ok"}, {204, "ok"},
		{301, "reject"}, {302, "reject"}, {307, "reject"}, {308, "reject"},
		{400, "reject"}, {401, "reject"}, {403, "reject"}, {404, "reject"}, {409, "reject"}, {413, "reject"},
		{408, "retry"}, {425, "retry"}, {429, "retry"},
		{500, "retry"}, {502, "retry"}, {503, "retry"}, {504, "retry"},
	} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.code >= 300 && tc.code < 400 {
					http.Redirect(w, r, "/elsewhere", tc.code)
					return
				}
				reply(tc.code, "", "details "+strings.Repeat("x", 5000))(w, r)
			})
			c := newClient(t, Options{})
			_, err := c.Send(t.Context(), &Request{URL: srv.URL + "/in"}, payload(t, false, "body"))
			testutil.Diff(t, tc.want, kind(err))
			testutil.Diff(t, "body", <-srv.bodies)
			if err == nil {
				return
			}
			var se *StatusError
			if !errors.As(err, &se) || se.Code != tc.code {
				t.Fatalf("error %v does not carry status %d", err, tc.code)
			}
			if len(err.Error()) > 1000 {
				t.Errorf("error is %d bytes long; the body must be bounded", len(err.Error()))
			}
			if tc.code < 400 && !strings.Contains(err.Error(), "redirects are not followed") {
				t.Errorf("redirect error %q does not say redirects are not followed", err)
			}
			select {
			case b := <-srv.bodies:
				t.Errorf("redirect followed, server got a second request %q", b)
			default:
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 3, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		value string
		want  time.Duration
		ok    bool
	}{
		{"seconds", "120", 120 * time.Second, true},
		{"spaces", " 7 ", 7 * time.Second, true},
		{"http date", now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{"rfc 850 date", now.Add(time.Hour).Format("Monday, 02-Jan-06 15:04:05 GMT"), time.Hour, true},
		{"zero", "0", 0, false},
		{"past date", now.Add(-time.Minute).Format(http.TimeFormat), 0, false},
		{"negative", "-5", 0, false},
		{"fraction", "1.5", 0, false},
		{"garbage", "soon", 0, false},
		{"empty", "", 0, false},
		{"huge", "99999999999999999999", 0, false},
		{"very long", "9999999999", component.MaxRetryAfter + time.Second, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := RetryAfter(tc.value, now)
			testutil.Diff(t, tc.ok, ok)
			testutil.Diff(t, tc.want, got)
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	t.Parallel()
	date := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	for _, tc := range []struct {
		name, header string
		code         int
		min, max     time.Duration // 0, 0: no RetryAfterError
	}{
		{"429 seconds", "30", 429, 30 * time.Second, 30 * time.Second},
		{"503 date", date, 503, 58 * time.Minute, time.Hour},
		{"425 seconds", "2", 425, 2 * time.Second, 2 * time.Second},
		{"bad value is a plain retry", "tomorrow", 429, 0, 0},
		{"400 ignores it", "30", 400, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, reply(tc.code, tc.header, "slow down"))
			c := newClient(t, Options{})
			_, err := c.Send(t.Context(), &Request{URL: srv.URL}, payload(t, false, "x"))
			var ra *component.RetryAfterError
			has := errors.As(err, &ra)
			if has != (tc.max > 0) {
				t.Fatalf("error %v: RetryAfterError %v, want %v", err, has, tc.max > 0)
			}
			if has && (ra.After < tc.min || ra.After > tc.max) {
				t.Errorf("After = %v, want %v..%v", ra.After, tc.min, tc.max)
			}
			var se *StatusError
			if !errors.As(err, &se) || se.Code != tc.code {
				t.Errorf("error %v does not carry status %d", err, tc.code)
			}
		})
	}
}

func TestConnectionErrorRetries(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newClient(t, Options{})
	_, err = c.Send(t.Context(), &Request{URL: "http://" + addr + "/"}, payload(t, false, "x"))
	if kind(err) != "retry" {
		t.Fatalf("Send to a closed port = %v, want a transient error", err)
	}
}

func TestScrub(t *testing.T) {
	t.Parallel()
	const password = "hunter2"
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, "bad credentials %s password=%s \xff\xfe end", r.Header.Get("Authorization"), password)
	})
	c := newClient(t, Options{Secrets: []string{"", "dXNlcjpodW50ZXIy", password}})
	h := http.Header{}
	h.Set("Authorization", "Basic dXNlcjpodW50ZXIy")
	_, err := c.Send(t.Context(), &Request{URL: srv.URL, Header: h}, payload(t, false, "x"))
	if err == nil {
		t.Fatal("Send succeeded")
	}
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not a StatusError", err)
	}
	testutil.Diff(t, "bad credentials Basic <redacted> password=<redacted> \ufffd end", se.Body)
	if strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "dXNlcjpodW50ZXIy") {
		t.Errorf("error reveals a secret: %v", err)
	}
}

func TestGzipAndBufferReuse(t *testing.T) {
	t.Parallel()
	for _, gzipped := range []bool{false, true} {
		t.Run(fmt.Sprint("gzip=", gzipped), func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, reply(200, "", `{"ok":true}`))
			c := newClient(t, Options{})
			p, err := NewPayload(gzipped, gzip.BestSpeed)
			if err != nil {
				t.Fatal(err)
			}
			testutil.Diff(t, gzipped, p.Gzip())
			h := http.Header{}
			if gzipped {
				h.Set("Content-Encoding", "gzip")
			}
			for i := range 3 {
				body := strings.Repeat(fmt.Sprintf("line %d\n", i), 100)
				if err := p.Finish(t.Context(), append(p.Begin(), body...)); err != nil {
					t.Fatal(err)
				}
				if gzipped && p.Len() >= len(body) {
					t.Errorf("gzipped body is %d bytes for %d", p.Len(), len(body))
				}
				resp, err := c.Send(t.Context(), &Request{URL: srv.URL, Header: h, ReadBody: 100}, p)
				if err != nil {
					t.Fatal(err)
				}
				testutil.Diff(t, `{"ok":true}`, string(resp.Body))
				testutil.Diff(t, body, <-srv.bodies)
			}
		})
	}
}

func TestBadGzipLevel(t *testing.T) {
	t.Parallel()
	if _, err := NewPayload(true, 42); err == nil {
		t.Fatal("NewPayload accepted gzip level 42")
	}
}

// TestEarlyResponseKeepsNextBodyIntact: a server that answers before it
// read the body leaves the transport holding it; the next body must not be
// written into the same buffer.
func TestEarlyResponseKeepsNextBodyIntact(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	bodies := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.WriteHeader(http.StatusBadRequest) // answer before reading the body
			return
		}
		b, _ := io.ReadAll(r.Body)
		bodies <- string(b)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, Options{})
	p := payload(t, false, strings.Repeat("y", 2<<20))
	if _, err := c.Send(t.Context(), &Request{URL: srv.URL}, p); kind(err) != "reject" {
		t.Fatalf("first Send = %v, want rejected", err)
	}
	for i := range 3 {
		msg := fmt.Sprintf("next-%d", i)
		if err := p.Finish(t.Context(), append(p.Begin(), msg...)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Send(t.Context(), &Request{URL: srv.URL}, p); err != nil {
			t.Fatal(err)
		}
		testutil.Diff(t, msg, <-bodies)
	}
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	c := newClient(t, Options{Timeout: time.Minute})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Send(ctx, &Request{URL: srv.URL}, payload(t, false, "x"))
	if kind(err) != "retry" || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Send = %v, want a transient deadline error", err)
	}
}
