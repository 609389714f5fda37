// Package disk is the durable sink buffer: a segmented append-only log in a
// directory, which survives a crash or kill -9 of sluice (docs/buffers.md).
//
// Push appends a batch as one checksummed record and releases the batch's
// ack token only once the record is durable under the fsync policy, so a
// source commits nothing the buffer could lose. Pop hands out records with
// tokens of the buffer's own; the acknowledged low-watermark advances over
// the contiguous prefix the sink has released, is saved to an ack file, and
// whole segments behind it are deleted. Records popped but not acknowledged
// when the process dies are delivered again after a restart: at least once,
// duplicates allowed.
package disk

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/buffer"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/telemetry"
)

// Buffer is one user of a buffer directory. Opening a directory that is
// already open in this process (a reload replacing a sink opens the new
// sink's buffer before the old one is closed) returns another Buffer on the
// same log: the records go to whichever one pops them, and once one of them
// is closed its Pop stops at once, leaving the backlog to the other.
//
// Close stops pushes; with no other Buffer open, Pop then hands out what is
// left and returns buffer.ErrClosed, and the directory is released. Shutdown
// stops at once instead, leaving stored records for the next start.
type Buffer struct {
	s      *store
	closed bool // guarded by s.mu
	shut   bool
}

// registry holds the stores open in this process, by absolute directory.
var registry struct {
	sync.Mutex
	m map[string]*store
}

// Open opens (creating it with mode 0700 if needed) and recovers the buffer
// in dir. A damaged record never stops it: a cut-short end of the log is
// truncated, and a damaged segment is skipped from the damage on, counted
// in sluice_buffer_corrupt_segments_total, and renamed to .seg.bad.
func Open(dir string, opts Options, m *telemetry.Component, log *slog.Logger) (*Buffer, error) {
	opts.Defaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("checking disk buffer options: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("resolving buffer directory: %w", err)
	}
	for {
		registry.Lock()
		s := registry.m[abs]
		if s == nil {
			s, err := openStore(abs, opts, m, log)
			if err == nil {
				if registry.m == nil {
					registry.m = map[string]*store{}
				}
				registry.m[abs] = s
			}
			registry.Unlock()
			if err != nil {
				return nil, fmt.Errorf("opening disk buffer %s: %w", dir, err)
			}
			return &Buffer{s: s}, nil
		}
		ok := s.join(opts, m, log)
		registry.Unlock()
		if ok {
			return &Buffer{s: s}, nil
		}
		<-s.finished // it is releasing the directory; open it afresh
	}
}

func unregister(s *store) {
	registry.Lock()
	defer registry.Unlock()
	if registry.m[s.dir] == s {
		delete(registry.m, s.dir)
	}
}

// join adds a Buffer to an open store, which takes the newest options.
// Records abandoned while no Buffer was open are handed out again.
func (s *store) join(opts Options, m *telemetry.Component, log *slog.Logger) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.final {
		return false
	}
	s.handles++
	s.closing = false
	s.opts, s.m, s.log, s.corrupts = opts, m, log, corruptCounter(m)
	for _, e := range s.inflight {
		if e.abandoned {
			s.requeueEntry(e)
		}
	}
	s.notify()
	return true
}

// Push implements buffer.Buffer. The batch's token is released once the
// record is durable (Delivered), when it is dropped because the buffer is
// full under drop_newest (Dropped), when the batch cannot be stored
// (Rejected: too large or too deeply nested) or when the buffer is closed
// or a write fails (Abandoned, so the source replays it).
func (b *Buffer) Push(ctx context.Context, batch *event.Batch) error {
	if len(batch.Events) == 0 {
		batch.Ack.Release(ack.Delivered)
		return nil
	}
	bp := recordPool.Get().(*[]byte)
	defer recordPool.Put(bp)
	rec, err := appendRecord((*bp)[:0], batch.Events)
	*bp = rec[:0]
	if err != nil {
		b.s.mu.Lock()
		b.s.m.Errors.Inc()
		b.s.log.Error("disk buffer cannot store batch", "events", len(batch.Events), "error", err)
		b.s.mu.Unlock()
		batch.Ack.Release(ack.Rejected)
		return nil
	}
	return b.enqueue(ctx, rec, len(batch.Events), batch.Ack)
}

