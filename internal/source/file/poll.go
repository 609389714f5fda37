package file

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"time"
)

// errReplaced means a path no longer leads to the inode being followed.
var errReplaced = errors.New("file was replaced")

// poll checks the open files for growth and truncation, and drops files
// that were rotated away and stayed quiet for rotate_wait. Closed files are
// checked by the glob scan, which stats them anyway.
func (t *tailer) poll(ctx context.Context, now time.Time) {
	t.lastPoll = now
	for f := range t.files {
		if f.fd == nil {
			continue
		}
		fi, err := f.fd.Stat()
		if err != nil {
			t.fail("checking file", f, err)
			continue
		}
		t.noteStat(f, fi, now)
	}
	wait := t.cfg.RotateWait.D()
	for f := range t.files {
		// Quiet for rotate_wait: finish reads whatever is left, a partial
		// last line included (which keeps such a file active forever).
		if !f.goneAt.IsZero() && now.Sub(f.goneAt) >= wait && now.Sub(f.lastData) >= wait {
			t.finish(ctx, f)
		}
	}
}

// noteStat takes in a file's current size and mtime: a change makes it
// check its head for truncation or replacement; growth queues it.
func (t *tailer) noteStat(f *file, fi fs.FileInfo, now time.Time) {
	size, mtime := fi.Size(), fi.ModTime()
	if size != f.size || !mtime.Equal(f.mtime) {
		f.size, f.mtime, f.lastData = size, mtime, now
		if f.fd != nil && (size < f.offset || !t.checkHead(f)) {
			t.truncated(f)
		}
	}
	if f.size != f.offset {
		t.activate(f)
	}
	if f.lag != nil && f.goneAt.IsZero() {
		f.lag.Set(float64(f.size - f.st.tr.Committed()))
	}
}

// checkHead verifies that the open file still starts with the bytes its
// stream was fingerprinted with, and extends the fingerprint while the file
// is shorter than fingerprint_bytes.
func (t *tailer) checkHead(f *file) bool {
	n, err := head(f.fd, t.buf, int(min(f.size, int64(len(t.buf)))))
	if err != nil {
		t.fail("reading file head", f, err)
		return true // cannot tell; keep going
	}
	st := f.st
	if n < st.fpLen || checksum(t.buf[:st.fpLen]) != st.fp {
		return false
	}
	if n > st.fpLen {
		t.setMeta(st, st.path, n, checksum(t.buf[:n]))
	}
	return true
}

// truncated restarts f at offset 0 with a new stream: its old content is
// gone (truncated, copytruncate) or the inode now holds another file.
func (t *tailer) truncated(f *file) {
	t.truncations.Inc()
	t.log.Info("file truncated or replaced; reading it from the start", "path", f.path, "offset", f.offset)
	t.flushRecord(f)
	t.retire(f)
	t.forget(f.st)
	if t.attached == f {
		t.attached = nil
	}
	f.offset, f.skipRest, f.inLong, f.tailLen = 0, false, false, 0
	f.st = t.newStream(f, 0, 0, checksum(nil))
	if f.fd != nil {
		t.checkHead(f)
	}
	t.activate(f)
}

// activate queues f for reading.
func (t *tailer) activate(f *file) {
	if !f.active && !f.dropped {
		f.active = true
		t.active = append(t.active, f)
	}
}

// finish reads a rotated-away file to its very end, partial last line
// included, and stops following it.
func (t *tailer) finish(ctx context.Context, f *file) {
	if f.fd != nil {
		if err := t.readRest(ctx, f); err != nil {
			return // shutting down: its lines are not committed
		}
	}
	t.drop(f)
}

// drop stops following f.
func (t *tailer) drop(f *file) {
	t.flushRecord(f)
	t.closeFD(f)
	f.dropped, f.active = true, false
	delete(t.files, f)
	delete(t.pending, f)
	if t.byPath[f.cur] == f {
		delete(t.byPath, f.cur)
	}
	t.forget(f.st)
	if g, ok := t.byPath[f.path]; !ok || g == f {
		t.deps.Metrics.DeleteGauge("file_checkpoint_lag_bytes", []string{"file"}, f.path)
	}
}

// closeFD closes f's descriptor, if open.
func (t *tailer) closeFD(f *file) {
	if f.fd == nil {
		return
	}
	if t.attached == f {
		t.attached = nil
	}
	f.fd.Close()
	f.fd = nil
	t.open--
}

// openFD reopens a closed file by path and checks it is the same inode.
func (t *tailer) openFD(f *file) (fs.FileInfo, error) {
	t.makeRoom()
	h, err := os.Open(f.cur)
	if err != nil {
		return nil, err
	}
	fi, err := h.Stat()
	if err == nil && identity(fi) != f.id {
		err = errReplaced
	}
	if err != nil {
		h.Close()
		return nil, err
	}
	f.fd = h
	t.open++
	return fi, nil
}

// makeRoom closes the least recently active live file when max_open_files
// descriptors are open. Rotated-away files are never closed early: they
// could not be found again.
func (t *tailer) makeRoom() {
	for t.open >= t.cfg.MaxOpenFiles {
		var lru *file
		for f := range t.files {
			if f.fd != nil && f.goneAt.IsZero() && (lru == nil || f.lastData.Before(lru.lastData)) {
				lru = f
			}
		}
		if lru == nil {
			return
		}
		t.closeFD(lru)
	}
}

// expire flushes multi-line records that waited timeout for another line,
// unless their file has unread data (the continuation may be there).
func (t *tailer) expire(now time.Time) {
	for f := range t.pending {
		if f.active {
			continue
		}
		if d := t.joiner.deadline(&f.rec); !now.Before(d) {
			t.curNow = now
			t.flushRecord(f)
		}
	}
}

// flushRecord emits f's pending multi-line record, if any.
func (t *tailer) flushRecord(f *file) {
	if t.joiner == nil || f.rec.lines == 0 {
		return
	}
	t.cur = f
	if t.curNow.IsZero() {
		t.curNow = t.now()
	}
	t.joiner.flush(&f.rec, t)
	delete(t.pending, f)
}
