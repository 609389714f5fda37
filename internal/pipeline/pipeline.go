// Package pipeline runs a configured graph of components and changes it in
// place on reload.
//
// Sources emit batches into the input buffers of the transforms and sinks
// that list them; a full buffer blocks the emitter, so backpressure reaches
// the sources and nothing is dropped unless a sink's buffer says
// drop_newest. A reload starts new or changed components, switches every
// routing table to the new graph at once, then retires the replaced
// components upstream-first: sources stop (committing what was
// acknowledged), transforms and sinks drain their inputs. Unchanged
// components keep running throughout, and no event is lost.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/backoff"
	"github.com/sluice-log/sluice/internal/buffer"
	"github.com/sluice-log/sluice/internal/buffer/memory"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/metrics/store"
	"github.com/sluice-log/sluice/internal/telemetry"
)

// transformQueue is how many batches wait in front of a transform, and
// transformQueueBytes the most bytes they hold: a transform keeps up with
// its source or not, and a deeper queue only holds memory (bench/metrics.sh
// case a: 64 MB allowed 8,000 queued lines, 2.7 MB of messages).
const (
	transformQueue      = 8
	transformQueueBytes = 1 << 20
)

// Options are the pipeline's surroundings.
type Options struct {
	Logger  *slog.Logger
	Metrics *telemetry.Registry
	// MetricsStore holds the series of metrics rules, across reloads.
	MetricsStore *store.Store
	// MtailHost holds the metrics.mtail programs, across reloads.
	MtailHost any
	// HTTP mounts component routes on the api listener; nil without one.
	HTTP component.Mounter
	// Once makes sources read to the end of their input and stop.
	Once bool
	// GiveUpAfter, when positive, makes a sink abandon a batch whose
	// writes have failed for that long, instead of retrying it forever:
	// with Once, a destination that stays down must not hold the batch
	// job (and its sources, waiting for acknowledgement) for ever. What is
	// abandoned counts in Undelivered.
	GiveUpAfter time.Duration
	// ReloadDrain bounds how long a replaced transform or sink may take to
	// hand over what it holds during a reload (default 10s). A sink whose
	// destination is down would otherwise hold the reload, and every later
	// one, forever; past the bound its backlog is abandoned, so the sources
	// replay it.
	ReloadDrain time.Duration
	// BufferFactory builds a sink buffer other than memory (disk); nil
	// allows memory buffers only.
	BufferFactory func(c *config.Component, dir string, m *telemetry.Component) (buffer.Buffer, error)
}

// Pipeline is a running graph.
type Pipeline struct {
	opts Options

	mu      sync.Mutex
	cfg     *config.Config
	nodes   map[string]*node
	sources sync.WaitGroup // running source goroutines, for Wait

	hardCtx    context.Context // cancelled only when draining must give up
	hardCancel context.CancelFunc

	// undelivered counts events given up on (see Undelivered).
	undelivered atomic.Int64
	// rejected counts events destinations refused for good (see Rejected).
	rejected atomic.Int64

	// startFailures are the new sources of the last reload that could not
	// start and were left out (they show as failed until a reload fixes
	// them).
	startFailures []Health
	// health is what Health reports (see healthView).
	health atomic.Pointer[healthView]
	// stopping is set by Stop: the last apply keeps the stopped nodes in
	// the health view.
	stopping bool
}

// New returns an empty pipeline; Apply gives it a graph.
func New(opts Options) *Pipeline {
	ctx, cancel := context.WithCancel(context.Background())
	return &Pipeline{opts: opts, nodes: map[string]*node{}, hardCtx: ctx, hardCancel: cancel}
}

// Apply makes cfg the running graph. Components whose ID, configuration and
// inputs are unchanged keep running; the rest are started or retired. If a
// new component cannot be built, nothing changes and the error is returned.
// Sources are started (component.Starter) before they run: on the first
// Apply every source starts before anything runs, and one that cannot
// start fails Apply with nothing running. On a reload a changed source
// that cannot start keeps its previous instance, and a new one is left
// out; the rest of the reload applies, and the error says what was kept.
func (p *Pipeline) Apply(cfg *config.Config) error {
	drain := p.opts.ReloadDrain
	if drain <= 0 {
		drain = 10 * time.Second
	}
	return p.apply(cfg, drain)
}

