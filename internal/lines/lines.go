// Package lines splits a byte stream into lines without allocating per line.
//
// A Reader keeps one buffer and returns each line as a view into it, valid
// until the next call. It is made for tailing: at the end of the available
// data it returns io.EOF and keeps the partial last line, which it completes
// when the underlying reader has more. Lines longer than the limit are
// split into pieces or truncated, and reported so the caller can count them.
package lines

import (
	"bytes"
	"io"
)

// Mode says what to do with a line longer than the limit.
type Mode uint8

const (
	// Split emits a long line as several lines of at most Max bytes.
	Split Mode = iota
	// Truncate emits the first Max bytes and discards the rest of the line.
	Truncate
)

// Reader reads lines from r.
type Reader struct {
	r    io.Reader
	buf  []byte
	head int // start of unreturned data
	tail int // end of data in buf
	max  int
	mode Mode
	// skipping is set while discarding the rest of a truncated line.
	skipping bool
	// offset counts bytes consumed: up to and including the newline of the
	// last returned line (or the discarded bytes of a truncated one).
	offset int64
	err    error
}

// NewReader returns a Reader with lines of at most max bytes (not counting
// the newline). The buffer starts at min(max+1, 64KiB) and grows to max+1.
func NewReader(r io.Reader, max int, mode Mode) *Reader {
	if max <= 0 {
		max = 1 << 20
	}
	return &Reader{r: r, buf: make([]byte, min(max+1, 256<<10)), max: max, mode: mode}
}

// Reset reuses the reader for a new stream starting at offset.
func (l *Reader) Reset(r io.Reader, offset int64) {
	l.r, l.head, l.tail, l.skipping, l.offset, l.err = r, 0, 0, false, offset, nil
}

// Offset is the stream position just after the last line returned.
func (l *Reader) Offset() int64 { return l.offset }

// Buffered is the number of bytes read but not yet returned as a line.
func (l *Reader) Buffered() int { return l.tail - l.head }

// Next returns the next complete line without its newline. long reports
// that the line was cut at the limit (the first piece of a split line, each
// following full-size piece, or a truncated line). At the end of the
// available data Next returns io.EOF, keeping any partial line; call Next
// again when more data may have arrived, or Flush at the real end.
func (l *Reader) Next() (line []byte, long bool, err error) {
	for {
		if i := bytes.IndexByte(l.buf[l.head:l.tail], '\n'); i >= 0 {
			line = l.buf[l.head : l.head+i]
			l.head += i + 1
			l.offset += int64(i + 1)
			if l.skipping {
				l.skipping = false
				continue
			}
			return line, false, nil
		}
		if n := l.tail - l.head; n > l.max {
			// More than a line's worth and no newline: cut here. (At exactly
			// max bytes the newline may still come with the next read.)
			line = l.buf[l.head : l.head+l.max]
			l.head += l.max
			l.offset += int64(l.max)
			if l.skipping {
				continue
			}
			if l.mode == Truncate {
				l.skipping = true
			}
			return line, true, nil
		}
		if l.err != nil {
			// Report the error once; a tailer calls Next again later.
			err := l.err
			l.err = nil
			return nil, false, err
		}
		l.fill()
	}
}

// fill reads more data, compacting or growing the buffer first.
func (l *Reader) fill() {
	if l.head > 0 {
		copy(l.buf, l.buf[l.head:l.tail])
		l.tail -= l.head
		l.head = 0
	}
	if l.tail == len(l.buf) {
		grown := make([]byte, min(2*len(l.buf), l.max+1))
		copy(grown, l.buf[:l.tail])
		l.buf = grown
	}
	n, err := l.r.Read(l.buf[l.tail:])
	l.tail += n
	if err == nil && n == 0 {
		err = io.ErrNoProgress
	}
	if err != nil {
		l.err = err
	}
}

// Flush returns the partial line left at the end of the stream, if any, and
// consumes it. Use it when the input has really ended (stdin closed, a
// rotated file fully read, a multi-line timeout).
func (l *Reader) Flush() (line []byte, ok bool) {
	if l.head == l.tail {
		return nil, false
	}
	line = l.buf[l.head:l.tail]
	l.offset += int64(l.tail - l.head)
	l.head = l.tail
	if l.skipping {
		l.skipping = false
		return nil, false
	}
	return line, true
}
