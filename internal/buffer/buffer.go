// Package buffer defines the queue in front of every sink (docs/buffers.md).
//
// A Buffer takes batches from upstream (Push) and hands them to the sink's
// runner (Pop). When it is full it either blocks the pusher, which is how
// backpressure reaches the sources, or drops the newest batch and counts it.
// A durable buffer (disk) releases a batch's ack token once the batch is
// safely stored; a memory buffer passes the token through to the sink.
package buffer

import (
	"context"
	"errors"

	"github.com/sluice-log/sluice/internal/event"
)

// ErrClosed is returned by Pop once the buffer is closed and empty.
var ErrClosed = errors.New("buffer closed")

// Buffer is a bounded queue of batches with one consumer.
type Buffer interface {
	// Push adds a batch, blocking while full under when_full: block. It
	// returns an error only when ctx is done.
	Push(ctx context.Context, b *event.Batch) error
	// Pop removes the oldest batch, waiting until one is there. It returns
	// ErrClosed when the buffer is closed and drained, or ctx's error.
	Pop(ctx context.Context) (*event.Batch, error)
	// Close stops accepting pushes; Pop drains what is left.
	Close()
	// Len reports the events and bytes waiting.
	Len() (events int, bytes int64)
}
