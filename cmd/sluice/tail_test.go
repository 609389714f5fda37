package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/api"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/sink/live"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/proctest"
)

// liveServer is a real api listener (TLS, bearer token) with a live sink
// mounted, as `sluice run` serves it.
func liveServer(t *testing.T, cfg config.API) (*live.Sink, string) {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	m := api.NewMounts()
	srv := api.New(cfg, prometheus.NewRegistry(), func() (any, error) { return nil, nil }, testutil.Deps(t, "api").Logger)
	srv.Handle(api.MountsPrefix, m)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	deps := testutil.Deps(t, "live")
	deps.HTTP = m
	sk, err := live.New(testutil.NewConfig[live.Config](t, nil), deps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sk.Close(context.Background()) })
	return sk.(*live.Sink), srv.Addr().String()
}

func writeLines(t *testing.T, s *live.Sink, stream string, from, n int) {
	t.Helper()
	b := &event.Batch{}
	for i := from; i < from+n; i++ {
		b.Events = append(b.Events, event.Event{Timestamp: time.Now(), Host: "h", Stream: stream,
			Message: fmt.Appendf(nil, "%s %d", stream, i)})
	}
	if err := s.Write(t.Context(), b); err != nil {
		t.Fatal(err)
	}
}

// runTailAsync runs `sluice tail` in-process until the test cancels it.
func runTailAsync(t *testing.T, o *tailOptions) (stdout, stderr *proctest.SyncBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	stdout, stderr = &proctest.SyncBuffer{}, &proctest.SyncBuffer{}
	code := make(chan int, 1)
	go func() { code <- runTail(ctx, o, stdout, stderr) }()
	return stdout, stderr, func() int { cancel(); return <-code }
}

// TestTailTLSToken follows a server over TLS with a bearer token, with a
// grep; the wrong token is refused with exit code 2.
func TestTailTLSToken(t *testing.T) {
	t.Parallel()
	ca := testutil.NewCA(t)
	leaf := ca.Issue(t, "127.0.0.1")
	s, addr := liveServer(t, config.API{TLS: config.ServerTLS{Cert: leaf.CertFile, Key: leaf.KeyFile},
		Auth: config.Auth{Tokens: []config.Secret{"s3cret"}}})
	writeLines(t, s, "api", 0, 20)
	o := &tailOptions{server: "https://" + addr, tlsCA: ca.File, token: "s3cret", streams: []string{"api"}, grep: " 1[0-9]*$", last: 15}
	out, errOut, stop := runTailAsync(t, o)
	testutil.WaitFor(t, 10*time.Second, "the backlog lines 10..19", func() bool { return strings.Count(out.String(), "\n") == 10 })
	writeLines(t, s, "api", 20, 100)
	testutil.WaitFor(t, 10*time.Second, "the new lines 100..119 less 20..99", func() bool { return strings.Contains(out.String(), "api api 119\n") })
	testutil.Diff(t, 0, stop())
	var want strings.Builder
	for i := range 10 {
		fmt.Fprintf(&want, "api api 1%d\n", i)
	}
	for i := 100; i < 120; i++ {
		fmt.Fprintf(&want, "api api %d\n", i)
	}
	testutil.Diff(t, want.String(), out.String())
	testutil.Diff(t, "", errOut.String())

	bad := *o
	bad.token = "wrong"
	var stdout, stderr proctest.SyncBuffer
	testutil.Diff(t, 2, runTail(t.Context(), &bad, &stdout, &stderr))
	if !strings.Contains(stderr.String(), "401 Unauthorized") {
		t.Errorf("stderr %q, want the 401 named", stderr.String())
	}
}

// TestTailReconnects: when the connection drops, tail reconnects and
// resumes after the last line it showed: the lines written meanwhile
// arrive once, none twice.
func TestTailReconnects(t *testing.T) {
	t.Parallel()
	sk, err := live.New(testutil.NewConfig[live.Config](t, nil), testutil.Deps(t, "live"))
	if err != nil {
		t.Fatal(err)
	}
	s := sk.(*live.Sink)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	out, errOut, stop := runTailAsync(t, &tailOptions{server: srv.URL, json: false})
	testutil.WaitFor(t, 10*time.Second, "tail to connect", func() bool {
		resp, err := http.Get(srv.URL + "/api/v1/live/streams")
		if err == nil {
			resp.Body.Close()
		}
		writeLines(t, s, "probe", 0, 1)
		return strings.Contains(out.String(), "probe 0")
	})
	writeLines(t, s, "x", 0, 5)
	testutil.WaitFor(t, 10*time.Second, "x 4", func() bool { return strings.Contains(out.String(), "x 4\n") })
	srv.CloseClientConnections()
	writeLines(t, s, "x", 5, 5)
	testutil.WaitFor(t, 10*time.Second, "x 9 after reconnecting", func() bool { return strings.Contains(out.String(), "x 9\n") })
	testutil.Diff(t, 0, stop())
	var xs []string
	for _, l := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(l, "x x ") {
			xs = append(xs, l)
		}
	}
	testutil.Diff(t, []string{"x x 0", "x x 1", "x x 2", "x x 3", "x x 4", "x x 5", "x x 6", "x x 7", "x x 8", "x x 9"}, xs)
	if !strings.Contains(errOut.String(), "reconnecting") {
		t.Errorf("stderr %q does not say it reconnected", errOut.String())
	}
}
