package live

import (
	"context"
	"net/http"
	"strconv"
)

// searchChunk is how many records a search copies out of a ring at a
// time: the ring's lock is held for one copy, never for a whole scan.
const searchChunk = 512

// search scans the backlog of the given streams (all if none), newest
// first, and streams the matches as SSE "lines" events as it finds them,
// each chunk's lines oldest first; it stops after limit matches (default
// 1000) and ends with a "done" event: {"matched","scanned","truncated"}.
func (h *handler) search(w http.ResponseWriter, r *http.Request) {
	q, ok := queryOr400(w, r)
	if !ok {
		return
	}
	var streams []*Stream
	if len(q.Streams) == 0 {
		streams = h.st.Streams()
	}
	for _, name := range q.Streams {
		if s := h.st.Get(name); s != nil {
			streams = append(streams, s)
		}
	}
	out := startSSE(w)
	sc := &scan{q: &q, m: matcher{q: &q}, limit: q.Limit}
	for _, s := range streams {
		if err := sc.stream(r.Context(), out, s); err != nil || sc.matched >= sc.limit {
			break
		}
	}
	done := []byte("event: done\ndata: {\"matched\":")
	done = strconv.AppendInt(done, int64(sc.matched), 10)
	done = append(done, `,"scanned":`...)
	done = strconv.AppendInt(done, int64(sc.scanned), 10)
	done = append(done, `,"truncated":`...)
	done = strconv.AppendBool(done, sc.matched >= sc.limit)
	done = append(done, "}\n\n"...)
	_ = out.write(done) // the client went away: nothing to do
}

// scan is one search's state.
type scan struct {
	q                       *Query
	m                       matcher
	limit, matched, scanned int
	buf, out                []byte
	recs                    []Rec
}

// stream scans one stream from before (or its newest) back to its oldest.
func (sc *scan) stream(ctx context.Context, out *sse, s *Stream) error {
	_, seq := s.Bounds()
	if sc.q.Before > 0 {
		seq = min(seq, sc.q.Before)
	}
	for seq > 0 && sc.matched < sc.limit {
		if err := ctx.Err(); err != nil {
			return err
		}
		var first uint64
		first, sc.buf, sc.recs = s.ReadBefore(seq, searchChunk, sc.buf[:0], sc.recs[:0])
		if len(sc.recs) == 0 {
			return nil
		}
		seq = first
		sc.scanned += len(sc.recs)
		if err := sc.emit(out, s); err != nil {
			return err
		}
	}
	return nil
}

// emit writes the matches of one chunk, keeping the newest when the limit
// cuts it.
func (sc *scan) emit(out *sse, s *Stream) error {
	sc.out = append(sc.out[:0], "event: lines\ndata: {\"lines\":["...)
	start := len(sc.out)
	var keep []int
	for i := len(sc.recs) - 1; i >= 0 && sc.matched+len(keep) < sc.limit; i-- {
		r := &sc.recs[i]
		rec, err := parseRecord(sc.buf[r.off : r.off+r.n])
		if err == nil && sc.m.match(&rec, r.TS) {
			keep = append(keep, i)
		}
	}
	if len(keep) == 0 {
		return nil
	}
	for k := len(keep) - 1; k >= 0; k-- {
		r := &sc.recs[keep[k]]
		rec, _ := parseRecord(sc.buf[r.off : r.off+r.n])
		if len(sc.out) > start {
			sc.out = append(sc.out, ',')
		}
		sc.out = appendLine(sc.out, s.name, r.Seq, &rec, r.TS)
	}
	sc.matched += len(keep)
	sc.out = append(sc.out, "]}\n\n"...)
	return out.write(sc.out)
}
