package daemon

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"

	"github.com/sluice-log/sluice/internal/mtail"
)

// follower polls the --logs patterns and the files they name, as mtail
// does: files present at start are read from their end, files that appear
// later from their start; a file replaced (new inode) is drained and then
// reopened from its start, a truncated one (copytruncate) is read again
// from its start. Complete lines go to the feeder; a partial last line
// waits for its newline.
type follower struct {
	patterns []string
	feeder   *mtail.Feeder
	logger   *slog.Logger
	files    map[string]*tailed
	lines    func(path string, n int)
	// rotated is told of each rotation (rename or truncation) of a path.
	rotated func(path string)
	buf     []byte
}

type tailed struct {
	f       *os.File
	off     int64
	partial []byte
}

func newFollower(patterns []string, fd *mtail.Feeder, logger *slog.Logger, lines func(string, int)) *follower {
	return &follower{patterns: patterns, feeder: fd, logger: logger, files: map[string]*tailed{}, lines: lines,
		buf: make([]byte, 256<<10)}
}

func (fl *follower) scan(start bool) {
	paths, err := mtail.ExpandLogs(fl.patterns)
	if err != nil {
		fl.logger.Warn("expanding --logs", "error", err)
	}
	for _, p := range paths {
		if _, ok := fl.files[p]; !ok {
			fl.open(p, start)
		}
	}
	for p, tf := range fl.files {
		fl.read(p, tf)
		fl.checkRotation(p, tf)
	}
}

func (fl *follower) open(path string, atEnd bool) {
	f, err := os.Open(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			fl.logger.Warn("opening log", "path", path, "error", err)
		}
		return
	}
	tf := &tailed{f: f}
	if atEnd {
		if tf.off, err = f.Seek(0, io.SeekEnd); err != nil {
			fl.logger.Warn("seeking log", "path", path, "error", err)
		}
	}
	fl.files[path] = tf
}

// read gives every complete line appended since the last read.
func (fl *follower) read(path string, tf *tailed) {
	if st, err := tf.f.Stat(); err == nil && st.Size() < tf.off {
		tf.off, tf.partial = 0, tf.partial[:0] // truncated
		if fl.rotated != nil {
			fl.rotated(path)
		}
	}
	for {
		n, err := tf.f.ReadAt(fl.buf, tf.off)
		if n > 0 {
			tf.off += int64(n)
			fl.emit(path, tf, fl.buf[:n])
		}
		if err != nil || n < len(fl.buf) {
			return
		}
	}
}

func (fl *follower) emit(path string, tf *tailed, b []byte) {
	last := bytes.LastIndexByte(b, '\n')
	if last < 0 {
		tf.partial = append(tf.partial, b...)
		return
	}
	data := b[:last+1]
	if len(tf.partial) > 0 {
		data = append(tf.partial, data...)
	}
	n := bytes.Count(data, []byte{'\n'})
	_ = fl.feeder.Lines(bytes.NewReader(data), path)
	if fl.lines != nil {
		fl.lines(path, n)
	}
	tf.partial = append(tf.partial[:0], b[last+1:]...)
}

// checkRotation reopens a path that now names another file.
func (fl *follower) checkRotation(path string, tf *tailed) {
	cur, err := os.Stat(path)
	if err != nil {
		return // gone: keep reading the open file until it comes back
	}
	old, err := tf.f.Stat()
	if err == nil && os.SameFile(cur, old) {
		return
	}
	fl.read(path, tf)
	tf.f.Close()
	delete(fl.files, path)
	fl.open(path, false)
	if fl.rotated != nil {
		fl.rotated(path)
	}
}
