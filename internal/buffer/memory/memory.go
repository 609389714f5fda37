// Package memory is the in-memory sink buffer: a FIFO of batches bounded by
// event count and bytes. It keeps each batch's ack token, so events are
// acknowledged only when the sink has delivered them.
package memory

import (
	"context"
	"sync"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/buffer"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/telemetry"
)

// Buffer is a bounded in-memory FIFO. A batch is always admitted into an
// empty buffer, even if it alone exceeds the bounds, so a large batch can
// never deadlock.
type Buffer struct {
	maxEvents  int
	maxBytes   int64
	dropNewest bool
	metrics    *telemetry.Component

	mu      sync.Mutex
	queue   []*event.Batch
	sizes   []int64
	events  int
	bytes   int64
	closed  bool
	changed chan struct{} // closed and replaced whenever state changes
}

// New returns a buffer bounded by maxEvents and maxBytes.
func New(maxEvents int, maxBytes int64, dropNewest bool, m *telemetry.Component) *Buffer {
	return &Buffer{maxEvents: maxEvents, maxBytes: maxBytes, dropNewest: dropNewest, metrics: m,
		changed: make(chan struct{})}
}

func (q *Buffer) notify() {
	close(q.changed)
	q.changed = make(chan struct{})
}

func (q *Buffer) full(n int, size int64) bool {
	return q.events > 0 && (q.events+n > q.maxEvents || q.bytes+size > q.maxBytes)
}

// Push implements buffer.Buffer.
func (q *Buffer) Push(ctx context.Context, b *event.Batch) error {
	n, size := len(b.Events), int64(b.Size())
	q.mu.Lock()
	for q.full(n, size) && !q.closed {
		if q.dropNewest {
			q.mu.Unlock()
			q.metrics.Dropped.Add(float64(n))
			b.Ack.Release(ack.Dropped)
			return nil
		}
		wait := q.changed
		q.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
		q.mu.Lock()
	}
	if q.closed {
		q.mu.Unlock()
		b.Ack.Release(ack.Abandoned)
		return nil
	}
	q.queue = append(q.queue, b)
	q.sizes = append(q.sizes, size)
	q.events += n
	q.bytes += size
	q.notify()
	q.gauges()
	q.mu.Unlock()
	return nil
}

// Pop implements buffer.Buffer.
func (q *Buffer) Pop(ctx context.Context) (*event.Batch, error) {
	q.mu.Lock()
	for len(q.queue) == 0 {
		if q.closed {
			q.mu.Unlock()
			return nil, buffer.ErrClosed
		}
		wait := q.changed
		q.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		q.mu.Lock()
	}
	b, size := q.queue[0], q.sizes[0]
	q.queue[0] = nil
	q.queue, q.sizes = q.queue[1:], q.sizes[1:]
	q.events -= len(b.Events)
	q.bytes -= size
	q.notify()
	q.gauges()
	q.mu.Unlock()
	return b, nil
}

func (q *Buffer) gauges() {
	q.metrics.QueueEvents.Set(float64(q.events))
	q.metrics.QueueBytes.Set(float64(q.bytes))
}

// Close implements buffer.Buffer.
func (q *Buffer) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		q.notify()
	}
}

// Len implements buffer.Buffer.
func (q *Buffer) Len() (int, int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.events, q.bytes
}

var _ buffer.Buffer = (*Buffer)(nil)
