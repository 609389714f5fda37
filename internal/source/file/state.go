package file

import (
	"cmp"
	"slices"
	"time"

	"github.com/sluice-log/sluice/internal/checkpoint"
)

// savedEntry is a loaded checkpoint with its fingerprint decoded.
type savedEntry struct {
	entry
	sum uint64
}

// newStream starts a checkpointed stream for f's content at offset start,
// with fpLen bytes of fingerprint fp.
func (t *tailer) newStream(f *file, start int64, fpLen int, fp uint64) *stream {
	st := &stream{tr: checkpoint.NewTracker(start), path: f.cur, id: f.id, fpLen: fpLen, fp: fp}
	t.mu.Lock()
	t.streams[st] = struct{}{}
	t.mu.Unlock()
	t.dirty.Store(true)
	return st
}

// forget removes a stream from the checkpoint; its late acknowledgements
// still reach its tracker, which nobody saves any more.
func (t *tailer) forget(st *stream) {
	t.mu.Lock()
	delete(t.streams, st)
	t.mu.Unlock()
	t.dirty.Store(true)
}

// park keeps a stream's checkpoint among the saved ones, to be claimed by
// inode (and fingerprint) if the file is found again.
func (t *tailer) park(st *stream, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := entry{Path: st.path, Dev: st.id.Dev, Inode: st.id.Ino, FingerprintBytes: st.fpLen,
		Fingerprint: hexSum(st.fp), Offset: st.tr.Committed(), Seen: now.Unix()}
	t.saved[st.id] = savedEntry{entry: e, sum: st.fp}
}

// setMeta updates what the checkpoint records about a stream.
func (t *tailer) setMeta(st *stream, path string, fpLen int, fp uint64) {
	t.mu.Lock()
	st.path, st.fpLen, st.fp = path, fpLen, fp
	t.mu.Unlock()
	t.dirty.Store(true)
}

// claimByID takes the saved checkpoint of inode id if the file's first
// bytes hd still match its fingerprint.
func (t *tailer) claimByID(id devIno, hd []byte) (entry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.saved[id]
	if !ok || e.FingerprintBytes > len(hd) || checksum(hd[:e.FingerprintBytes]) != e.sum {
		return entry{}, false
	}
	delete(t.saved, id)
	return e.entry, true
}

// claimByFingerprint takes a saved checkpoint with the same full
// fingerprint: the file moved, was copied, or its device number changed
// while sluice was stopped. Checkpoints whose inode still holds the same
// content were claimed by inode before, so only stale ones are left.
func (t *tailer) claimByFingerprint(fpLen int, sum uint64) (entry, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var best *savedEntry
	for _, e := range t.saved {
		if e.FingerprintBytes == fpLen && e.sum == sum && (best == nil || e.Offset > best.Offset) {
			best = &e
		}
	}
	if best == nil {
		return entry{}, false
	}
	delete(t.saved, best.id())
	return best.entry, true
}

// dropSaved forgets saved checkpoints of the given inodes, which now hold
// other content.
func (t *tailer) dropSaved(ids []devIno) {
	t.mu.Lock()
	for _, id := range ids {
		delete(t.saved, id)
	}
	t.mu.Unlock()
}

// snapshot is the checkpoint document: committed offsets of the followed
// streams plus saved checkpoints of files not found (yet), kept for a week.
func (t *tailer) snapshot() state {
	now := t.now().Unix()
	seen := now - now%3600 // coarse, so an idle checkpoint is not rewritten
	t.mu.Lock()
	files := make([]entry, 0, len(t.streams)+len(t.saved))
	for st := range t.streams {
		files = append(files, entry{Path: st.path, Dev: st.id.Dev, Inode: st.id.Ino,
			FingerprintBytes: st.fpLen, Fingerprint: hexSum(st.fp), Offset: st.tr.Committed(), Seen: seen})
	}
	for _, e := range t.saved {
		if now-e.Seen < int64(forgetAfter.Seconds()) {
			files = append(files, e.entry)
		}
	}
	t.mu.Unlock()
	slices.SortFunc(files, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Dev, b.Dev), cmp.Compare(a.Inode, b.Inode))
	})
	return state{Version: stateVersion, Files: files}
}
