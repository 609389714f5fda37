package pipeline

// Starting sources: all of them before anything runs at start-up, after
// the ones they replace on a reload, and again with backoff when one fails.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/backoff"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
)

// startTimeout bounds one source's Start (binding, opening directories).
const startTimeout = 30 * time.Second

// StartError is what a reload returns when it applied except for sources
// that could not start (they kept their previous config or were left out).
// Any other error from Apply means that nothing changed.
type StartError struct{ Errs []error }

func (e *StartError) Error() string   { return errors.Join(e.Errs...).Error() }
func (e *StartError) Unwrap() []error { return e.Errs }

// startAll starts every source among ns, all or none: when one fails, the
// ones already started are released (run with a done context) and the
// errors of all that failed are returned.
func startAll(ns []*node) error {
	var errs []error
	var ok []*node
	for _, n := range ns {
		if n.cfg.Kind != component.KindSource {
			continue
		}
		if err := startSource(n); err != nil {
			errs = append(errs, err)
			continue
		}
		ok = append(ok, n)
	}
	if len(errs) == 0 {
		return nil
	}
	for _, n := range ok {
		release(n)
	}
	return errors.Join(errs...)
}

// startSource calls Start on the source of n, if it has one.
func startSource(n *node) error { return startInstance(n.impl, n.cfg) }

// startInstance calls Start on impl, if it has one.
func startInstance(impl any, c *config.Component) error {
	s, ok := impl.(component.Starter)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		return fmt.Errorf("starting %s: %w", c.Name(), err)
	}
	return nil
}

// release lets a source that started but will not run give back what
// Start acquired: by contract, Run with a done context does that.
func release(n *node) {
	if _, ok := n.impl.(component.Starter); !ok {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = n.impl.(component.Source).Run(ctx, func(_ context.Context, b *event.Batch) error {
		b.Ack.Release(ack.Abandoned)
		return context.Canceled
	})
}

// startReplacements starts the new sources of a reload, after the ones
// they replace have stopped (so a listener can move to its new instance).
// A source that cannot start is left out of next; the one it replaced, if
// any, is built again from its old config and runs on. It returns the
// config actually running, so that the next reload tries the new one
// again, and what failed.
func (p *Pipeline) startReplacements(cfg *config.Config, next map[string]*node, newRoutes map[string]routes, started []*node) (*config.Config, []error) {
	var failed []error
	p.startFailures = nil
	running := *cfg
	running.Components = slices.Clone(cfg.Components)
	for _, n := range started {
		if n.cfg.Kind != component.KindSource {
			continue
		}
		err := startSource(n)
		if err == nil {
			continue
		}
		delete(next, n.cfg.ID)
		i := slices.IndexFunc(running.Components, func(c *config.Component) bool { return c.ID == n.cfg.ID })
		running.Components = slices.Delete(running.Components, i, i+1)
		old, ok := p.nodes[n.cfg.ID]
		if !ok || old.cfg.Kind != component.KindSource {
			failed = append(failed, fmt.Errorf("%w; left out", err))
			p.startFailures = append(p.startFailures, Health{ID: n.cfg.ID, Kind: string(n.cfg.Kind), Type: n.cfg.Type,
				State: StateFailed, Error: err.Error(), Since: time.Now()})
			continue
		}
		prev, berr := p.build(p.cfg, old.cfg)
		if berr == nil {
			berr = startSource(prev)
		}
		if berr != nil {
			err = fmt.Errorf("%w; the previous config could not start again either: %w", err, berr)
			failed = append(failed, err)
			p.startFailures = append(p.startFailures, Health{ID: n.cfg.ID, Kind: string(n.cfg.Kind), Type: n.cfg.Type,
				State: StateFailed, Error: err.Error(), Since: time.Now()})
			continue
		}
		r := newRoutes[n.cfg.ID]
		prev.routes.Store(&r)
		next[n.cfg.ID] = prev
		running.Components = append(running.Components, old.cfg)
		p.start(prev)
		failed = append(failed, fmt.Errorf("%w; kept the previous config of %s", err, n.cfg.Name()))
	}
	return &running, failed
}

// sourceBackoff spaces the restarts of a failing source.
var sourceBackoff = backoff.Exponential{Base: time.Second, Max: time.Minute, Jitter: true}

// superviseSource runs a source until ctx is done or its input ends. A Run
// that fails is counted, shows in Health, and is retried with backoff on a
// fresh instance (built and started again from the same config), since a
// source that stops reading silently loses data. With --once a failure
// ends the source instead, and stays in Health for the exit code.
func (p *Pipeline) superviseSource(ctx context.Context, n *node, impl component.Source, log *slog.Logger) {
	bo := sourceBackoff
	for {
		n.health.set(StateRunning, nil)
		began := time.Now()
		err := impl.Run(ctx, n.emitter())
		if ctx.Err() != nil || err == nil || errors.Is(err, context.Canceled) {
			n.health.set(StateFinished, nil)
			return
		}
		n.metrics.Errors.Inc()
		n.health.set(StateFailed, err)
		if p.opts.Once {
			log.Error("source failed", "error", err)
			return
		}
		if time.Since(began) > sourceBackoff.Max {
			bo.Reset() // it ran well for a while: this is a new failure
		}
		for {
			wait := bo.Next()
			log.Error("source failed; restarting", "error", err, "in", wait.Round(time.Millisecond).String())
			if !backoff.Sleep(ctx, wait) {
				return
			}
			if impl, err = p.restart(n); err == nil {
				break
			}
			n.metrics.Errors.Inc()
			n.health.set(StateFailed, err)
		}
	}
}

// restart builds and starts a new instance of a failed source.
func (p *Pipeline) restart(n *node) (component.Source, error) {
	impl, err := n.spec.Build(n.cfg.Options, n.deps)
	if err != nil {
		return nil, fmt.Errorf("building %s again: %w", n.cfg.Name(), err)
	}
	if err := startInstance(impl, n.cfg); err != nil {
		return nil, err
	}
	n.health.restarted()
	return impl.(component.Source), nil
}
