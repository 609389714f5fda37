package push

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/metrics/store"
	"github.com/sluice-log/sluice/internal/pipeline"
)

// Manager runs the pushers of the config in force: Apply starts new ones,
// stops removed or changed ones (each pushes its last values first) and
// leaves unchanged ones running, so a statsd pusher's deltas carry across a
// reload.
type Manager struct {
	store *store.Store
	m     *Metrics
	log   *slog.Logger

	mu      sync.Mutex
	running map[string]*Pusher
	stopped map[string]*Pusher // after Stop: how the last ones ended
}

// NewManager returns a manager pushing s, counting in m.
func NewManager(s *store.Store, m *Metrics, log *slog.Logger) *Manager {
	return &Manager{store: s, m: m, log: log, running: map[string]*Pusher{}}
}

// Apply makes cfgs (validated, defaults set) the running pushers. A pusher
// that cannot be built is left out, and its error returned; the others run.
func (m *Manager) Apply(cfgs map[string]config.Pusher) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for name, p := range m.running {
		if c, ok := cfgs[name]; !ok || !reflect.DeepEqual(c, p.cfg) {
			m.stopOne(p)
			delete(m.running, name)
		}
	}
	names := make([]string, 0, len(cfgs))
	for name := range cfgs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, ok := m.running[name]; ok {
			continue
		}
		p, err := New(name, cfgs[name], m.store, m.m, m.log)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p.Start()
		m.running[name] = p
	}
	return errors.Join(errs...)
}

// stopOne stops p, giving its final push p's timeout.
func (m *Manager) stopOne(p *Pusher) {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.Timeout.D())
	defer cancel()
	p.Stop(ctx)
}

// Stop pushes every pusher's final values, in parallel, and stops them,
// giving up on what is not sent within grace.
func (m *Manager) Stop(grace time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	var wg sync.WaitGroup
	for _, p := range m.running {
		wg.Go(func() { p.Stop(ctx) })
	}
	wg.Wait()
	m.stopped = m.running
	m.running = map[string]*Pusher{}
}

// Health reports every pusher, by name; after Stop, how each ended.
func (m *Manager) Health() []pipeline.Health {
	m.mu.Lock()
	defer m.mu.Unlock()
	src := m.running
	if len(src) == 0 {
		src = m.stopped
	}
	out := make([]pipeline.Health, 0, len(src))
	for _, p := range src {
		out = append(out, p.Health())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
