package app

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/metrics/prom"
	"github.com/sluice-log/sluice/internal/metrics/store"
	"github.com/sluice-log/sluice/internal/mtail/mtailsink"
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

// reloadMtail re-reads the metrics.mtail programs at SIGHUP, also when
// the section itself did not change (the pipeline then keeps its sink):
// unchanged programs keep their metrics, a program that no longer
// compiles keeps running in its previous version, and the error is
// logged. Sets whose section is gone are dropped.
func (r *runner) reloadMtail(cfg *config.Config) {
	ids := map[string]bool{}
	for _, c := range cfg.Components {
		mc, ok := c.Options.(*mtailsink.Config)
		if !ok {
			continue
		}
		ids[c.ID] = true
		log := r.log.With("component", c.Name())
		if _, err := r.mtail.Apply(c.ID, mc.SetConfig(component.Deps{Logger: log})); err != nil {
			log.Error("reload: mtail programs: the previous version of each broken program keeps running", "error", err)
		}
	}
	r.mtail.Retain(func(id string) bool { return ids[id] })
}

// printSeries writes the rules' series, then the mtail programs', in the
// Prometheus text format: what `sluice run --once` prints once everything
// is delivered (mtail's --one_shot prints its programs' metrics, not its
// own). The rules' series are streamed family by family (prom.WriteText)
// rather than gathered, which builds a message per series first: a
// million series must not cost GBs. Each mtail collector is gathered on
// its own, so a name both use cannot make the other's series disappear.
func printSeries(w io.Writer, s *store.Store, cs ...prometheus.Collector) error {
	if err := prom.WriteText(w, s); err != nil {
		return err
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, c := range cs {
		reg := prometheus.NewRegistry()
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("registering the series: %w", err)
		}
		mfs, err := reg.Gather()
		if err != nil {
			return fmt.Errorf("gathering the series: %w", err)
		}
		for _, mf := range mfs {
			if err := enc.Encode(mf); err != nil {
				return fmt.Errorf("writing metrics: %w", err)
			}
		}
	}
	return nil
}
