package app

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/sluice-log/sluice/internal/atomicfile"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/telemetry"
)

// Ready is the content of the `sluice run --ready-file`: who is running and
// the addresses actually bound, so a supervisor or test can start sluice
// with port 0 and read the real ports back.
type Ready struct {
	// PID is sluice's process ID.
	PID int `json:"pid"`
	// API is the API's address (host:port, or a unix socket path); absent
	// when the API is off.
	API string `json:"api,omitempty"`
	// Metrics is metrics.listen's address (host:port, or a unix socket
	// path); absent when it is not set.
	Metrics string `json:"metrics,omitempty"`
	// Listeners are the addresses each listening source bound, by source
	// ID: host:port with port 0 resolved, or a unix socket path.
	Listeners map[string][]string `json:"listeners"`
}

// listeningSources are the IDs of cfg's sources whose type binds sockets.
func listeningSources(cfg *config.Config) []string {
	var ids []string
	for _, c := range cfg.Components {
		if spec, ok := component.Lookup(c.Kind, c.Type); ok && c.Kind == component.KindSource && spec.Listens {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// waitListening waits until every source in ids has reported its bound
// addresses, and returns them. It fails only when ctx ends first.
func waitListening(ctx context.Context, m *telemetry.Registry, ids []string) (map[string][]string, error) {
	for {
		all, changed := m.Listeners()
		got := make(map[string][]string, len(ids))
		for id, addrs := range all {
			if slices.Contains(ids, id) {
				got[id] = addrs
			}
		}
		if len(got) == len(ids) {
			return got, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// writeReady waits until every listening source of cfg is bound, then
// writes the ready file at path atomically (a reader never sees it half
// written). api and metrics are the bound addresses of the API and of
// metrics.listen, "" when off.
func writeReady(ctx context.Context, path string, cfg *config.Config, m *telemetry.Registry, api, metrics string) error {
	listeners, err := waitListening(ctx, m, listeningSources(cfg))
	if err != nil {
		return err
	}
	data, err := json.Marshal(Ready{PID: os.Getpid(), API: api, Metrics: metrics, Listeners: listeners})
	if err != nil {
		return fmt.Errorf("encoding ready file: %w", err)
	}
	if err := atomicfile.Write(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing ready file: %w", err)
	}
	return nil
}
