package disk

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/buffer"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestWhenFullBlock(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{MaxEvents: 2})
	b := e.open()
	u := newUpstream()
	push(t, b, u.batch("a"))
	push(t, b, u.batch("b"))
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	err := b.Push(ctx, u.batch("c"))
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Push into a full buffer = %v, want a deadline error", err)
	}
	// A blocked push goes through once the sink acknowledges a record.
	done := make(chan error, 1)
	go func() { done <- b.Push(t.Context(), u.batch("d")) }()
	p := pop(t, b)
	select {
	case err := <-done:
		t.Fatalf("Push returned %v before any acknowledgement", err)
	case <-time.After(20 * time.Millisecond):
	}
	p.Ack.Release(ack.Delivered)
	if err := <-done; err != nil {
		t.Fatalf("Push after an acknowledgement: %v", err)
	}
	testutil.Diff(t, ack.Delivered, u.wait(t, "d"))
	testutil.Diff(t, []string{"b", "d"}, drain(t, b))
	b.Close()
}

func TestWhenFullDropNewest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{MaxSize: 250, DropNewest: true})
	b := e.open()
	u := newUpstream()
	push(t, b, u.batch("a", string(make([]byte, 200))))
	push(t, b, u.batch("b", "1", "2")) // does not fit next to a
	testutil.Diff(t, ack.Dropped, u.wait(t, "b"))
	testutil.Diff(t, 3.0, testutil.CounterValue(t, e.m.Dropped))
	testutil.Diff(t, ack.Delivered, u.wait(t, "a"))
	if got := testutil.GaugeValue(t, e.m.QueueEvents); got != 2 {
		t.Errorf("buffer_events gauge = %v, want 2", got)
	}
	testutil.Diff(t, []string{"a", string(make([]byte, 200))}, drain(t, b))
	if got := testutil.GaugeValue(t, e.m.QueueBytes); got != 0 {
		t.Errorf("buffer_bytes gauge after drain = %v, want 0", got)
	}
	b.Close()
}

func TestOversizedBatchIsAlwaysAdmittedWhenEmpty(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{MaxSize: 10})
	b := e.open()
	u := newUpstream()
	push(t, b, u.batch("bigger than ten bytes"))
	testutil.Diff(t, ack.Delivered, u.wait(t, "bigger than ten bytes"))
	testutil.Diff(t, []string{"bigger than ten bytes"}, drain(t, b))
	b.Close()
}

func TestCloseSemantics(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	b := e.open()
	u := newUpstream()
	push(t, b, u.batch("a"))
	push(t, b, u.batch("b"))
	b.Close()
	b.Close() // idempotent
	push(t, b, u.batch("late"))
	testutil.Diff(t, ack.Abandoned, u.wait(t, "late"))
	// Pop drains what was pushed before Close, then reports ErrClosed.
	p := pop(t, b)
	p.Ack.Release(ack.Delivered)
	p = pop(t, b)
	p.Ack.Release(ack.Abandoned) // shutting down: left for the next start
	if _, err := b.Pop(t.Context()); !errors.Is(err, buffer.ErrClosed) {
		t.Fatalf("Pop after drain = %v, want ErrClosed", err)
	}
	b = e.open()
	testutil.Diff(t, []string{"b"}, drain(t, b))
	b.Close()
}

func TestShutdownLeavesBacklog(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	b := e.open()
	u := newUpstream()
	for _, id := range ids("k", 3) {
		push(t, b, u.batch(id))
	}
	b.Shutdown()
	b.Shutdown()
	if _, err := b.Pop(t.Context()); !errors.Is(err, buffer.ErrClosed) {
		t.Fatalf("Pop after Shutdown = %v, want ErrClosed", err)
	}
	for _, id := range ids("k", 3) {
		testutil.Diff(t, ack.Delivered, u.wait(t, id))
	}
	b = e.open()
	testutil.Diff(t, ids("k", 3), drain(t, b))
	b.Shutdown()
}

func TestSecondOpenSharesTheLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	old := e.open()
	u := newUpstream()
	push(t, old, u.batch("1"))
	push(t, old, u.batch("2"))
	inflight := pop(t, old)
	// A reload opens the replacement before retiring the old sink.
	repl := e.open()
	push(t, repl, u.batch("3"))
	old.Close()
	if _, err := old.Pop(t.Context()); !errors.Is(err, buffer.ErrClosed) {
		t.Fatalf("old Pop after Close = %v, want ErrClosed at once", err)
	}
	// The old sink gives up its batch as it stops: the replacement gets it.
	inflight.Ack.Release(ack.Abandoned)
	testutil.Diff(t, []string{"1", "2", "3"}, drain(t, repl))
	repl.Shutdown()
	b := e.open()
	popNone(t, b)
	b.Shutdown()
}

func TestDirectoryLock(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	b := e.open()
	if _, err := lockDir(e.dir); err == nil {
		t.Error("a second lock on an open buffer directory succeeded")
	}
	b.Shutdown()
	f, err := lockDir(e.dir)
	if err != nil {
		t.Fatalf("locking after Shutdown: %v", err)
	}
	f.Close()
}

func TestFsyncIntervalReleasesAfterSync(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, Options{Fsync: FsyncInterval, FsyncInterval: time.Second})
		b := e.open()
		u := newUpstream()
		push(t, b, u.batch("a"))
		synctest.Wait()
		if s, ok := u.get("a"); ok {
			t.Fatalf("token released (%v) before the interval sync", s)
		}
		// The record is readable before it is synced.
		p, err := b.Pop(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(999 * time.Millisecond)
		synctest.Wait()
		if _, ok := u.get("a"); ok {
			t.Fatal("token released before the interval passed")
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if s, ok := u.get("a"); !ok || s != ack.Delivered {
			t.Fatalf("after the interval: status %v, released %v; want delivered", s, ok)
		}
		p.Ack.Release(ack.Delivered)
		b.Shutdown()
	})
}

func TestWatermarkSavedPeriodically(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := newEnv(t, Options{WatermarkInterval: time.Second})
		b := e.open()
		u := newUpstream()
		push(t, b, u.batch("a"))
		push(t, b, u.batch("b"))
		p := pop(t, b)
		p.Ack.Release(ack.Delivered)
		time.Sleep(time.Second)
		synctest.Wait()
		wm, err := readWatermark(e.dir)
		if err != nil {
			t.Fatal(err)
		}
		b.crash()
		b = e.open()
		if got := drain(t, b); len(got) != 1 || got[0] != "b" {
			t.Errorf("after crash with watermark %+v saved: got %v, want [b]", wm, got)
		}
		b.Shutdown()
	})
}

func TestWriteFailureAbandonsAndRecovers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	b := e.open()
	u := newUpstream()
	push(t, b, u.batch("ok1"))
	testutil.Diff(t, ack.Delivered, u.wait(t, "ok1"))
	p := pop(t, b)
	p.Ack.Release(ack.Delivered)
	// Break the segment being written: the next write fails.
	b.s.mu.Lock()
	b.s.segs[len(b.s.segs)-1].f.Close()
	b.s.mu.Unlock()
	push(t, b, u.batch("lost"))
	testutil.Diff(t, ack.Abandoned, u.wait(t, "lost"))
	if got := testutil.CounterValue(t, e.m.Errors); got < 1 {
		t.Errorf("errors counter = %v, want at least 1", got)
	}
	if n, size := b.Len(); n != 0 || size != 0 {
		t.Errorf("Len after a failed write = %d, %d; want 0, 0", n, size)
	}
	// The buffer moves on to a new segment.
	push(t, b, u.batch("ok2"))
	testutil.Diff(t, ack.Delivered, u.wait(t, "ok2"))
	testutil.Diff(t, []string{"ok2"}, drain(t, b))
	b.Shutdown()
}
