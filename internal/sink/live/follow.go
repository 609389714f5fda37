package live

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/sluice-log/sluice/internal/codec"
	"github.com/sluice-log/sluice/internal/event"
)

// Frame bounds: one SSE event carries at most this many lines or about
// this many bytes; a viewer that is behind gets full frames back to back.
const (
	frameLines = 1000
	frameBytes = 256 << 10
)

// cursor is where a viewer is in one stream.
type cursor struct {
	name string
	s    *Stream // nil until the stream exists
	next uint64
}

// unread reports whether the cursor's stream has lines past it.
func (c *cursor) unread() bool {
	if c.s == nil {
		return false
	}
	_, next := c.s.Bounds()
	return c.next < next
}

// follower is one viewer following streams: its cursors and the buffers it
// reuses from frame to frame, so that following allocates nothing per line
// once warm. It runs on its request's goroutine; a viewer that reads
// slowly blocks only here, while the sink keeps appending to the rings.
type follower struct {
	st   *Store
	q    Query
	now  time.Time
	curs []cursor
	m    matcher

	buf  []byte // records copied out of the rings
	recs []Rec
	out  []byte // the frame being built
	gen  uint64 // the store's generation the cursors were resolved at

	// flush, when set, takes f.out whenever it passes flushAt bytes, so a
	// viewer that is behind does not hold a whole frame in memory.
	flush func([]byte) error
	err   error // from flush: the viewer is gone

	shown, skipped uint64 // totals, for tests and logs
}

// flushAt is how much of a frame a viewer buffers before writing it out.
const flushAt = 32 << 10

func newFollower(st *Store, q Query, now time.Time) *follower {
	f := &follower{st: st, q: q, now: now}
	f.m.q = &f.q
	for _, name := range q.Streams {
		f.curs = append(f.curs, cursor{name: name})
	}
	f.resolve(true)
	return f
}

// resolve attaches cursors to streams: at start, where the query says;
// later, at the start of streams that appeared (or reappeared) since. It
// does the work only when the store's set of streams changed.
func (f *follower) resolve(initial bool) {
	gen := f.st.gen.Load()
	if !initial && gen == f.gen {
		return
	}
	f.gen = gen
	if len(f.q.Streams) == 0 {
		// Every stream: the cursors follow the store's list; a stream gone
		// from the store has no more lines for anyone.
		old := make(map[string]cursor, len(f.curs))
		for _, c := range f.curs {
			old[c.name] = c
		}
		f.curs = f.curs[:0]
		for _, s := range f.st.Streams() {
			c, ok := old[s.name]
			if !ok {
				c = cursor{name: s.name}
			}
			delete(old, s.name)
			f.curs = append(f.curs, c)
		}
		for _, c := range old {
			if c.unread() {
				f.curs = append(f.curs, c) // read to its end first
			}
		}
	}
	for i := range f.curs {
		c := &f.curs[i]
		s := f.st.Get(c.name)
		if s == nil || s == c.s {
			continue
		}
		if c.unread() {
			// The stream was dropped and has come back: finish the old
			// one's lines first (frame resolves again once they are read).
			f.gen = 0
			continue
		}
		// A stream that appeared while following is new from its first
		// line, seq 0: what its ring no longer holds by the time the
		// viewer looks is reported skipped, like any other line missed.
		c.s, c.next = s, 0
		if initial {
			first, next := s.Bounds()
			c.next = f.start(s, first, next)
		}
	}
}

// start is where a cursor begins in a stream that existed when the viewer
// came.
func (f *follower) start(s *Stream, first, next uint64) uint64 {
	if seq, ok := f.q.After[s.name]; ok {
		if seq < next {
			return seq + 1
		}
		// A cursor at or past the stream's end comes from an earlier
		// stream of that name (a sluice restarted without its backlog,
		// or a stream dropped and re-created, numbers from 0 again):
		// everything the stream holds is new to the viewer.
		return 0
	}
	switch {
	case f.q.HasSeq:
		return f.q.SinceSeq
	case f.q.SinceAgo > 0:
		return s.Seek(f.now.Add(-f.q.SinceAgo))
	case f.q.Last > 0:
		return max64(first, next-min(next, uint64(f.q.Last)))
	}
	return next
}

// frame reads what is new in every followed stream, up to a frame's worth,
// and renders it into f.out as SSE events: a "skipped" event per stream
// that the ring moved past, then one "lines" event with the lines merged
// by time. full reports that more is waiting.
func (f *follower) frame() (full bool) {
	f.resolve(false)
	f.buf, f.recs, f.out = f.buf[:0], f.recs[:0], f.out[:0]
	share := max(64, frameLines/max(1, len(f.curs)))
	for i := range f.curs {
		c := &f.curs[i]
		if c.s == nil {
			continue
		}
		from := c.next
		var skipped uint64
		n0 := len(f.recs)
		c.next, skipped, f.buf, f.recs = c.s.ReadFrom(from, share, frameBytes/max(1, len(f.curs)), f.buf, f.recs)
		for j := n0; j < len(f.recs); j++ {
			f.recs[j].k = i
		}
		if skipped > 0 {
			f.skipped += skipped
			f.out = appendSkipped(f.out, c.name, skipped, from, from+skipped)
		}
		if _, next := c.s.Bounds(); c.next < next {
			full = true
		}
	}
	f.fixData()
	if len(f.curs) > 1 {
		// Merge by time; equal times keep stream and seq order.
		slices.SortFunc(f.recs, func(a, b Rec) int {
			if c := cmpInt64(a.TS, b.TS); c != 0 {
				return c
			}
			if a.k != b.k {
				return a.k - b.k
			}
			return cmpInt64(int64(a.Seq), int64(b.Seq))
		})
	}
	f.renderLines()
	return full
}

