package file

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// retryUnreadable is how long a file that could not be opened is left alone.
const retryUnreadable = time.Minute

// maxRetired bounds the truncated contents remembered for copy detection.
const maxRetired = 64

// found is a regular file a glob matched.
type found struct {
	path string
	fi   fs.FileInfo
	id   devIno
}

// glob expands the include patterns, minus the excluded paths, in order.
func (t *tailer) glob() []string {
	var out []string
	for _, pat := range t.cfg.Include {
		matches, _ := filepath.Glob(pat) // patterns were validated
		for _, m := range matches {
			if !t.excluded(m) {
				out = append(out, m)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (t *tailer) excluded(path string) bool {
	for _, pat := range t.cfg.Exclude {
		if ok, _ := filepath.Match(pat, path); ok {
			return true
		}
		if ok, _ := filepath.Match(pat, filepath.Base(path)); ok && !strings.ContainsRune(pat, '/') {
			return true
		}
	}
	return false
}

// stats finds the regular files the globs match, one path per inode.
func (t *tailer) stats() map[devIno]found {
	seen := map[devIno]found{}
	for _, p := range t.glob() {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		id := identity(fi)
		if _, dup := seen[id]; !dup {
			seen[id] = found{path: p, fi: fi, id: id}
		}
	}
	return seen
}

// scan matches the globs against the followed files: it notes renamed,
// rotated and deleted files and starts following new ones. first is the
// scan at start-up, where read_from applies.
func (t *tailer) scan(now time.Time, first bool) {
	t.lastScan, t.scanSoon, t.rescanAt = now, false, time.Time{}
	seen := t.stats()
	t.byPath = make(map[string]*file, len(t.byPath))
	for f := range t.files {
		fd, ok := seen[f.id]
		if !ok {
			if f.goneAt.IsZero() {
				t.gone(f, now)
			}
			continue
		}
		delete(seen, f.id)
		f.goneAt = time.Time{}
		if f.cur != fd.path {
			if f.cur != "" {
				t.rotated(f, fd.path)
			}
			f.cur = fd.path
			t.setMeta(f.st, fd.path, f.st.fpLen, f.st.fp)
		}
		t.byPath[fd.path] = f
		if f.fd == nil {
			t.noteStat(f, fd.fi, now)
		}
	}
	t.discoverAll(seen, first, now)
	t.watchDirs()
}

// rotated counts a file renamed away from its path; to is "" when its new
// name is not matched.
func (t *tailer) rotated(f *file, to string) {
	t.rotations.Inc()
	t.log.Info("file rotated", "path", f.cur, "to", to)
}

// gone handles a file no glob finds any more: renamed away or deleted. An
// open one is read to its end first; a closed one cannot be found again.
func (t *tailer) gone(f *file, now time.Time) {
	if f.fd != nil {
		// A deleted file has no links left; a renamed one still has.
		if fi, err := f.fd.Stat(); err == nil && links(fi) > 0 {
			t.rotated(f, "")
		}
	}
	f.goneAt, f.cur = now, ""
	if f.fd == nil {
		// Keep its checkpoint: if a scan merely missed it (a directory
		// listing racing a rename), it is resumed when found again.
		t.park(f.st, now)
		t.drop(f)
		return
	}
	t.activate(f)
}

// candidate is a newly found file waiting for its start offset.
type candidate struct {
	f   *file
	hd  int // bytes of head read
	sum uint64
}

// discoverAll starts following newly found files. Checkpoints are matched
// by inode first, for every file, and only then by fingerprint, so a file
// that moved cannot take the checkpoint of one that did not.
func (t *tailer) discoverAll(seen map[devIno]found, first bool, now time.Time) {
	list := make([]found, 0, len(seen))
	for _, fd := range seen {
		list = append(list, fd)
	}
	slices.SortFunc(list, func(a, b found) int { return strings.Compare(a.path, b.path) })
	var rest []candidate
	for _, fd := range list {
		c, ok := t.open1(fd, now)
		if !ok {
			continue
		}
		if e, ok := t.claimByID(c.f.id, t.buf[:c.hd]); ok {
			t.start(c, t.resume(c.f, e.Offset))
			continue
		}
		if t.open >= t.cfg.MaxOpenFiles {
			t.closeFD(c.f)
		}
		rest = append(rest, c)
	}
	var stale []devIno
	for _, c := range rest {
		if !first && t.copyInProgress(c, now) {
			// Decide on a scan soon, once the copy is complete.
			t.closeFD(c.f)
			t.rescanAt = now.Add(rescanDelay)
			continue
		}
		stale = append(stale, c.f.id)
		t.start(c, t.startOffset(c, first))
	}
	for f := range t.files {
		stale = append(stale, f.id)
	}
	t.dropSaved(stale)
}

// open1 opens a newly found file and checksums its head.
func (t *tailer) open1(fd found, now time.Time) (candidate, bool) {
	if next, ok := t.unreadable[fd.id]; ok && now.Before(next) {
		return candidate{}, false
	}
	t.makeRoom()
	h, err := os.Open(fd.path)
	if err == nil {
		var fi fs.FileInfo
		if fi, err = h.Stat(); err == nil {
			fd.fi, fd.id = fi, identity(fi)
		}
	}
	f := &file{path: fd.path, cur: fd.path, id: fd.id, fd: h, size: fd.fi.Size(), mtime: fd.fi.ModTime(), lastData: now}
	var n int
	if err == nil {
		n, err = head(h, t.buf, int(min(f.size, int64(len(t.buf)))))
	}
	if err != nil {
		if h != nil {
			h.Close()
		}
		t.unreadable[fd.id] = now.Add(retryUnreadable)
		t.fail("opening file", f, err)
		return candidate{}, false
	}
	delete(t.unreadable, fd.id)
	t.open++
	return candidate{f: f, hd: n, sum: checksum(t.buf[:n])}, true
}

// startOffset picks where a file without a checkpoint of its inode starts.
func (t *tailer) startOffset(c candidate, first bool) int64 {
	full := c.hd == len(t.buf)
	if full {
		if e, ok := t.claimByFingerprint(c.hd, c.sum); ok {
			t.log.Info("file matched a checkpoint by fingerprint", "path", c.f.path, "was", e.Path)
			return t.resume(c.f, e.Offset)
		}
		if !first {
			if off, ok := t.copyOf(c); ok {
				t.log.Info("file is a copy of one being read; continuing where that one was", "path", c.f.path, "offset", off)
				return off
			}
		}
	}
	if t.once || !first || !t.fresh || t.cfg.ReadFrom == "beginning" {
		return 0
	}
	return t.endOffset(c.f)
}

// resume starts at a checkpoint, unless the file is now shorter.
func (t *tailer) resume(f *file, off int64) int64 {
	if f.size < off {
		t.truncations.Inc()
		t.log.Info("file shorter than its checkpoint; reading it from the start", "path", f.path)
		return 0
	}
	return off
}

// endOffset is the start of the last, unfinished line of f (its size when
// it ends with a newline), so read_from: end never emits half a line.
func (t *tailer) endOffset(f *file) int64 {
	if f.fd == nil {
		if _, err := t.openFD(f); err != nil {
			return f.size
		}
	}
	n := int(min(f.size, 4096))
	buf := make([]byte, n)
	got, _ := f.fd.ReadAt(buf, f.size-int64(n))
	buf = buf[:got]
	if got == 0 || buf[got-1] == '\n' {
		return f.size
	}
	for i := got - 1; i >= 0; i-- {
		if buf[i] == '\n' {
			return f.size - int64(got-i-1)
		}
	}
	return f.size
}

// copyOf finds a file being read (or truncated recently) whose content c
// copies: the same first bytes and the same bytes before its read offset.
// copytruncate rotation makes such copies.
func (t *tailer) copyOf(c candidate) (int64, bool) {
	check := func(off int64, tl int, ts uint64) bool {
		if off == 0 || tl == 0 || c.f.size < off {
			return false
		}
		if c.f.fd == nil {
			if _, err := t.openFD(c.f); err != nil {
				return false
			}
		}
		sum, n, err := tailSum(c.f.fd, t.buf[:tl], off)
		return err == nil && n == tl && sum == ts
	}
	for f := range t.files {
		if f.st.fpLen == c.hd && f.st.fp == c.sum && f.id != c.f.id && check(f.offset, f.tailLen, f.tailSum) {
			return f.offset, true
		}
	}
	for _, r := range slices.Backward(t.retired) {
		if r.fp == c.sum && check(r.offset, r.tailLen, r.tailSum) {
			return r.offset, true
		}
	}
	return 0, false
}

// copyWait bounds how long a new file that looks like an unfinished copy
// of one being read is left alone before it is read as a file of its own.
const copyWait = 5 * time.Second

// rescanDelay is how soon an undecided new file is looked at again.
const rescanDelay = 50 * time.Millisecond

// copyInProgress reports a new file that may be a copy still being
// written of a file being read (or truncated recently): copytruncate
// creates the copy empty and fills it, and deciding now would read the
// whole copy again as a new file. Such a file is empty, or starts like a
// followed file but is shorter than what was read of it; it is left for a
// later scan until it is complete or has not changed for copyWait.
func (t *tailer) copyInProgress(c candidate, now time.Time) bool {
	if now.Sub(c.f.mtime) > copyWait {
		return false
	}
	if c.hd == 0 {
		return true
	}
	if c.hd < len(t.buf) {
		return t.prefixOfFollowed(c)
	}
	for f := range t.files {
		if f.st.fpLen == c.hd && f.st.fp == c.sum && f.id != c.f.id && c.f.size < f.offset {
			return true
		}
	}
	for _, r := range t.retired {
		if r.fp == c.sum && c.f.size < r.offset {
			return true
		}
	}
	return false
}

// prefixOfFollowed reports whether c's first bytes (fewer than a full
// fingerprint) are the first bytes of a followed file read past them.
func (t *tailer) prefixOfFollowed(c candidate) bool {
	if c.f.fd == nil {
		return false
	}
	mine := make([]byte, c.hd)
	if n, _ := c.f.fd.ReadAt(mine, 0); n != c.hd {
		return false
	}
	theirs := make([]byte, c.hd)
	for f := range t.files {
		if f.id == c.f.id || f.fd == nil || f.offset <= int64(c.hd) {
			continue
		}
		if n, _ := f.fd.ReadAt(theirs, 0); n == c.hd && string(theirs) == string(mine) {
			return true
		}
	}
	return false
}

// start begins following a file at offset off.
func (t *tailer) start(c candidate, off int64) {
	f := c.f
	f.offset = off
	f.st = t.newStream(f, off, c.hd, c.sum)
	t.files[f] = struct{}{}
	t.byPath[f.cur] = f
	f.lag = t.deps.Metrics.Gauge("file_checkpoint_lag_bytes",
		"Bytes of a file not yet acknowledged (size minus committed offset).", []string{"file"}, f.path)
	if f.size > off {
		t.activate(f)
	}
}

// retire remembers f's content before a truncation, for copyOf.
func (t *tailer) retire(f *file) {
	if f.st.fpLen != len(t.buf) || f.tailLen == 0 {
		return
	}
	if len(t.retired) == maxRetired {
		t.retired = slices.Delete(t.retired, 0, 1)
	}
	t.retired = append(t.retired, retired{fp: f.st.fp, offset: f.offset, tailLen: f.tailLen, tailSum: f.tailSum})
}
