// Package drains is the per-app drain router: one sink, fed by inputs like
// any other, that sends each event to the drains of its app (the value of
// app_field, default stream). Drains are data: they come from the config's
// static routes and from the HTTP API (persisted under data_dir), and
// change at run time without a restart.
//
// Each (app, drain URL) pair is an instance with its own sink, its own
// bounded queue and its own delivery goroutine, so one dead, slow or
// misconfigured drain only fills and drops from its own queue: the router
// never waits on it, and the other drains see no difference. The router
// acknowledges a batch upstream once every event is in the queue of every
// drain it goes to (or counted as dropped there).
package drains

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/drainurl"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/telemetry"
)

// Type is the component type the drains section compiles into.
const Type = "drains"

func init() {
	component.MustRegister(component.SinkSpec(Type,
		"Route each app's events to that app's drains, changed at run time (the top-level drains section).", New))
}

// Origin says where a route comes from.
const (
	OriginStatic = "static"
	OriginAPI    = "api"
	// OriginPostgres routes come from the drains table (drains.postgres).
	OriginPostgres = "postgres"
)

// route is one app's use of one drain URL.
type route struct {
	App       string `json:"app"`
	URL       string `json:"url"`
	Origin    string `json:"-"`
	CreatedAt string `json:"created_at"`
}

// Router is the drains sink. Write and the route changes of the API are
// serialized by mu; pushing into a drain's queue never blocks, so a route
// change waits at most for one batch to be routed.
type Router struct {
	cfg     *Config
	deps    component.Deps
	store   *store
	unmount func()

	mu        sync.RWMutex
	routes    map[string]*route      // by drain id
	instances map[string]*instance   // by drain id
	byApp     map[string][]*instance // what Write reads
	unrouted  *instance
	touched   []*instance // Write's scratch: instances with pending events
	closed    bool

	mUnrouted prometheus.Counter

	stopWatch context.CancelFunc // the datasources' goroutines
	watching  sync.WaitGroup
	closing   sync.WaitGroup // removed drains still flushing
}

// New builds the router, loads the API's persisted routes and mounts the
// API when there is an api listener.
func New(c *Config, deps component.Deps) (component.Sink, error) {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Router{cfg: c, deps: deps, routes: map[string]*route{}, instances: map[string]*instance{},
		byApp: map[string][]*instance{}, store: &store{dir: deps.DataDir}}
	if deps.Metrics != nil {
		r.mUnrouted = deps.Metrics.Counter("drain_unrouted_events_total", "Events of apps without a drain.", nil)
	}
	for app, urls := range c.Static {
		for _, u := range urls {
			if _, err := r.add(app, u, OriginStatic, ""); err != nil {
				r.closeAll(context.Background())
				return nil, err
			}
		}
	}
	saved, err := r.store.load()
	if err != nil {
		r.closeAll(context.Background())
		return nil, err
	}
	for _, rt := range saved {
		if _, err := r.add(rt.App, rt.URL, OriginAPI, rt.CreatedAt); err != nil {
			deps.Logger.Error("skipping a saved drain", "app", rt.App, "error", err)
		}
	}
	if c.Unrouted != "" {
		in, err := r.newInstance("unrouted", "", c.Unrouted)
		if err != nil {
			r.closeAll(context.Background())
			return nil, err
		}
		r.unrouted = in
	}
	r.watch()
	if deps.HTTP != nil {
		r.unmount = deps.HTTP.Mount(RoutePrefix, r.Handler())
	}
	return r, nil
}

// DrainID is the id of an app's drain: stable across restarts, so a saved
// or static route keeps its id and its metrics series.
func DrainID(app, url string) string {
	h := sha256.Sum256([]byte(app + "\x00" + url))
	return "d." + hex.EncodeToString(h[:8])
}

// newInstance builds the sink of a drain URL and starts its delivery.
func (r *Router) newInstance(id, app, raw string) (*instance, error) {
	ss, err := r.cfg.sinkConfig(raw)
	if err != nil {
		return nil, err
	}
	d, _ := drainurl.Parse(raw) // sinkConfig parsed it already
	deps := r.deps
	deps.ID = r.deps.ID + "." + id
	deps.HTTP = nil
	deps.Logger = r.deps.Logger.With("drain", id)
	if deps.Metrics == nil {
		deps.Metrics = telemetry.Discard("sink", ss.spec.Type, deps.ID)
	}
	impl, err := ss.spec.Build(ss.opts, deps)
	if err != nil {
		return nil, fmt.Errorf("building drain %s: %w", d, err)
	}
	return newInstance(id, app, d.String(), impl.(component.Sink), r.cfg, r.deps.Metrics, r.deps.Logger), nil
}