// fixData points each Rec at its bytes in f.buf, which may have moved as
// it grew.
func (f *follower) fixData() {
	for i := range f.recs {
		r := &f.recs[i]
		r.Data = f.buf[r.off : r.off+r.n]
	}
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// renderLines appends one "lines" event with the records that pass the
// filters; none, no event.
func (f *follower) renderLines() {
	start := len(f.out)
	f.out = append(f.out, "event: lines\ndata: {\"lines\":["...)
	n := 0
	for i := range f.recs {
		r := &f.recs[i]
		rec, err := parseRecord(r.Data)
		if err != nil || !f.m.match(&rec, r.TS) {
			continue
		}
		if n > 0 {
			f.out = append(f.out, ',')
		}
		f.out = appendLine(f.out, r.Stream.name, r.Seq, &rec, r.TS)
		n++
		if len(f.out) > flushAt && f.flush != nil && f.err == nil {
			f.err = f.flush(f.out)
			f.out = f.out[:0]
		}
	}
	if n == 0 {
		f.out = f.out[:start]
		return
	}
	f.shown += uint64(n)
	f.out = append(f.out, "],\"behind\":"...)
	f.out = strconv.AppendUint(f.out, f.behind(), 10)
	f.out = append(f.out, "}\n\n"...)
}

// behind is how many lines are in the followed rings past the cursors.
func (f *follower) behind() uint64 {
	var n uint64
	for i := range f.curs {
		if c := &f.curs[i]; c.s != nil {
			if _, next := c.s.Bounds(); next > c.next {
				n += next - c.next
			}
		}
	}
	return n
}

// appendLine renders one line: {"stream","seq","timestamp","event"}.
func appendLine(buf []byte, stream string, seq uint64, rec *record, ts int64) []byte {
	buf = append(buf, `{"stream":`...)
	buf = event.AppendJSONString(buf, stream)
	buf = append(buf, `,"seq":`...)
	buf = strconv.AppendUint(buf, seq, 10)
	buf = append(buf, `,"timestamp":"`...)
	start := len(buf)
	buf = codec.AppendTime(buf, time.Unix(0, ts).UTC())
	end := len(buf)
	buf = append(buf, `","event":{"timestamp":"`...)
	buf = append(buf, buf[start:end]...) // formatted once
	buf = appendEventRest(buf, rec)
	return append(buf, '}')
}

func appendSkipped(buf []byte, stream string, n, from, to uint64) []byte {
	buf = append(buf, "event: skipped\ndata: {\"stream\":"...)
	buf = event.AppendJSONString(buf, stream)
	buf = append(buf, `,"skipped":`...)
	buf = strconv.AppendUint(buf, n, 10)
	buf = append(buf, `,"from_seq":`...)
	buf = strconv.AppendUint(buf, from, 10)
	buf = append(buf, `,"to_seq":`...)
	buf = strconv.AppendUint(buf, to, 10)
	return append(buf, "}\n\n"...)
}

// sse writes frames to a response with a deadline per write, so a viewer
// whose connection stalls is dropped instead of held for ever.
type sse struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

// writeTimeout bounds one frame's write to a viewer.
const writeTimeout = time.Minute

func startSSE(w http.ResponseWriter) *sse {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	return &sse{w: w, rc: http.NewResponseController(w)}
}

// writePart writes part of a frame, without flushing it to the viewer.
func (s *sse) writePart(b []byte) error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(writeTimeout)) // not every writer supports it
	_, err := s.w.Write(b)
	return err
}

func (s *sse) write(b []byte) error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(writeTimeout)) // not every writer supports it
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	return s.rc.Flush()
}

// follow streams new lines to the viewer until it goes away: a frame at
// most every interval (lines batch up meanwhile), at once while it is
// behind, and a heartbeat comment when nothing happened for heartbeat.
func (h *handler) follow(ctx context.Context, out *sse, f *follower) error {
	f.flush = out.writePart
	hb := time.NewTimer(h.heartbeat)
	defer hb.Stop()
	pace := time.NewTimer(0)
	defer pace.Stop()
	for {
		changed := f.st.Changed()
		wrote := f.shown + f.skipped
		full := f.frame()
		if f.err != nil {
			return f.err
		}
		if len(f.out) > 0 || f.shown+f.skipped != wrote {
			if err := out.write(f.out); err != nil {
				return err
			}
			hb.Reset(h.heartbeat)
		}
		if full {
			continue
		}
		if f.shown+f.skipped != wrote {
			pace.Reset(h.interval)
			select {
			case <-ctx.Done():
				return nil
			case <-pace.C:
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-hb.C:
			if err := out.write([]byte(": heartbeat\n\n")); err != nil {
				return err
			}
			hb.Reset(h.heartbeat)
		}
	}
}
