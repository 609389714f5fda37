package file

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// handle is one open output file. It is opened on first use with O_APPEND
// (creating the file and its directories), collects the encoded lines of
// the current batch in pending, and is written once per batch. Between
// batches pending is empty, so a handle can be closed at any time without
// losing data. The fd's identity (device and inode) is kept to notice when
// the path was renamed away or deleted, as logrotate does.
type handle struct {
	path    string
	f       *os.File
	info    os.FileInfo // of the open fd
	pending []byte

	lastUsed uint64    // LRU clock value of the last use, for eviction
	usedAt   time.Time // time of the last use, for idle closing
	checked  time.Time // last comparison of path and fd identity
	batch    uint64    // the last batch that touched this handle
	err      error     // write error of the current batch, if any
}

// openHandle opens (creating if needed) the file at path for appending.
// With syncDir, the directory is fsynced so that a new file's entry is
// durable too.
func openHandle(path string, syncDir bool) (*handle, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening file: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("opening file: %w", err)
	}
	if !info.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("opening file %s: not a regular file", path)
	}
	if syncDir {
		if err := syncPath(dir); err != nil {
			_ = f.Close()
			return nil, err
		}
	}
	if err := endLine(path, f, info.Size()); err != nil {
		_ = f.Close()
		return nil, err
	}
	return &handle{path: path, f: f, info: info}, nil
}

// endLine terminates a torn last line, left when a previous writer was
// killed mid-write, so that the next record does not run into it.
func endLine(path string, f *os.File, size int64) error {
	if size == 0 {
		return nil
	}
	r, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("checking the end of %s: %w", path, err)
	}
	defer r.Close()
	last := make([]byte, 1)
	if _, err := r.ReadAt(last, size-1); err != nil || last[0] == '\n' {
		return nil
	}
	if _, err := f.Write([]byte{'\n'}); err != nil {
		return fmt.Errorf("ending a torn last line of %s: %w", path, err)
	}
	return nil
}

func syncPath(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing directory: %w", err)
	}
	err = d.Sync()
	_ = d.Close()
	if err != nil {
		return fmt.Errorf("syncing directory: %w", err)
	}
	return nil
}

// moved reports whether the path no longer names the open file: it was
// renamed away, deleted, or replaced.
func (h *handle) moved() bool {
	st, err := os.Stat(h.path)
	return err != nil || !os.SameFile(st, h.info)
}

// flush writes the pending lines, then fsyncs when asked. On error the
// handle must be closed: the retry reopens the file.
func (h *handle) flush(fsync bool) error {
	if len(h.pending) == 0 {
		return nil
	}
	_, err := h.f.Write(h.pending)
	if cap(h.pending) > maxKeptBuffer {
		h.pending = nil
	} else {
		h.pending = h.pending[:0]
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", h.path, err)
	}
	if fsync {
		if err := h.f.Sync(); err != nil {
			return fmt.Errorf("syncing %s: %w", h.path, err)
		}
	}
	return nil
}

// maxKeptBuffer is the largest pending buffer a handle keeps between
// batches; a bigger one (from a huge batch) is freed.
const maxKeptBuffer = 4 << 20

func (h *handle) close() error {
	if err := h.f.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return fmt.Errorf("closing %s: %w", h.path, err)
	}
	return nil
}