// apply is Apply with a bound on draining replaced components; 0 means no
// bound (shutdown, where the grace period bounds everything).
func (p *Pipeline) apply(cfg *config.Config, drain time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Hold Wait open while sources are swapped, so it cannot return in the
	// moment between an old source stopping and its replacement starting.
	p.sources.Add(1)
	defer p.sources.Done()
	first := len(p.nodes) == 0
	next := map[string]*node{}
	var started []*node
	for _, c := range cfg.Components {
		if old, ok := p.nodes[c.ID]; ok && sameComponent(old.cfg, c) {
			next[c.ID] = old
			continue
		}
		n, err := p.build(cfg, c)
		if err != nil {
			for _, s := range started {
				p.discard(s)
			}
			return fmt.Errorf("building %s: %w", c.Name(), err)
		}
		next[c.ID] = n
		started = append(started, n)
	}
	if first {
		if err := startAll(started); err != nil {
			for _, s := range started {
				p.discard(s)
			}
			return err
		}
	}
	// Route every node of the new graph; retired nodes keep draining into
	// their replacement's consumers, or into their old ones if removed.
	newRoutes := routeTable(cfg, next)
	for id, n := range next {
		r := newRoutes[id]
		n.routes.Store(&r)
	}
	var retiring []*node
	for _, c := range topoOrder(p.cfg) {
		old := p.nodes[c.ID]
		if next[c.ID] == old {
			continue
		}
		if r, ok := newRoutes[c.ID]; ok {
			old.routes.Store(&r)
		}
		retiring = append(retiring, old)
	}
	// Consumers start before the old sources stop, so those can still
	// deliver and commit; a changed source is stopped before its
	// replacement starts, so the two never read the same input at once.
	for _, n := range started {
		if n.cfg.Kind != component.KindSource {
			p.start(n)
		}
	}
	for _, n := range retiring {
		if n.cfg.Kind == component.KindSource {
			p.stop(n, 0)
		}
	}
	var failed []error
	if !first {
		cfg, failed = p.startReplacements(cfg, next, newRoutes, started)
	}
	for _, n := range started {
		if n.cfg.Kind == component.KindSource && next[n.cfg.ID] == n {
			p.start(n)
		}
	}
	for _, n := range retiring {
		if n.cfg.Kind != component.KindSource {
			p.stop(n, drain)
		}
	}
	p.cfg, p.nodes = cfg, next
	p.publishHealth(next, p.stopping)
	if len(failed) > 0 {
		return &StartError{Errs: failed}
	}
	return nil
}

func sameComponent(a, b *config.Component) bool {
	if a.Kind != b.Kind || a.Hash != b.Hash || len(a.Inputs) != len(b.Inputs) {
		return false
	}
	for i := range a.Inputs {
		if a.Inputs[i] != b.Inputs[i] {
			return false
		}
	}
	return true
}

// routeTable computes, for every producing node, which nodes consume each
// of its outputs.
func routeTable(cfg *config.Config, nodes map[string]*node) map[string]routes {
	t := map[string]routes{}
	for _, c := range cfg.Components {
		if c.Kind != component.KindSink {
			t[c.ID] = routes{}
		}
	}
	for _, c := range cfg.Components {
		for _, in := range c.Inputs {
			id, output := splitInput(in, t)
			t[id][output] = append(t[id][output], nodes[c.ID])
		}
	}
	return t
}

// splitInput turns "route.errors" into ("route", "errors"); a plain ID is
// the default output. IDs cannot contain dots, so the first dot splits.
func splitInput(in string, t map[string]routes) (string, string) {
	if _, ok := t[in]; ok {
		return in, ""
	}
	for i := 0; i < len(in); i++ {
		if in[i] == '.' {
			return in[:i], in[i+1:]
		}
	}
	return in, ""
}

