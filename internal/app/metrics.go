package app

import (
	"context"
	"io"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/metrics/prom"
	"github.com/sluice-log/sluice/internal/metrics/store"
)

// startMetrics opens metrics.listen, when set: /metrics on a listener of
// its own. Like the api's, a listener that cannot start fails start-up.
func (r *runner) startMetrics(cfg *config.Config) error {
	if cfg.Metrics.Listen == "" {
		return nil
	}
	s := prom.NewServer(cfg.Metrics, r.reg, r.log.With("component", "metrics"))
	if err := s.Start(); err != nil {
		return err
	}
	r.mserv = s
	return nil
}

func (r *runner) stopMetrics() {
	if r.mserv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.mserv.Shutdown(ctx); err != nil {
		r.log.Warn("stopping metrics listener", "error", err)
	}
	r.mserv = nil
}

// metricsAddr is the metrics listener's bound address, "" when off.
func (r *runner) metricsAddr() string {
	if r.mserv == nil {
		return ""
	}
	return r.mserv.Addr().String()
}

// reloadMetrics restarts the metrics listener when its settings changed;
// when the new ones cannot start, the old ones are kept (and stay the
// running config's, so the next reload tries again).
func (r *runner) reloadMetrics(cfg *config.Config) {
	old := r.cfg.Metrics
	if old.Listen == cfg.Metrics.Listen && sameAPI(&config.API{TLS: old.TLS, Auth: old.Auth},
		&config.API{TLS: cfg.Metrics.TLS, Auth: cfg.Metrics.Auth}) {
		return
	}
	r.stopMetrics() // first: the new listener may take the same address
	if err := r.startMetrics(cfg); err != nil {
		r.log.Error("reload: the new metrics listener cannot start; keeping the previous one", "error", err)
		cfg.Metrics.Listen, cfg.Metrics.TLS, cfg.Metrics.Auth = old.Listen, old.TLS, old.Auth
		if err := r.startMetrics(cfg); err != nil {
			r.log.Error("restarting the metrics listener on its previous config", "error", err)
		}
	}
}

// printSeries writes the rules' series in the Prometheus text format: what
// `sluice run --once` prints once everything is delivered (mtail's
// --one_shot prints its programs' metrics, not its own). It streams them
// family by family (prom.WriteText) rather than through Gather, which
// builds a message per series first: a million series must not cost GBs.
func printSeries(w io.Writer, s *store.Store) error {
	return prom.WriteText(w, s)
}
