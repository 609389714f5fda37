// Package push sends the series of log-derived metrics to destinations
// that want them pushed: graphite plaintext over TCP, statsd over UDP,
// collectd (unixsock PUTVAL or the binary network protocol) and Prometheus
// remote_write.
//
// Each Pusher reads a snapshot of the shared store every interval (a read
// that neither resets reset_on_scrape families nor sweeps: scrapers see
// the same series), encodes it at once and queues it; its own goroutine
// sends the queue in order, reconnecting with backoff. The pipeline never
// waits for a pusher. A queue holds at most max_pending intervals: when
// the destination is down or slow, the oldest interval is dropped and
// counted, since metrics are a sample, not a log. Stop pushes the final
// values once more, so a --once run delivers its totals.
package push

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/backoff"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/metrics/store"
	"github.com/sluice-log/sluice/internal/pipeline"
)

// errRejected marks a push the destination refused for good (a 4xx, a
// PUTVAL error): it is counted and dropped, never retried.
var errRejected = errors.New("rejected by the destination")

// encoder turns a snapshot into what a sender sends: packets, lines or
// request bodies, and the number of samples in them.
type encoder interface {
	encode(s *snapshot) (chunks [][]byte, samples int)
}

// baseliner is an encoder that keeps state between snapshots (statsd's
// deltas): it is shown the values at start without sending them.
type baseliner interface{ baseline(s *snapshot) }

// sender delivers chunks. A failed send is retried with the same chunks
// after a backoff, unless its error wraps errRejected.
type sender interface {
	send(ctx context.Context, chunks [][]byte) error
	close()
}

// Metrics are the pushers' counters, labelled by pusher name. They are
// registered once and outlive reloads.
type Metrics struct {
	sent, failures, dropped *prometheus.CounterVec
}

// NewMetrics registers the pushers' counters on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_metrics_push_sent_total",
			Help: "Samples (points, lines) a metrics pusher delivered."}, []string{"pusher"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_metrics_push_failures_total",
			Help: "Pushes that failed (each retry counts) or that the destination rejected."}, []string{"pusher"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_metrics_push_dropped_intervals_total",
			Help: "Intervals a metrics pusher dropped unsent, oldest first, because max_pending were waiting."}, []string{"pusher"}),
	}
	if reg != nil {
		reg.MustRegister(m.sent, m.failures, m.dropped)
	}
	return m
}

// item is one interval's encoded snapshot, waiting to be sent.
type item struct {
	seq     uint64
	chunks  [][]byte
	samples int
}

// Pusher pushes one store to one destination. Start runs it; Stop pushes
// the final values and ends it. Its state is reported by Health: failed
// from a failed send until the next one that goes through.
type Pusher struct {
	name  string
	cfg   config.Pusher
	store *store.Store
	enc   encoder
	out   sender
	log   *slog.Logger
	now   func() time.Time

	sent, failures, dropped prometheus.Counter

	mu       sync.Mutex
	queue    []item
	seq      uint64
	draining bool
	state    pipeline.State
	err      string
	since    time.Time
	nextLog  time.Time

	wake     chan struct{}
	stopTick chan struct{}
	tickDone chan struct{}
	sendDone chan struct{}
	cancel   context.CancelFunc
}

