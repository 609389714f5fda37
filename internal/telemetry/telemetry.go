// Package telemetry holds sluice's own metrics: events and bytes in and out
// of every component, queue depth, errors, retries, rejects and drops.
//
// A Registry owns the metric vectors; a Component is a view of them curried
// with one component's labels, so hot paths add to a prometheus.Counter
// without label lookups. Vectors are created once per name and reused across
// config reloads, which re-create components with the same IDs. The Registry
// also keeps the addresses each listening source bound (Listening), which
// `sluice run --ready-file` reports.
package telemetry

import (
	"net"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

const namespace = "sluice"

// Registry creates and caches sluice's metric vectors.
type Registry struct {
	reg prometheus.Registerer

	eventsIn, eventsOut, bytesIn, bytesOut *prometheus.CounterVec
	errors, retries, rejected, dropped     *prometheus.CounterVec
	queueEvents, queueBytes                *prometheus.GaugeVec

	mu     sync.Mutex
	extras map[string]prometheus.Collector

	lmu       sync.Mutex
	listening map[string][]string // by component ID
	changed   chan struct{}       // closed and replaced at every Listening
}

var componentLabels = []string{"component_kind", "component_type", "component_id"}

// New creates the standard vectors and registers them on reg.
func New(reg prometheus.Registerer) *Registry {
	r := &Registry{reg: reg, extras: map[string]prometheus.Collector{},
		listening: map[string][]string{}, changed: make(chan struct{})}
	counter := func(name, help string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, componentLabels)
		reg.MustRegister(v)
		return v
	}
	gauge := func(name, help string) *prometheus.GaugeVec {
		v := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help}, componentLabels)
		reg.MustRegister(v)
		return v
	}
	r.eventsIn = counter("component_received_events_total", "Events a component received.")
	r.eventsOut = counter("component_sent_events_total", "Events a component passed on (transforms) or delivered (sinks).")
	r.bytesIn = counter("component_received_bytes_total", "Bytes of message a component received.")
	r.bytesOut = counter("component_sent_bytes_total", "Bytes a component passed on or delivered.")
	r.errors = counter("component_errors_total", "Errors a component met (bad input, failed requests, I/O errors).")
	r.retries = counter("sink_retries_total", "Times a sink retried events after a transient failure.")
	r.rejected = counter("sink_rejected_events_total", "Events a destination refused permanently.")
	r.dropped = counter("component_dropped_events_total", "Events dropped by a buffer with when_full: drop_newest. Should be zero otherwise.")
	r.queueEvents = gauge("buffer_events", "Events waiting in a component's input buffer.")
	r.queueBytes = gauge("buffer_bytes", "Bytes waiting in a component's input buffer.")
	return r
}

// Component is the set of standard metrics for one component.
type Component struct {
	EventsIn, EventsOut, BytesIn, BytesOut prometheus.Counter
	Errors, Retries, Rejected, Dropped     prometheus.Counter
	QueueEvents, QueueBytes                prometheus.Gauge

	registry *Registry
	labels   prometheus.Labels
}

// Component returns the metrics of one component.
func (r *Registry) Component(kind, typ, id string) *Component {
	l := prometheus.Labels{"component_kind": kind, "component_type": typ, "component_id": id}
	return &Component{
		EventsIn: r.eventsIn.With(l), EventsOut: r.eventsOut.With(l),
		BytesIn: r.bytesIn.With(l), BytesOut: r.bytesOut.With(l),
		Errors: r.errors.With(l), Retries: r.retries.With(l),
		Rejected: r.rejected.With(l), Dropped: r.dropped.With(l),
		QueueEvents: r.queueEvents.With(l), QueueBytes: r.queueBytes.With(l),
		registry: r, labels: l,
	}
}

// Counter returns a component-specific counter named sluice_<name>, with the
// component's labels plus extra label values (in the order of labelNames).
func (c *Component) Counter(name, help string, labelNames []string, labelValues ...string) prometheus.Counter {
	v := c.registry.vec(name, func() prometheus.Collector {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help},
			append(append([]string{}, componentLabels...), labelNames...))
	}).(*prometheus.CounterVec)
	return v.With(c.withExtra(labelNames, labelValues))
}

// Gauge is like Counter for gauges.
func (c *Component) Gauge(name, help string, labelNames []string, labelValues ...string) prometheus.Gauge {
	v := c.registry.vec(name, func() prometheus.Collector {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help},
			append(append([]string{}, componentLabels...), labelNames...))
	}).(*prometheus.GaugeVec)
	return v.With(c.withExtra(labelNames, labelValues))
}

// DeleteGauge removes one series of a component-specific gauge, for
// per-file series whose file is gone.
func (c *Component) DeleteGauge(name string, labelNames []string, labelValues ...string) {
	c.registry.mu.Lock()
	v, ok := c.registry.extras[name].(*prometheus.GaugeVec)
	c.registry.mu.Unlock()
	if ok {
		v.Delete(c.withExtra(labelNames, labelValues))
	}
}

func (c *Component) withExtra(names, values []string) prometheus.Labels {
	l := make(prometheus.Labels, len(c.labels)+len(names))
	for k, v := range c.labels {
		l[k] = v
	}
	for i, n := range names {
		l[n] = values[i]
	}
	return l
}

func (r *Registry) vec(name string, mk func() prometheus.Collector) prometheus.Collector {
	r.mu.Lock()
	defer r.mu.Unlock()
	if v, ok := r.extras[name]; ok {
		return v
	}
	v := mk()
	r.reg.MustRegister(v)
	r.extras[name] = v
	return v
}

// Listening records the addresses the component has bound, replacing what
// it reported before: a listening source calls it once per Run, with every
// address, as soon as it listens. A TCP or UDP address is host:port with
// port 0 resolved to the real port; a unix socket is its path.
func (c *Component) Listening(addrs ...net.Addr) {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		out[i] = a.String()
	}
	r := c.registry
	r.lmu.Lock()
	defer r.lmu.Unlock()
	r.listening[c.labels["component_id"]] = out
	close(r.changed)
	r.changed = make(chan struct{})
}

// Listeners returns a copy of the addresses reported through Listening, by
// component ID, and a channel closed at the next report.
func (r *Registry) Listeners() (map[string][]string, <-chan struct{}) {
	r.lmu.Lock()
	defer r.lmu.Unlock()
	out := make(map[string][]string, len(r.listening))
	for id, a := range r.listening {
		out[id] = append([]string(nil), a...)
	}
	return out, r.changed
}

// Discard returns metrics registered nowhere, for tests and tools.
func Discard(kind, typ, id string) *Component {
	return New(prometheus.NewRegistry()).Component(kind, typ, id)
}
