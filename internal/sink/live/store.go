package live

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Limits bound a Store.
type Limits struct {
	MaxLines   int           // records kept per stream
	MaxBytes   int           // record bytes kept per stream
	MaxStreams int           // streams kept; the longest idle goes first
	Idle       time.Duration // a stream without events this long is dropped
}

// Store is the live sink's backlog: one ring per stream, created when the
// stream's first event arrives and dropped when it has been idle for
// Limits.Idle or when MaxStreams would be exceeded. The sink is its one
// writer; viewers read through cursors (a stream and the next seq they
// want) and never block the writer for longer than a copy of what they
// read. Changed lets viewers wait for new records without polling.
type Store struct {
	lim Limits

	mu      sync.RWMutex
	streams map[string]*Stream
	changed chan struct{} // closed and replaced when records are added
	evicted atomic.Uint64 // streams dropped to respect MaxStreams
	gen     atomic.Uint64 // changes whenever a stream is added or dropped
}

// NewStore returns an empty store.
func NewStore(lim Limits) *Store {
	return &Store{lim: lim, streams: map[string]*Stream{}, changed: make(chan struct{})}
}

// Stream is one stream's ring and its statistics. A Stream dropped from
// the store (idle, or evicted) keeps working for viewers that hold it, but
// gets no more records; a new event of that name creates a new Stream,
// whose seqs start again at 0.
type Stream struct {
	name string

	mu       sync.RWMutex
	r        *ring
	lastSeen int64 // Unix nanoseconds of the last append
	rate     rateWindow
}

// Name is the stream's name.
func (s *Stream) Name() string { return s.name }

// Changed returns a channel closed when records are next added to any
// stream, or the set of streams changes.
func (st *Store) Changed() <-chan struct{} {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.changed
}

// notify wakes the viewers waiting on Changed.
func (st *Store) notify() {
	st.mu.Lock()
	close(st.changed)
	st.changed = make(chan struct{})
	st.mu.Unlock()
}

// Get returns the stream of that name, or nil.
func (st *Store) Get(name string) *Stream {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.streams[name]
}

// stream returns the stream of that name, creating it (and evicting the
// longest idle one if the store is full) at now.
func (st *Store) stream(name string, now int64) *Stream {
	if s := st.Get(name); s != nil {
		return s
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if s := st.streams[name]; s != nil {
		return s
	}
	if len(st.streams) >= st.lim.MaxStreams {
		st.evictIdlest()
	}
	s := &Stream{name: name, r: newRing(st.lim.MaxLines, st.lim.MaxBytes), lastSeen: now}
	st.streams[name] = s
	st.gen.Add(1)
	return s
}

func (st *Store) evictIdlest() {
	var idlest *Stream
	var oldest int64
	for _, s := range st.streams {
		s.mu.RLock()
		seen := s.lastSeen
		s.mu.RUnlock()
		if idlest == nil || seen < oldest {
			idlest, oldest = s, seen
		}
	}
	if idlest != nil {
		delete(st.streams, idlest.name)
		st.evicted.Add(1)
		st.gen.Add(1)
	}
}

// Expire drops the streams idle since before now-Idle and returns how many.
func (st *Store) Expire(now time.Time) int {
	cutoff := now.Add(-st.lim.Idle).UnixNano()
	st.mu.Lock()
	defer st.mu.Unlock()
	n := 0
	for name, s := range st.streams {
		s.mu.RLock()
		idle := s.lastSeen < cutoff
		s.mu.RUnlock()
		if idle {
			delete(st.streams, name)
			st.gen.Add(1)
			n++
		}
	}
	return n
}

// Streams returns the streams, sorted by name.
func (st *Store) Streams() []*Stream {
	st.mu.RLock()
	out := make([]*Stream, 0, len(st.streams))
	for _, s := range st.streams {
		out = append(out, s)
	}
	st.mu.RUnlock()
	slices.SortFunc(out, func(a, b *Stream) int {
		if a.name < b.name {
			return -1
		}
		if a.name > b.name {
			return 1
		}
		return 0
	})
	return out
}

// Info is a stream's state, as GET /api/v1/live/streams shows it.
type Info struct {
	Name     string    `json:"name"`
	Lines    int       `json:"lines"`
	Bytes    int       `json:"bytes"`
	FirstSeq uint64    `json:"first_seq"`
	NextSeq  uint64    `json:"next_seq"`
	Rate     float64   `json:"rate"` // lines per second over the last minute
	LastSeen time.Time `json:"last_seen"`
}

// Info returns the stream's state at now.
func (s *Stream) Info(now time.Time) Info {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return Info{Name: s.name, Lines: s.r.lines(), Bytes: s.r.bytes, FirstSeq: s.r.first, NextSeq: s.r.next,
		Rate: s.rate.perSecond(now.Unix()), LastSeen: time.Unix(0, s.lastSeen).UTC()}
}

// Bounds returns the seqs of the oldest record kept and of the next one.
func (s *Stream) Bounds() (first, next uint64) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.r.first, s.r.next
}

// Seek returns the seq of the first record at or after t.
func (s *Stream) Seek(t time.Time) uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.r.seek(t.UnixNano())
}

// Rec is a record copied out of a ring.
type Rec struct {
	Stream *Stream
	Seq    uint64
	TS     int64
	Data   []byte // encoded record (see record.go); set by the reader from off and n
	off, n int    // where the record's bytes are in the reader's buffer
	k      int    // the reader's index of the stream, to merge streams
}

// ReadFrom copies the records from seq on, at most max of them and about
// maxBytes, appending their bytes to buf and their descriptions to recs.
// skipped is how many records from seq on the ring no longer holds; next
// is the seq to read from next time.
func (s *Stream) ReadFrom(seq uint64, max, maxBytes int, buf []byte, recs []Rec) (next, skipped uint64, _ []byte, _ []Rec) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r := s.r
	if seq < r.first {
		skipped, seq = r.first-seq, r.first
	}
	if seq > r.next {
		seq = r.next // a cursor from another incarnation of the stream
	}
	start := len(buf)
	for ; seq < r.next && max > 0 && len(buf)-start < maxBytes; seq++ {
		rec, ts := r.at(seq)
		recs = append(recs, Rec{Stream: s, Seq: seq, TS: ts, off: len(buf), n: len(rec)})
		buf = append(buf, rec...)
		max--
	}
	return seq, skipped, buf, recs
}

// ReadBefore copies up to max records just before seq (ring order), like
// ReadFrom; first is the seq of the first record copied.
func (s *Stream) ReadBefore(seq uint64, max int, buf []byte, recs []Rec) (first uint64, _ []byte, _ []Rec) {
	s.mu.RLock()
	r := s.r
	seq = min(seq, r.next)
	first = max64(r.first, seq-min(seq, uint64(max)))
	s.mu.RUnlock()
	_, _, buf, recs = s.ReadFrom(first, int(seq-first), 1<<62, buf, recs)
	return first, buf, recs
}

func max64(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// rateWindow counts records per second over the last minute.
type rateWindow struct {
	secs   [60]int64
	counts [60]uint32
}

func (w *rateWindow) add(sec int64, n int) {
	i := sec % 60
	if w.secs[i] != sec {
		w.secs[i], w.counts[i] = sec, 0
	}
	w.counts[i] += uint32(n)
}

func (w *rateWindow) perSecond(now int64) float64 {
	var sum uint32
	for i := range w.secs {
		if w.secs[i] > now-60 && w.secs[i] <= now {
			sum += w.counts[i]
		}
	}
	return float64(sum) / 60
}
