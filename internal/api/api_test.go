package api

import (
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
	s := New(config.API{Listen: "127.0.0.1:0"}, prometheus.NewRegistry(), func() error { return nil },
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