func (p *Pipeline) build(cfg *config.Config, c *config.Component) (*node, error) {
	spec, ok := component.Lookup(c.Kind, c.Type)
	if !ok {
		return nil, fmt.Errorf("unknown %s type %q", c.Kind, c.Type)
	}
	m := p.opts.Metrics.Component(string(c.Kind), c.Type, c.ID)
	deps := component.Deps{
		ID:      c.ID,
		Logger:  p.opts.Logger.With("component", c.Name()),
		DataDir: filepath.Join(cfg.DataDir, c.Kind.Plural(), c.ID),
		Metrics: m,
		Once:    p.opts.Once,

		MetricsStore: p.opts.MetricsStore,
		MtailHost:    p.opts.MtailHost,
		HTTP:         p.opts.HTTP,
	}
	impl, err := spec.Build(c.Options, deps)
	if err != nil {
		return nil, err
	}
	n := &node{cfg: c, impl: impl, metrics: m, done: make(chan struct{}), spec: spec, deps: deps}
	n.health.set(StateRunning, nil)
	empty := routes{}
	n.routes.Store(&empty)
	switch c.Kind {
	case component.KindTransform:
		n.in = memory.New(transformQueue*1000, transformQueueBytes, false, m)
	case component.KindSink:
		if c.Buffer.Type == "memory" {
			n.in = memory.New(c.Buffer.MaxEvents, int64(c.Buffer.MaxSize), c.Buffer.WhenFull == "drop_newest", m)
			break
		}
		if p.opts.BufferFactory == nil {
			return nil, fmt.Errorf("buffer type %q is not available", c.Buffer.Type)
		}
		if n.in, err = p.opts.BufferFactory(c, deps.DataDir, m); err != nil {
			return nil, fmt.Errorf("opening %s buffer: %w", c.Buffer.Type, err)
		}
	}
	return n, nil
}

// shutdowner is implemented by durable buffers that can stop at once and
// keep their backlog for the next start, instead of draining it.
type shutdowner interface{ Shutdown() }

// discard releases a node that was built but never started.
func (p *Pipeline) discard(n *node) {
	if s, ok := n.impl.(component.Sink); ok {
		_ = s.Close(context.Background())
	}
	if sd, ok := n.in.(shutdowner); ok {
		sd.Shutdown()
	} else if n.in != nil {
		n.in.Close()
	}
}

func (p *Pipeline) start(n *node) {
	log := p.opts.Logger.With("component", n.cfg.Name())
	switch impl := n.impl.(type) {
	case component.Source:
		ctx, cancel := context.WithCancel(context.Background())
		n.cancel = cancel
		p.sources.Add(1)
		go func() {
			defer p.sources.Done()
			defer close(n.done)
			p.superviseSource(ctx, n, impl, log)
		}()
	case component.Transform:
		ctx, cancel := context.WithCancel(p.hardCtx)
		n.cancel = cancel
		go func() {
			defer close(n.done)
			p.runTransform(ctx, n, impl, log)
		}()
	case component.Sink:
		_, durable := n.in.(shutdowner)
		r := &sinkRunner{sink: impl, buf: n.in, batch: n.cfg.Batch, metrics: n.metrics, log: log,
			health: &n.health, undelivered: &p.undelivered, rejected: &p.rejected, durable: durable,
			giveUp: p.opts.GiveUpAfter,
			retry:  backoff.Exponential{Base: n.cfg.Retry.InitialBackoff.D(), Max: n.cfg.Retry.MaxBackoff.D(), Jitter: true}}
		if p.opts.Once {
			// A batch job has its input at hand: waiting for a partial batch
			// to fill would only delay the end, where sources wait for acks.
			r.batch.Timeout = min(r.batch.Timeout, config.Duration(10*time.Millisecond))
		}
		ctx, cancel := context.WithCancel(p.hardCtx)
		n.cancel = cancel
		go func() {
			defer close(n.done)
			r.run(ctx)
			if err := impl.Close(p.hardCtx); err != nil {
				log.Error("closing sink", "error", err)
			}
			// A durable buffer keeps its backlog for the next start; what a
			// memory buffer still holds after a hard stop is abandoned, to
			// be replayed by the sources.
			if sd, ok := n.in.(shutdowner); ok {
				left, _ := n.in.Len()
				p.undelivered.Add(int64(left))
				sd.Shutdown()
				return
			}
			p.abandonUntilClosed(n.in)
		}()
	}
}

