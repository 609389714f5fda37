package live

// ring is one stream's backlog: records numbered by a sequence that only
// grows, the newest kept within a bound in lines and a bound in bytes. The
// records' bytes live in one circular byte arena and their positions in a
// circular slot table, so appending copies the record once and allocates
// nothing once both have grown to their working size; both start small
// and double up to their bounds, so a quiet stream costs little.
//
// A record never wraps around the arena's end: when it does not fit in the
// tail, the tail is left as padding and the record goes at the start. A
// ring is not safe for concurrent use; Stream guards it.
type ring struct {
	maxLines int
	maxBytes int

	slots []slot // slot of seq s at s % len(slots)
	data  []byte // arena; record bytes at off % len(data)
	first uint64 // seq of the oldest record kept
	next  uint64 // seq the next record gets
	head  uint64 // absolute arena offset where the next record goes
	bytes int    // sum of kept records' lengths
}

// slot locates one record.
type slot struct {
	off uint64 // absolute arena offset
	n   uint32 // length
	ts  int64  // event timestamp, Unix nanoseconds
}

// Initial sizes; both double on demand up to the bounds.
const (
	initialSlots = 64
	initialBytes = 16 << 10
)

func newRing(maxLines, maxBytes int) *ring {
	return &ring{maxLines: maxLines, maxBytes: maxBytes,
		slots: make([]slot, min(initialSlots, maxLines)), data: make([]byte, min(initialBytes, maxBytes))}
}

// lines is the number of records kept.
func (r *ring) lines() int { return int(r.next - r.first) }

// startAt numbers an empty ring's next record seq (a backlog read back
// keeps its numbers); a ring that holds records is left as it is.
func (r *ring) startAt(seq uint64) {
	if r.lines() == 0 {
		r.first, r.next = seq, seq
	}
}

// reserve makes room for a record of n bytes (n <= maxBytes), evicting the
// oldest records as the bounds require, and returns where to write it. The
// record is committed by the caller filling the slice; its seq is r.next-1.
func (r *ring) reserve(n int, ts int64) []byte {
	if r.lines() == len(r.slots) {
		if len(r.slots) < r.maxLines {
			r.growSlots()
		} else {
			r.evict()
		}
	}
	for {
		pos := int(r.head % uint64(len(r.data)))
		pad := 0
		if pos+n > len(r.data) {
			pad = len(r.data) - pos
		}
		if r.used()+pad+n <= len(r.data) {
			r.head += uint64(pad)
			break
		}
		if len(r.data) < r.maxBytes {
			r.growData(n)
			continue
		}
		r.evict()
	}
	off := r.head
	r.slots[r.next%uint64(len(r.slots))] = slot{off: off, n: uint32(n), ts: ts}
	r.next++
	r.head += uint64(n)
	r.bytes += n
	pos := int(off % uint64(len(r.data)))
	return r.data[pos : pos+n : pos+n]
}

// used is the arena span from the oldest record to head, padding included.
func (r *ring) used() int {
	if r.lines() == 0 {
		return 0
	}
	return int(r.head - r.slots[r.first%uint64(len(r.slots))].off)
}

func (r *ring) evict() {
	s := r.slots[r.first%uint64(len(r.slots))]
	r.bytes -= int(s.n)
	r.first++
	if r.lines() == 0 {
		r.head = 0 // empty: restart at the arena's start, no padding left
	}
}

// growSlots doubles the slot table, re-placing the kept slots.
func (r *ring) growSlots() {
	ns := make([]slot, min(2*len(r.slots), r.maxLines))
	for s := r.first; s < r.next; s++ {
		ns[s%uint64(len(ns))] = r.slots[s%uint64(len(r.slots))]
	}
	r.slots = ns
}

// growData doubles the arena (at least to fit need more bytes), copying
// the kept records to its start, in order, without padding.
func (r *ring) growData(need int) {
	size := len(r.data) * 2
	for size < r.bytes+need {
		size *= 2
	}
	nd := make([]byte, min(size, r.maxBytes))
	var off uint64
	for s := r.first; s < r.next; s++ {
		sl := &r.slots[s%uint64(len(r.slots))]
		copy(nd[off:], r.record(sl))
		sl.off = off
		off += uint64(sl.n)
	}
	r.data, r.head = nd, off
}

func (r *ring) record(s *slot) []byte {
	pos := int(s.off % uint64(len(r.data)))
	return r.data[pos : pos+int(s.n)]
}

// at returns the record of seq s, which must be kept (first <= s < next).
// The bytes are the ring's: valid until the next reserve.
func (r *ring) at(s uint64) ([]byte, int64) {
	sl := &r.slots[s%uint64(len(r.slots))]
	return r.record(sl), sl.ts
}

// seek returns the seq of the first kept record with a timestamp at or
// after ts (next if none): timestamps are mostly increasing, so it scans
// back from the newest while records are at or after ts.
func (r *ring) seek(ts int64) uint64 {
	s := r.next
	for s > r.first && r.slots[(s-1)%uint64(len(r.slots))].ts >= ts {
		s--
	}
	return s
}
