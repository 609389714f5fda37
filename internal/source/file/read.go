package file

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/lines"
)

// readActive gives each queued file one turn of at most readQuantum bytes.
// Files with more to read go to the back of the queue.
func (t *tailer) readActive(ctx context.Context, now time.Time) error {
	for n := len(t.active); n > 0 && len(t.active) > 0; n-- {
		if err := ctx.Err(); err != nil {
			return err
		}
		f := t.active[0]
		t.active = t.active[1:]
		if f.dropped {
			continue
		}
		more, err := t.readFile(ctx, f, readQuantum, now)
		if err != nil {
			return err
		}
		if more && !f.dropped {
			t.active = append(t.active, f)
		} else {
			f.active = false
		}
	}
	return nil
}

// readFile reads complete lines of f until its end or quantum bytes, and
// reports whether it stopped before the end.
func (t *tailer) readFile(ctx context.Context, f *file, quantum int64, now time.Time) (bool, error) {
	if f.fd == nil && !t.reopen(f, now) {
		return false, nil
	}
	t.attach(f)
	t.cur, t.curNow = f, now
	start := f.offset
	more := true
	for f.offset-start < quantum {
		line, long, err := t.r.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.fail("reading file", f, err)
			}
			more = false
			break
		}
		t.take(f, line, long, t.r.Offset())
		if t.b.full() {
			if err := t.flush(ctx); err != nil {
				return false, err
			}
		}
	}
	if f.offset != start {
		f.lastData = now
		t.updateTail(f)
	}
	return more, nil
}

// reopen opens a file closed for lack of descriptors.
func (t *tailer) reopen(f *file, now time.Time) bool {
	fi, err := t.openFD(f)
	switch {
	case errors.Is(err, errReplaced) || errors.Is(err, fs.ErrNotExist):
		t.scanSoon = true // the scan finds out where it went
		return false
	case err != nil:
		t.fail("reopening file", f, err)
		return false
	}
	// The glob scan saw its new size already; check its head now that it
	// is open: while closed, the inode may have been freed and reused.
	f.size, f.mtime = fi.Size(), fi.ModTime()
	if f.size < f.offset || !t.checkHead(f) {
		t.truncated(f)
	}
	t.noteStat(f, fi, now)
	return true
}

// readRest reads f to its very end and takes its partial last line and
// pending multi-line record too: the file is done (rotated away and quiet,
// or once mode).
func (t *tailer) readRest(ctx context.Context, f *file) error {
	now := t.now()
	if _, err := t.readFile(ctx, f, 1<<62, now); err != nil || f.fd == nil {
		return err
	}
	t.attach(f)
	if line, ok := t.r.Flush(); ok {
		t.take(f, line, false, t.r.Offset())
	} else {
		f.offset = t.r.Offset()
	}
	t.curNow = now
	t.flushRecord(f)
	return nil
}

// attach points the line reader at f's offset, unless it is there already.
func (t *tailer) attach(f *file) {
	if t.attached == f {
		return
	}
	t.src = offsetReader{f: f.fd, off: f.offset}
	t.r.Reset(&t.src, f.offset)
	t.attached, t.discard = f, f.skipRest
}

// take handles one line of f that ends at offset end.
func (t *tailer) take(f *file, line []byte, long bool, end int64) {
	f.offset = end
	if t.discard {
		// The rest of a truncated line whose start was taken before.
		t.discard = false
		f.skipRest = long && t.mode == lines.Truncate
		return
	}
	// A split line comes as long pieces and a last short one; with
	// truncate each long piece is a line of its own.
	if long && (!f.inLong || t.mode == lines.Truncate) {
		t.longLines.Inc()
	}
	f.inLong = long
	f.skipRest = long && t.mode == lines.Truncate
	if t.joiner != nil {
		t.joiner.add(&f.rec, line, end, t.curNow, t)
		t.pending[f] = struct{}{}
		return
	}
	t.b.add(f, line, end, t.curNow)
}

// record receives finished multi-line records of t.cur.
func (t *tailer) record(msg []byte, end int64) { t.b.add(t.cur, msg, end, t.curNow) }

// updateTail checksums the bytes before f's offset, for copy detection.
func (t *tailer) updateTail(f *file) {
	n := int(min(f.offset, int64(len(t.buf))))
	sum, got, err := tailSum(f.fd, t.buf[:n], f.offset)
	if err != nil {
		f.tailLen = 0
		return
	}
	f.tailLen, f.tailSum = got, sum
}

// flush emits the batch being built. Each stream in it registers the
// batch's end offset with its tracker; the ack token releases them all.
// Nothing is emitted once ctx is done: unemitted lines are not committed,
// so they are read again after a restart.
func (t *tailer) flush(ctx context.Context) error {
	events, marks := t.b.take()
	if len(events) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	for i := range marks {
		marks[i].seq = marks[i].st.tr.Add(marks[i].end)
	}
	t.outstanding.Add(1)
	b := &event.Batch{Events: events}
	b.Ack = ack.New(func(s ack.Status) { t.release(marks, s) })
	return t.emit(ctx, b)
}

// release records the outcome of one batch. It may run on any goroutine.
func (t *tailer) release(marks []mark, s ack.Status) {
	moved := false
	for _, m := range marks {
		moved = m.st.tr.Done(m.seq, s) || moved
	}
	if moved {
		t.dirty.Store(true)
	}
	if !s.Committable() && !t.abandoned.Swap(true) {
		t.log.Warn("a batch was abandoned; checkpoints of its files stay before it until a restart")
	}
	t.outstanding.Add(-1)
	select {
	case t.ackWake <- struct{}{}:
	default:
	}
}
