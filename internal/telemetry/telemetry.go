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
	r.eventsIn = counter("component_received_events_total", "Events a source emitted, or a transform or sink took into its input buffer.")
	r.eventsOut = counter("component_sent_events_total", "Events a source or transform emitted, or a sink delivered.")
	r.bytesIn = counter("component_received_bytes_total", "Message bytes of the events counted in component_received_events_total.")
	r.bytesOut = counter("component_sent_bytes_total", "Message bytes of the events counted in component_sent_events_total.")
	r.errors = counter("component_errors_total", "Errors a component met (bad input, failed writes, I/O errors).")
	r.retries = counter("sink_retries_total", "Writes a sink tried again after a transient or partial failure.")
	r.rejected = counter("sink_rejected_events_total", "Events a destination refused permanently.")
	r.dropped = counter("component_dropped_events_total", "Events a sink's buffer dropped under when_full: drop_newest.")
	r.queueEvents = gauge("buffer_events", "Events in a component's input buffer (disk: stored and not yet acknowledged).")
	r.queueBytes = gauge("buffer_bytes", "Size of the events in a component's input buffer: estimated in memory, encoded on disk.")
	return r
}

// Component is the set of standard metrics for one component. Which series
// a component has depends on its kind, as the table in docs/configuration.md
// (section "Metrics") says and TestExposition checks:
//
//   - every kind: EventsIn, EventsOut, BytesIn, BytesOut and Errors;
//   - transforms and sinks, which have an input buffer: QueueEvents and
//     QueueBytes;
//   - sinks only: Retries, Rejected and Dropped (only a sink's buffer can
//     be drop_newest).
//
// The fields of series a kind does not have are nil: using one is a bug,
// and panics instead of exporting a series that is always zero. A kind
// other than "source", "transform" and "sink" (tests, tools) has them all.
type Component struct {
	EventsIn, EventsOut, BytesIn, BytesOut prometheus.Counter
	Errors, Retries, Rejected, Dropped     prometheus.Counter
	QueueEvents, QueueBytes                prometheus.Gauge

	registry *Registry
	labels   prometheus.Labels
}

// Component returns the metrics of one component, creating its series.
func (r *Registry) Component(kind, typ, id string) *Component {
	l := prometheus.Labels{"component_kind": kind, "component_type": typ, "component_id": id}
	c := &Component{
		EventsIn: r.eventsIn.With(l), EventsOut: r.eventsOut.With(l),
		BytesIn: r.bytesIn.With(l), BytesOut: r.bytesOut.With(l),
		Errors:   r.errors.With(l),
		registry: r, labels: l,
	}
	if kind != "source" {
		c.QueueEvents, c.QueueBytes = r.queueEvents.With(l), r.queueBytes.With(l)
	}
	if kind != "source" && kind != "transform" {
		c.Retries, c.Rejected, c.Dropped = r.retries.With(l), r.rejected.With(l), r.dropped.With(l)
	}
	return c
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

// Histogram is like Counter for histograms with the given buckets (fixed by
// the first call for a name).
func (c *Component) Histogram(name, help string, buckets []float64, labelNames []string, labelValues ...string) prometheus.Observer {
	v := c.registry.vec(name, func() prometheus.Collector {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: buckets},
			append(append([]string{}, componentLabels...), labelNames...))
	}).(*prometheus.HistogramVec)
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
