package live

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/api"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/testutil"
)

// apiPeer is a real api server (sluice's listener, with its auth and TLS)
// with a live sink's routes mounted, as internal/app builds it.
type apiPeer struct {
	URL    string
	token  string
	client *http.Client
}

func (p *apiPeer) Client() *http.Client { return p.client }

// startAPI starts an api server with cfg and returns it with its mounts.
func startAPI(t testing.TB, cfg config.API) (*api.Server, *api.Mounts) {
	t.Helper()
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:0"
	}
	m := api.NewMounts()
	s := api.New(cfg, prometheus.NewRegistry(), func() (any, error) { return nil, nil }, testutil.Deps(t, "api").Logger)
	s.Handle(api.MountsPrefix, m)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5e9)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s, m
}

// newAPIServer serves s's routes on a plain-HTTP api listener, with a
// bearer token required when token is set.
func newAPIServer(t testing.TB, s *Sink, token string) *apiPeer {
	t.Helper()
	var cfg config.API
	if token != "" {
		cfg.Auth.Tokens = []config.Secret{config.Secret(token)}
	}
	srv, m := startAPI(t, cfg)
	unmount := m.Mount(RoutePrefix, s.Handler())
	t.Cleanup(unmount)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &apiPeer{URL: "http://" + srv.Addr().String(), token: token, client: &http.Client{Transport: tr}}
}

// get makes a GET with the peer's token.
func (p *apiPeer) get(ctx context.Context, t testing.TB, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.token != "" {
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// getJSON GETs path and decodes a JSON answer into v.
func (p *apiPeer) getJSON(t testing.TB, path string, v any) int {
	t.Helper()
	resp := p.get(t.Context(), t, path)
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: decoding: %v", path, err)
	}
	return resp.StatusCode
}