// abandonUntilClosed releases every batch still pushed into in as
// Abandoned, until in is closed and empty.
func (p *Pipeline) abandonUntilClosed(in buffer.Buffer) {
	for {
		b, err := in.Pop(context.Background())
		if err != nil {
			return
		}
		p.undelivered.Add(int64(len(b.Events)))
		b.Ack.Release(ack.Abandoned)
	}
}

// Rejected counts the events destinations refused for good (they count as
// done: sources commit past them). `sluice run --once` fails when it is not
// zero.
func (p *Pipeline) Rejected() int64 { return p.rejected.Load() }

// Undelivered counts the events the pipeline gave up on: abandoned by a
// hard stop or a failing transform (sources that can replay read them
// again at the next start), plus those a disk buffer still held when it
// stopped (delivered at the next start). `sluice run --once` fails when it
// is not zero.
func (p *Pipeline) Undelivered() int64 { return p.undelivered.Load() }

// runTransform feeds the transform until its input is closed and drained.
// Once ctx is done (hard stop, or a replaced transform that took too long)
// what still arrives is abandoned, until the input is closed, so no batch
// is left holding its token.
func (p *Pipeline) runTransform(ctx context.Context, n *node, t component.Transform, log *slog.Logger) {
	out := func(ctx context.Context, output string, b *event.Batch) error {
		b.Ack.Retain(1)
		return emit(ctx, n, output, b)
	}
	for {
		b, err := n.in.Pop(ctx)
		if errors.Is(err, buffer.ErrClosed) {
			return
		}
		if err != nil {
			p.abandonUntilClosed(n.in)
			return
		}
		tok, events := b.Ack, len(b.Events)
		if err := t.Process(ctx, b, out); err != nil {
			n.metrics.Errors.Inc()
			log.Error("transform failed", "error", err)
			p.undelivered.Add(int64(events))
			tok.Release(ack.Abandoned)
			continue
		}
		tok.Release(ack.Delivered)
	}
}

// stop retires a node and waits until it is done. A source stops reading
// (committing what was acknowledged); a transform or a sink with a memory
// buffer drains its input, for at most drain when that is not 0; a sink
// with a durable buffer stops at once, since what it holds is already safe
// on disk for its successor.
func (p *Pipeline) stop(n *node, drain time.Duration) {
	switch sd, durable := n.in.(shutdowner); {
	case n.cfg.Kind == component.KindSource:
		n.cancel()
	case durable:
		// Shut down first: it wakes pushers blocked on a full buffer, which
		// hold sendMu shared.
		sd.Shutdown()
		n.sendMu.Lock()
		n.retired = true
		n.sendMu.Unlock()
		n.cancel() // the batch in flight is abandoned and stays on disk
	default:
		if drain > 0 {
			t := time.AfterFunc(drain, func() {
				p.opts.Logger.Warn("replaced component did not drain in time; abandoning what it holds",
					"component", n.cfg.Name(), "after", drain.String())
				n.cancel()
			})
			defer t.Stop()
		}
		n.retire()
	}
	<-n.done
}

// Wait blocks until every source has finished (as in --once mode, or when
// stdin reaches EOF).
func (p *Pipeline) Wait() { p.sources.Wait() }

// Stop drains the whole graph: sources stop and commit, transforms and
// sinks deliver what they hold. After grace, delivery is cut short and what
// is left is abandoned, to be replayed by sources after a restart.
func (p *Pipeline) Stop(grace time.Duration) {
	t := time.AfterFunc(grace, p.hardCancel)
	defer t.Stop()
	p.mu.Lock()
	p.stopping = true
	p.mu.Unlock()
	_ = p.apply(&config.Config{}, 0)
	p.hardCancel()
}

// Reopen asks every sink that holds files to reopen them (SIGHUP).
func (p *Pipeline) Reopen() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.nodes {
		if r, ok := n.impl.(component.Reopener); ok {
			r.Reopen()
		}
	}
}

// Sources reports how many sources are running.
func (p *Pipeline) Sources() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, nd := range p.nodes {
		if nd.cfg.Kind == component.KindSource {
			n++
		}
	}
	return n
}
