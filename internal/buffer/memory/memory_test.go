package memory

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/buffer"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/telemetry"
)

func batch(n int, status *ack.Status) *event.Batch {
	b := &event.Batch{Events: make([]event.Event, n)}
	b.Ack = ack.New(func(s ack.Status) { *status = s })
	return b
}

func TestBlockWhenFull(t *testing.T) {
	q := New(10, 1<<20, false, telemetry.Discard("sink", "test", "q"))
	var s ack.Status
	if err := q.Push(t.Context(), batch(8, &s)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := q.Push(ctx, batch(8, &s)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("push into a full buffer returned %v, want it to block until the deadline", err)
	}
	done := make(chan error, 1)
	go func() { done <- q.Push(t.Context(), batch(8, &s)) }()
	if _, err := q.Pop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("push after a pop: %v", err)
	}
	if n, _ := q.Len(); n != 8 {
		t.Errorf("len %d, want 8", n)
	}
}

func TestOversizedBatchIntoEmptyBuffer(t *testing.T) {
	q := New(10, 1<<20, false, telemetry.Discard("sink", "test", "q"))
	var s ack.Status
	if err := q.Push(t.Context(), batch(50, &s)); err != nil {
		t.Fatalf("a batch larger than the bound must fit an empty buffer: %v", err)
	}
}

func TestDropNewestCountsAndReleases(t *testing.T) {
	m := telemetry.Discard("sink", "test", "q")
	q := New(10, 1<<20, true, m)
	var first, second ack.Status = 99, 99
	_ = q.Push(t.Context(), batch(8, &first))
	_ = q.Push(t.Context(), batch(8, &second))
	if second != ack.Dropped || first != 99 {
		t.Errorf("statuses first=%v second=%v, want the second dropped", first, second)
	}
}

func TestCloseDrainsThenReportsClosed(t *testing.T) {
	q := New(10, 1<<20, false, telemetry.Discard("sink", "test", "q"))
	var s ack.Status = 99
	_ = q.Push(t.Context(), batch(3, &s))
	q.Close()
	var late ack.Status
	_ = q.Push(t.Context(), batch(1, &late))
	if late != ack.Abandoned {
		t.Errorf("push after close: %v, want abandoned", late)
	}
	if b, err := q.Pop(t.Context()); err != nil || len(b.Events) != 3 {
		t.Fatalf("pop after close: %v, %v", b, err)
	}
	if _, err := q.Pop(t.Context()); !errors.Is(err, buffer.ErrClosed) {
		t.Fatalf("pop of a closed, empty buffer: %v", err)
	}
}