// add creates the route (and its drain) unless it exists; it returns the
// drain id and whether it was created. Errors are the URL's.
func (r *Router) add(app, raw, origin, created string) (string, error) {
	id := DrainID(app, raw)
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.routes[id]; ok {
		return id, errExists
	}
	if r.closed {
		return "", errClosed
	}
	in, err := r.newInstance(id, app, raw)
	if err != nil {
		return "", err
	}
	if created == "" {
		created = nowString()
	}
	r.routes[id] = &route{App: app, URL: raw, Origin: origin, CreatedAt: created}
	r.instances[id] = in
	r.byApp[app] = append(r.byApp[app], in)
	return id, nil
}

// remove takes an API route away; its drain flushes and closes in the
// background. It returns the route with that id (nil if none) and whether
// it was removed: only an API route of app is.
func (r *Router) remove(app, id string) (*route, bool) {
	return r.removeIf(id, func(rt *route) bool { return rt.App == app && rt.Origin == OriginAPI })
}

// removeIf removes the route id if ok says so.
func (r *Router) removeIf(id string, ok func(*route) bool) (*route, bool) {
	r.mu.Lock()
	rt, found := r.routes[id]
	if !found || !ok(rt) {
		r.mu.Unlock()
		return rt, false
	}
	in := r.instances[id]
	delete(r.routes, id)
	delete(r.instances, id)
	list := r.byApp[rt.App]
	out := make([]*instance, 0, len(list))
	for _, x := range list {
		if x != in {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		delete(r.byApp, rt.App)
	} else {
		r.byApp[rt.App] = out
	}
	r.mu.Unlock()
	r.closing.Go(func() { in.close(context.Background()) })
	return rt, true
}

// replace makes the routes of origin exactly want (app → drain URLs), for
// a datasource that reports its whole table: routes no longer there are
// removed, new ones added. A route another origin already has is left to
// it. It returns why the routes that could not be used were refused.
func (r *Router) replace(origin string, want map[string][]string) []error {
	type appURL struct{ app, url string }
	ids := map[string]appURL{}
	for app, urls := range want {
		for _, u := range urls {
			ids[DrainID(app, u)] = appURL{app, u}
		}
	}
	r.mu.RLock()
	var stale []string
	for id, rt := range r.routes {
		if _, keep := ids[id]; rt.Origin == origin && !keep {
			stale = append(stale, id)
		}
	}
	r.mu.RUnlock()
	for _, id := range stale {
		r.removeIf(id, func(rt *route) bool { return rt.Origin == origin })
	}
	var bad []error
	for _, au := range ids {
		if _, err := r.add(au.app, au.url, origin, ""); err != nil && !errors.Is(err, errExists) {
			bad = append(bad, fmt.Errorf("app %s: %w", au.app, err))
		}
	}
	return bad
}

// Write routes each event to the queues of its app's drains. It never
// waits on a drain: a full queue drops its oldest events.
func (r *Router) Write(_ context.Context, b *event.Batch) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var unrouted int
	for i := range b.Events {
		e := &b.Events[i]
		ins := r.byApp[r.appOf(e)]
		if len(ins) == 0 {
			unrouted++
			if r.unrouted != nil {
				r.stage(r.unrouted, e)
			}
			continue
		}
		for _, in := range ins {
			r.stage(in, e)
		}
	}
	for _, in := range r.touched {
		in.push(in.pending)
		clear(in.pending) // the queue holds its own copies
		in.pending = in.pending[:0]
	}
	clear(r.touched)
	r.touched = r.touched[:0]
	if unrouted > 0 && r.mUnrouted != nil {
		r.mUnrouted.Add(float64(unrouted))
	}
	return nil
}

// stage adds e to in's pending events. Write runs on one goroutine, and
// route changes take the write lock, so pending and touched are not shared.
func (r *Router) stage(in *instance, e *event.Event) {
	if len(in.pending) == 0 {
		r.touched = append(r.touched, in)
	}
	in.pending = append(in.pending, *e)
}

// appOf is the app an event belongs to.
func (r *Router) appOf(e *event.Event) string {
	switch r.cfg.AppField {
	case event.KeyStream:
		return e.Stream
	case event.KeyHost:
		return e.Host
	}
	v, ok := e.Get(r.cfg.AppField)
	if !ok || v.Kind() != event.KindString {
		return ""
	}
	return v.Str()
}

// Close unmounts the API and flushes and closes every drain, in parallel.
func (r *Router) Close(ctx context.Context) error {
	if r.unmount != nil {
		r.unmount()
	}
	if r.stopWatch != nil {
		r.stopWatch()
		r.watching.Wait()
	}
	r.closeAll(ctx)
	return nil
}

func (r *Router) closeAll(ctx context.Context) {
	r.mu.Lock()
	r.closed = true
	all := make([]*instance, 0, len(r.instances)+1)
	for _, in := range r.instances {
		all = append(all, in)
	}
	if r.unrouted != nil {
		all = append(all, r.unrouted)
	}
	r.byApp = map[string][]*instance{}
	r.unrouted = nil
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, in := range all {
		wg.Go(func() { in.close(ctx) })
	}
	wg.Wait()
	r.closing.Wait()
}

var _ component.Sink = (*Router)(nil)
