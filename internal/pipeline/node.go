package pipeline

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/buffer"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/telemetry"
)

// node is one running component instance. Transforms and sinks own an
// input buffer; every node that produces events has a routing table from
// output name to the nodes that consume it, swapped atomically on reload.
type node struct {
	cfg     *config.Component
	impl    any // component.Source, Transform or Sink
	metrics *telemetry.Component

	in     buffer.Buffer // nil for sources
	routes atomic.Pointer[routes]

	// sendMu is held shared by every push into in, and exclusively while
	// retiring the node, so that no push races with closing the input.
	sendMu  sync.RWMutex
	retired bool

	cancel context.CancelFunc
	done   chan struct{}

	// spec and deps rebuild a failed source for a restart.
	spec   component.Spec
	deps   component.Deps
	health health
}

// routes maps an output name ("" is the default output) to its consumers.
type routes map[string][]*node

// push hands b to the node's input. It reports false, without taking b,
// when the node has been retired by a reload; the caller then looks the
// consumer up again.
func (n *node) push(ctx context.Context, b *event.Batch) (bool, error) {
	n.sendMu.RLock()
	defer n.sendMu.RUnlock()
	if n.retired {
		return false, nil
	}
	// Counted once the buffer took the batch (a push cut short by a stop
	// is emitted again), from figures read before: after Push the batch
	// belongs to the consumer, which may change it.
	events, bytes := len(b.Events), messageBytes(b)
	if err := n.in.Push(ctx, b); err != nil {
		return true, err
	}
	n.metrics.EventsIn.Add(float64(events))
	n.metrics.BytesIn.Add(float64(bytes))
	return true, nil
}

// retire stops the node accepting input, waiting for pushes in flight.
func (n *node) retire() {
	n.sendMu.Lock()
	n.retired = true
	n.in.Close()
	n.sendMu.Unlock()
}

// emit sends b to every consumer of one output of from. With several
// consumers each gets its own copy, because transforms change events in
// place, except that consumers which only read (component.ReadOnly) share
// b's events; the ack token gains one holder per extra consumer.
func emit(ctx context.Context, from *node, output string, b *event.Batch) error {
	if len(b.Events) == 0 {
		b.Ack.Release(ack.Delivered)
		return nil
	}
	from.metrics.EventsOut.Add(float64(len(b.Events)))
	from.metrics.BytesOut.Add(float64(messageBytes(b)))
	targets := (*from.routes.Load())[output]
	if len(targets) == 0 {
		// Nothing consumes this output (an unused route branch): done.
		b.Ack.Release(ack.Delivered)
		return nil
	}
	b.Ack.Retain(len(targets) - 1)
	shared := 0
	for _, t := range targets {
		if _, ok := t.impl.(component.ReadOnly); ok {
			shared++
		}
	}
	for i, t := range targets {
		out := b
		if _, ok := t.impl.(component.ReadOnly); ok {
			// Its own header, capped, so that appending to it (the sink
			// runner's batching) never writes into b's array.
			out = &event.Batch{Events: b.Events[:len(b.Events):len(b.Events)], Ack: b.Ack}
		} else if shared > 0 || i < len(targets)-1 {
			out = b.Clone()
		}
		if err := pushTo(ctx, from, output, t, out); err != nil {
			for range targets[i:] {
				b.Ack.Release(ack.Abandoned)
			}
			return err
		}
	}
	return nil
}

// pushTo pushes into t, following t's replacement if a reload retired it.
func pushTo(ctx context.Context, from *node, output string, t *node, b *event.Batch) error {
	for t != nil {
		ok, err := t.push(ctx, b)
		if ok || err != nil {
			return err
		}
		t = findByID((*from.routes.Load())[output], t.cfg.ID, t)
	}
	// The consumer was removed from the config: nobody wants these events.
	b.Ack.Release(ack.Delivered)
	return nil
}

func findByID(ns []*node, id string, not *node) *node {
	for _, n := range ns {
		if n.cfg.ID == id && n != not {
			return n
		}
	}
	return nil
}

// emitter returns the component.Emit of a source node. Every source
// attaches an ack token and waits on it the same way; the pipeline applies
// the source's acknowledgements setting here, so no source branches on it.
// With acknowledgements off see component.AckOnEmit. A source's received
// events are the ones it emits, counted here for every source, so no
// source counts them itself and received equals sent.
func (n *node) emitter() component.Emit {
	send := func(ctx context.Context, b *event.Batch) error {
		received(n.metrics, b)
		return emit(ctx, n, "", b)
	}
	if n.cfg.Acknowledgements {
		return send
	}
	return component.AckOnEmit(send)
}

// received counts b into m's received events and message bytes.
func received(m *telemetry.Component, b *event.Batch) {
	m.EventsIn.Add(float64(len(b.Events)))
	m.BytesIn.Add(float64(messageBytes(b)))
}

func messageBytes(b *event.Batch) int {
	n := 0
	for i := range b.Events {
		n += len(b.Events[i].Message)
	}
	return n
}
