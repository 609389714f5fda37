package syslog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ErrFrameTooLarge is returned by Reader.Next for an octet-counted frame
// whose announced length exceeds the maximum message size. The stream cannot
// be resynchronised after it, so the connection should be closed.
var ErrFrameTooLarge = errors.New("octet-counted frame larger than max message size")

const (
	initialBuffer = 4 << 10
	// growTarget is how large the buffer grows while reads keep filling it,
	// so that a busy connection reads in large chunks.
	growTarget = 64 << 10
	// maxCountDigits bounds the digits scanned as a possible octet count.
	maxCountDigits = 18
)

// Reader splits a syslog byte stream into frames (RFC 6587). Each frame is
// detected on its own, so one connection may mix framings: a frame that
// starts with a non-zero digit, more digits, a space and '<' is octet
// counted ("105 <13>1 ..."); anything else ends at the next LF, which is
// removed (a CR before it is kept, as is every other byte, NUL included).
//
// A newline-framed frame longer than the maximum size is truncated to it;
// the rest up to the LF is discarded and Truncated is incremented. An
// octet count above the maximum is ErrFrameTooLarge. Empty frames are
// skipped. At the end of the stream a final unterminated frame, or the
// received part of an octet-counted frame, is returned before the error;
// such a cut-short octet-counted frame increments Short, so the caller can
// count it and mark it as incomplete.
type Reader struct {
	// SplitNUL also ends frames at NUL bytes, for unix stream sockets that
	// glibc's syslog(3) writes NUL-terminated messages to.
	SplitNUL bool
	// Truncated counts frames cut to the maximum size.
	Truncated int
	// Short counts octet-counted frames of which the stream ended before
	// the announced count of bytes arrived (the peer closed, or the read
	// failed). The frame returned holds the bytes received.
	Short int

	rd         io.Reader
	buf        []byte
	r, w       int
	max        int
	limit      int   // the largest the buffer may grow
	scanned    int   // bytes at buf[r:] known to hold no delimiter
	err        error // sticky read error
	filled     bool  // the last read filled the buffer
	discarding bool  // dropping the rest of a truncated frame
}

// NewReader returns a Reader of frames of at most maxSize bytes.
func NewReader(rd io.Reader, maxSize int) *Reader {
	maxSize = max(maxSize, 1)
	limit := maxSize + maxCountDigits + 2
	return &Reader{rd: rd, max: maxSize, limit: limit, buf: make([]byte, min(initialBuffer, limit))}
}

// Buffered returns the number of bytes read from the stream but not yet
// returned as frames.
func (r *Reader) Buffered() int { return r.w - r.r }

// Next returns the next frame. The slice is valid until the next call.
func (r *Reader) Next() ([]byte, error) {
	for {
		if r.discarding {
			if err := r.discard(); err != nil {
				return nil, err
			}
			continue
		}
		if r.r == r.w {
			if err := r.fill(); err != nil {
				return nil, err
			}
			continue
		}
		if c := r.buf[r.r]; c >= '1' && c <= '9' {
			n, hdr, err := r.octetHeader()
			if err != nil {
				return nil, err
			}
			if hdr > 0 {
				return r.octetFrame(n, hdr)
			}
		}
		frame, err := r.line()
		if len(frame) > 0 || err != nil {
			return frame, err
		}
	}
}

// fill reads once more into the buffer, compacting or growing it first.
func (r *Reader) fill() error {
	if r.err != nil {
		return r.err
	}
	if r.r > 0 && (r.r == r.w || len(r.buf)-r.w < len(r.buf)/4) {
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	if r.w == len(r.buf) || (r.filled && len(r.buf) < min(growTarget, r.limit)) {
		if len(r.buf) >= r.limit {
			return fmt.Errorf("framing buffer full at %d bytes", len(r.buf)) // unreachable: frames fit
		}
		nb := make([]byte, min(2*len(r.buf), r.limit))
		r.w = copy(nb, r.buf[r.r:r.w])
		r.r, r.buf = 0, nb
	}
	for range 100 {
		n, err := r.rd.Read(r.buf[r.w:])
		r.w += n
		r.filled = r.w == len(r.buf)
		if err != nil {
			r.err = err
			if n > 0 {
				return nil
			}
			return err
		}
		if n > 0 {
			return nil
		}
	}
	r.err = io.ErrNoProgress
	return r.err
}

// octetHeader checks for "COUNT SP <" at buf[r:]. It returns hdr 0 when the
// frame is not octet counted, else the count and the header length.
func (r *Reader) octetHeader() (n, hdr int, err error) {
	for k := 0; ; k++ {
		if r.r+k+1 >= r.w && r.fill() != nil {
			return 0, 0, nil // at the end: whatever is left is a line
		}
		c := r.buf[r.r+k]
		switch {
		case isDigit(c) && k < maxCountDigits:
			n = n*10 + int(c-'0')
			continue
		case c != ' ' || r.buf[r.r+k+1] != '<':
			return 0, 0, nil
		case n > r.max:
			return 0, 0, fmt.Errorf("reading frame of %d bytes: %w", n, ErrFrameTooLarge)
		}
		return n, k + 1, nil
	}
}

// octetFrame returns the n bytes after the hdr-byte header at buf[r:].
func (r *Reader) octetFrame(n, hdr int) ([]byte, error) {
	r.r += hdr
	r.scanned = 0
	for r.w-r.r < n {
		if err := r.fill(); err != nil {
			frame := r.buf[r.r:r.w]
			r.r = r.w
			r.Short++
			return frame, nil // the error repeats on the next call
		}
	}
	frame := r.buf[r.r : r.r+n]
	r.r += n
	// rsyslog's and syslog-ng's forwarders end the message inside the count
	// with a LF; their receivers drop it, and so does sluice.
	if n > 0 && frame[n-1] == '\n' {
		frame = frame[:n-1]
	}
	return frame, nil
}

func (r *Reader) index(b []byte) int {
	i := bytes.IndexByte(b, '\n')
	if r.SplitNUL {
		if j := bytes.IndexByte(b, 0); j >= 0 && (i < 0 || j < i) {
			return j
		}
	}
	return i
}

// line returns the frame up to the next delimiter, truncating it at max.
func (r *Reader) line() ([]byte, error) {
	for {
		if i := r.index(r.buf[r.r+r.scanned : r.w]); i >= 0 {
			end := r.r + r.scanned + i
			frame := r.buf[r.r:min(end, r.r+r.max)]
			if end-r.r > r.max {
				r.Truncated++
			}
			r.r, r.scanned = end+1, 0
			return frame, nil
		}
		r.scanned = r.w - r.r
		if r.scanned > r.max {
			frame := r.buf[r.r : r.r+r.max]
			r.r, r.scanned = r.r+r.max, 0
			r.discarding = true
			r.Truncated++
			return frame, nil
		}
		if err := r.fill(); err != nil {
			if r.r == r.w {
				return nil, err
			}
			frame := r.buf[r.r:r.w]
			r.r, r.scanned = r.w, 0
			return frame, nil // the error repeats on the next call
		}
	}
}

// discard drops bytes up to and including the next delimiter.
func (r *Reader) discard() error {
	for {
		if i := r.index(r.buf[r.r:r.w]); i >= 0 {
			r.r += i + 1
			r.discarding = false
			return nil
		}
		r.r = r.w
		if err := r.fill(); err != nil {
			return err
		}
	}
}