// New builds the pusher name of cfg (defaults set, validated) over s.
func New(name string, cfg config.Pusher, s *store.Store, m *Metrics, log *slog.Logger) (*Pusher, error) {
	enc, out, err := build(cfg)
	if err != nil {
		return nil, fmt.Errorf("metrics.push.%s: %w", name, err)
	}
	if m == nil {
		m = NewMetrics(nil)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pusher{name: name, cfg: cfg, store: s, enc: enc, out: out, now: time.Now,
		log:  log.With("pusher", name, "type", cfg.Type),
		sent: m.sent.WithLabelValues(name), failures: m.failures.WithLabelValues(name),
		dropped: m.dropped.WithLabelValues(name), state: pipeline.StateRunning, since: time.Now(),
		wake: make(chan struct{}, 1), stopTick: make(chan struct{}), tickDone: make(chan struct{}),
		sendDone: make(chan struct{})}, nil
}

// build makes the encoder and sender of cfg's type.
func build(cfg config.Pusher) (encoder, sender, error) {
	switch cfg.Type {
	case "graphite":
		return &graphite{prefix: cfg.Prefix, path: cfg.Tags == "path"}, &stream{network: "tcp", addr: cfg.Address, verb: "writing"}, nil
	case "statsd":
		return newStatsd(cfg), datagram(cfg.Address), nil
	case "collectd":
		return newCollectd(cfg)
	case "remote_write":
		return newRemoteWrite(cfg)
	}
	return nil, nil, fmt.Errorf("unknown pusher type %q", cfg.Type)
}

// Start runs the pusher: a snapshot every interval, sent by its own
// goroutine.
func (p *Pusher) Start() {
	if b, ok := p.enc.(baseliner); ok {
		b.baseline(take(p.store, p.now()))
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go p.tick()
	go p.run(ctx)
}

func (p *Pusher) tick() {
	defer close(p.tickDone)
	t := time.NewTicker(p.cfg.Interval.D())
	defer t.Stop()
	for {
		select {
		case <-t.C:
			p.push()
		case <-p.stopTick:
			return
		}
	}
}

// push snapshots the store and queues it, dropping the oldest interval
// when max_pending are waiting.
func (p *Pusher) push() {
	chunks, n := p.enc.encode(take(p.store, p.now()))
	p.mu.Lock()
	if len(p.queue) >= p.cfg.MaxPending {
		p.queue = p.queue[1:]
		p.dropped.Inc()
	}
	p.seq++
	p.queue = append(p.queue, item{seq: p.seq, chunks: chunks, samples: n})
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Stop pushes the final values and waits for the queue to be sent, until
// ctx is done; then it gives up what is left. It is called once.
func (p *Pusher) Stop(ctx context.Context) {
	close(p.stopTick)
	<-p.tickDone
	p.push()
	p.mu.Lock()
	p.draining = true
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	select {
	case <-p.sendDone:
	case <-ctx.Done():
		p.cancel()
		<-p.sendDone
	}
	p.cancel()
	p.out.close()
}

// run sends the queue, oldest first, retrying a failed send with backoff.
func (p *Pusher) run(ctx context.Context) {
	defer close(p.sendDone)
	bo := backoff.Exponential{Base: 100 * time.Millisecond, Max: min(30*time.Second, p.cfg.Interval.D()), Jitter: true}
	for {
		it, ok, draining := p.head()
		if !ok {
			if draining {
				return
			}
			select {
			case <-p.wake:
			case <-ctx.Done():
				return
			}
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout.D())
		err := p.out.send(sctx, it.chunks)
		cancel()
		switch {
		case err == nil:
			bo.Reset()
			p.sent.Add(float64(it.samples))
			p.done(it.seq, nil)
		case errors.Is(err, errRejected):
			p.failures.Inc()
			p.done(it.seq, err)
		default:
			p.failures.Inc()
			p.failed(err)
			if !backoff.Sleep(ctx, bo.Next()) {
				return
			}
		}
	}
}

func (p *Pusher) head() (item, bool, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) == 0 {
		return item{}, false, p.draining
	}
	return p.queue[0], true, p.draining
}

// done removes the item seq (unless it was dropped meanwhile) and records
// the outcome: a rejection is logged, but the destination is up.
func (p *Pusher) done(seq uint64, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) > 0 && p.queue[0].seq == seq {
		p.queue = p.queue[1:]
	}
	if err != nil {
		p.logLocked("metrics push rejected; dropping the interval", err)
	} else if p.state == pipeline.StateFailed {
		p.log.Info("metrics push recovered")
	}
	p.setLocked(pipeline.StateRunning, "")
}

func (p *Pusher) failed(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.logLocked("metrics push failed; retrying", err)
	p.setLocked(pipeline.StateFailed, err.Error())
}

func (p *Pusher) setLocked(s pipeline.State, msg string) {
	if p.state != s || p.err != msg {
		p.state, p.err, p.since = s, msg, time.Now()
	}
}

// logLocked logs at most one failure a minute per pusher.
func (p *Pusher) logLocked(msg string, err error) {
	if now := time.Now(); now.After(p.nextLog) {
		p.nextLog = now.Add(time.Minute)
		p.log.Warn(msg, "error", err)
	}
}

// Health reports the pusher as a component of kind "pusher" (/healthz
// names it pushers.<name>).
func (p *Pusher) Health() pipeline.Health {
	p.mu.Lock()
	defer p.mu.Unlock()
	return pipeline.Health{ID: p.name, Kind: "pusher", Type: p.cfg.Type,
		State: p.state, Error: p.err, Since: p.since}
}