// maxPendingBytes bounds the records waiting in memory for the writer;
// pushes wait beyond it (backpressure) rather than growing the heap.
const maxPendingBytes = 8 << 20

var recordPool = sync.Pool{New: func() any { return new([]byte) }}

// enqueue waits for room and hands the record to the writer.
func (b *Buffer) enqueue(ctx context.Context, rec []byte, events int, tok *ack.Token) error {
	s := b.s
	size := int64(len(rec))
	s.mu.Lock()
	for !b.closed && !s.final {
		if s.full(events, size) {
			if s.opts.DropNewest {
				s.m.Dropped.Add(float64(events))
				s.mu.Unlock()
				tok.Release(ack.Dropped)
				return nil
			}
		} else if len(s.pend) < maxPendingBytes {
			break
		}
		// Full, or the writer is behind: wait, so that what waits to be
		// written stays bounded in memory.
		wait := s.changed
		s.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
		s.mu.Lock()
	}
	if b.closed || s.final {
		s.mu.Unlock()
		tok.Release(ack.Abandoned)
		return nil
	}
	s.pend = append(s.pend, rec...)
	s.pendRecs = append(s.pendRecs, pending{size: len(rec), events: events, tok: tok})
	s.queued++
	s.events += events
	s.bytes += size
	s.gauges()
	s.mu.Unlock()
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return nil
}

// Pop implements buffer.Buffer. The batch's token belongs to the buffer:
// releasing it with any status but Abandoned acknowledges the record;
// Abandoned hands it out again (or, once closed, leaves it for the next
// start).
func (b *Buffer) Pop(ctx context.Context) (*event.Batch, error) {
	s := b.s
	for {
		s.mu.Lock()
		if s.final || b.closed && (b.shut || s.handles > 0 || s.queued == 0) {
			last := s.handles == 0 && !s.final
			s.mu.Unlock()
			if last {
				s.finalize()
			}
			return nil, buffer.ErrClosed
		}
		if s.readable() {
			s.mu.Unlock()
			if batch := b.read(); batch != nil {
				return batch, nil
			}
			continue
		}
		wait := s.changed
		s.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Close implements buffer.Buffer. It is idempotent.
func (b *Buffer) Close() {
	s := b.s
	s.mu.Lock()
	if b.closed {
		s.mu.Unlock()
		return
	}
	b.closed = true
	s.handles--
	s.closing = s.handles == 0
	done := s.closing && s.queued == 0 && len(s.inflight) == 0
	s.notify()
	s.mu.Unlock()
	if done {
		s.finalize()
	}
}

// Shutdown closes b without draining: Pop returns buffer.ErrClosed at once,
// and what is stored stays on disk for the next start. When b is the last
// Buffer on its directory, Shutdown saves the watermark, closes the files
// and releases the directory before it returns. Call it when sluice exits
// (or gives up draining); records popped and not yet acknowledged are
// delivered again after the restart.
func (b *Buffer) Shutdown() {
	b.Close()
	s := b.s
	s.mu.Lock()
	b.shut = true
	last := s.handles == 0
	s.notify()
	s.mu.Unlock()
	if last {
		s.finalize()
	}
}

// Len implements buffer.Buffer: the events and record bytes stored and not
// yet acknowledged by the sink, including those popped and in delivery.
func (b *Buffer) Len() (int, int64) {
	b.s.mu.Lock()
	defer b.s.mu.Unlock()
	return b.s.events, b.s.bytes
}

var _ buffer.Buffer = (*Buffer)(nil)
