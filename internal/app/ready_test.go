package app

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/telemetry"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type nopSource struct{}

func (nopSource) Run(ctx context.Context, _ component.Emit) error { <-ctx.Done(); return nil }

type nopConfig struct{}

func init() {
	build := func(*nopConfig, component.Deps) (component.Source, error) { return nopSource{}, nil }
	component.MustRegister(component.SourceSpec("app_test_listener", "a listening source for tests", build).Listener())
	component.MustRegister(component.SourceSpec("app_test_reader", "a source that binds nothing", build))
}

// TestWriteReady: the ready file appears only once every listening source
// of the config reported its addresses, and lists just those.
func TestWriteReady(t *testing.T) {
	cfg := &config.Config{Components: []*config.Component{
		{ID: "a", Kind: component.KindSource, Type: "app_test_listener"},
		{ID: "b", Kind: component.KindSource, Type: "app_test_listener"},
		{ID: "r", Kind: component.KindSource, Type: "app_test_reader"},
	}}
	m := telemetry.New(prometheus.NewRegistry())
	path := filepath.Join(t.TempDir(), "run", "ready.json")
	done := make(chan error, 1)
	go func() { done <- writeReady(t.Context(), path, cfg, m, "127.0.0.1:9", "") }()

	m.Component("source", "app_test_listener", "a").Listening(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5514})
	m.Component("source", "other", "gone").Listening(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1})
	if _, err := os.Stat(path); err == nil {
		t.Fatal("ready file written before every listener was bound")
	}
	m.Component("source", "app_test_listener", "b").Listening(
		&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 601}, &net.UnixAddr{Name: "/run/b.sock", Net: "unix"})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got Ready
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, Ready{PID: os.Getpid(), API: "127.0.0.1:9", Listeners: map[string][]string{
		"a": {"127.0.0.1:5514"}, "b": {"127.0.0.1:601", "/run/b.sock"},
	}}, got)
}

// TestWriteReadyCancelled: with a listener that never binds, the writer
// gives up when its context ends and writes nothing.
func TestWriteReadyCancelled(t *testing.T) {
	cfg := &config.Config{Components: []*config.Component{{ID: "a", Kind: component.KindSource, Type: "app_test_listener"}}}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	path := filepath.Join(t.TempDir(), "ready.json")
	if err := writeReady(ctx, path, cfg, telemetry.New(prometheus.NewRegistry()), "", ""); err == nil {
		t.Fatal("writeReady returned nil without listeners")
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("ready file written")
	}
}

// TestNewLoggerRejectsBadLevel: an unknown level is an error, not a silent
// fall back to info.
func TestNewLoggerRejectsBadLevel(t *testing.T) {
	if _, err := newLogger(os.Stderr, config.Log{Level: "loud"}); err == nil {
		t.Error("no error for level loud")
	}
	if _, err := newLogger(os.Stderr, config.Log{Level: "warn"}); err != nil {
		t.Error(err)
	}
}
