package file

import (
	"regexp"
	"time"
)

// joiner joins the lines of multi-line records (stack traces): a line that
// matches start begins a new record, any other line is appended to the
// current one with "\n". It keeps no state of its own; each file has a
// record.
type joiner struct {
	start    *regexp.Regexp
	maxLines int
	maxBytes int
	timeout  time.Duration
}

// record is the multi-line record being joined for one file.
type record struct {
	buf   []byte
	lines int
	end   int64     // offset just after its last line
	last  time.Time // when its last line was added
}

// recordSink receives finished records. msg is only valid during the call.
type recordSink interface {
	record(msg []byte, end int64)
}

// bigRecord is the buffer capacity above which a flushed record's buffer is
// released instead of kept for the next record, so thousands of files do not
// each pin a megabyte.
const bigRecord = 64 << 10

// add feeds one line that ends at offset end. A finished record, if the
// line completes one, goes to out first.
func (j *joiner) add(r *record, line []byte, end int64, now time.Time, out recordSink) {
	if r.lines > 0 && (r.lines >= j.maxLines || len(r.buf)+1+len(line) > j.maxBytes || j.start.Match(line)) {
		j.flush(r, out)
	}
	if r.lines > 0 {
		r.buf = append(r.buf, '\n')
	}
	r.buf = append(r.buf, line...)
	r.lines++
	r.end, r.last = end, now
}

// flush hands the pending record, if any, to out.
func (j *joiner) flush(r *record, out recordSink) {
	if r.lines == 0 {
		return
	}
	out.record(r.buf, r.end)
	r.lines = 0
	if cap(r.buf) > bigRecord {
		r.buf = nil
	} else {
		r.buf = r.buf[:0]
	}
}

// deadline is when the pending record times out; zero when none is pending.
func (j *joiner) deadline(r *record) time.Time {
	if r.lines == 0 {
		return time.Time{}
	}
	return r.last.Add(j.timeout)
}
