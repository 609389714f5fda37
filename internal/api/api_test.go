package api

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/testutil"
)

// TestMain fails the run if a test leaves a goroutine behind.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestStartPortZero: with port 0 the server reports the port it got, serves
// /healthz there, and Shutdown stops its goroutine.
func TestStartPortZero(t *testing.T) {
	s := New(config.API{Listen: "127.0.0.1:0"}, prometheus.NewRegistry(), func() (any, error) { return nil, nil },
		testutil.Deps(t, "api").Logger)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	addr := s.Addr().String()
	if strings.HasSuffix(addr, ":0") {
		t.Fatalf("Addr() = %s, want the bound port", addr)
	}
	c := &http.Client{Transport: &http.Transport{}}
	resp, err := c.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, "200 ok\n", resp.Status[:3]+" "+string(body))
	c.CloseIdleConnections()
	if err := s.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestHealth: /healthz answers 503 with the error while health fails, 200
// "ok" otherwise; ?verbose and /api/v1/health give the JSON report, the
// latter behind auth.
func TestHealth(t *testing.T) {
	var failing error
	report := []map[string]string{{"id": "in", "state": "running"}}
	s := New(config.API{Listen: "127.0.0.1:0", Auth: config.Auth{Tokens: []config.Secret{"tok"}}}, prometheus.NewRegistry(),
		func() (any, error) { return report, failing }, testutil.Deps(t, "api").Logger)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Transport: &http.Transport{}}
	defer func() {
		c.CloseIdleConnections()
		if err := s.Shutdown(t.Context()); err != nil {
			t.Error(err)
		}
	}()
	get := func(path, token string) string {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, "http://"+s.Addr().String()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Status[:3] + " " + string(body)
	}
	testutil.Diff(t, "200 ok\n", get("/healthz", ""))
	testutil.Diff(t, `200 {"status":"ok","components":[{"id":"in","state":"running"}]}`+"\n", get("/healthz?verbose", ""))
	testutil.Diff(t, "401 unauthorized\n", get("/api/v1/health", ""))
	failing = errors.New("sources.in failed: listening on 127.0.0.1:5514: address already in use")
	report[0]["state"] = "failed"
	testutil.Diff(t, "503 sources.in failed: listening on 127.0.0.1:5514: address already in use\n", get("/healthz", ""))
	testutil.Diff(t, `503 {"status":"failing","error":"sources.in failed: listening on 127.0.0.1:5514: address already in use","components":[{"id":"in","state":"failed"}]}`+"\n",
		get("/api/v1/health", "tok"))
}
