package disk

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/telemetry"
)

// store is the state of one buffer directory, shared by every Buffer
// opened on it in this process (a reload opens the replacement sink's
// buffer before the old one is closed).
//
// Records move through three stages. Pushed records wait in pend until the
// writer goroutine appends them to the last segment; written records wait
// for the reader (Pop); popped records wait in inflight until the sink
// releases their token. The watermark, saved to the ack file, is the
// position of the first popped record not yet acknowledged, or the read
// position when there is none: everything before it is done with, and
// segments wholly before it are deleted.
type store struct {
	dir  string
	lock *os.File

	mu       sync.Mutex
	opts     Options
	m        *telemetry.Component
	log      *slog.Logger
	corrupts prometheus.Counter
	changed  chan struct{} // closed and replaced whenever state changes
	handles  int           // open Buffers
	closing  bool          // no open Buffers: pushes refused, abandoned records kept for the next start
	final    bool          // resources being released; late acks are ignored

	segs     []*segment // oldest first; the last one is written to
	rollNext bool       // the writer must start a new segment first
	pend     []byte     // records pushed and not yet written
	pendRecs []pending
	unsynced []unsynced // written, waiting for the syncer

	rseg     *segment // read position
	roff     int64
	rdone    counts   // records of rseg consumed by the reader
	requeue  []*entry // abandoned records to hand out again, in read order
	inflight []*entry // popped records in read order; the first is unacknowledged
	nextSeq  uint64   // read order of the next entry

	queued int   // records pushed or recovered and not yet popped
	events int   // events stored and not acknowledged
	bytes  int64 // record bytes stored and not acknowledged
	saved  position

	rmu       sync.Mutex    // serializes record reads with each other and with finalize
	saveMu    sync.Mutex    // serializes watermark saves
	kick      chan struct{} // wakes the writer
	syncKick  chan struct{} // wakes the syncer
	stop      chan struct{} // stops the writer and the saver
	syncStop  chan struct{} // stops the syncer, after the writer
	syncWG    sync.WaitGroup
	spareSync []unsynced // owned by the syncer
	crashed   bool       // test hook: stop without writing or saving anything more
	wg        sync.WaitGroup
	finished  chan struct{} // closed once the directory is released
}

// counts are record, event and byte totals.
type counts struct {
	records int
	events  int
	bytes   int64
}

// segment is one segment file. Only the writer appends to it, and only
// while it is the last segment; once sealed it never changes. A segment
// whose damage was found has corrupt set: reading stops there, and the file
// is renamed to .seg.bad instead of deleted when its records are done.
type segment struct {
	seq     uint64
	f       *os.File
	size    int64 // bytes of complete records
	sealed  bool
	corrupt int64 // offset of the first damaged record, or -1
	counts        // records the buffer knows of in this segment
	syncing int   // records written and not yet synced; the file stays open while any
}

// end is where reading the segment stops.
func (g *segment) end() int64 {
	if g.corrupt >= 0 {
		return g.corrupt
	}
	return g.size
}

// pending is a pushed record waiting for the writer.
type pending struct {
	size   int
	events int
	tok    *ack.Token
}

// entry is a popped record waiting for its acknowledgement.
type entry struct {
	seq       uint64
	seg       *segment
	off, size int64
	events    int
	acked     bool
	abandoned bool
}

// position is a place in the log: a segment and an offset in it.
type position struct {
	seg uint64
	off int64
}

func (s *store) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *store) gauges() {
	s.m.QueueEvents.Set(float64(s.events))
	s.m.QueueBytes.Set(float64(s.bytes))
}

// full reports whether a record does not fit. A record always fits into an
// empty buffer, so one large batch cannot wait forever.
func (s *store) full(events int, size int64) bool {
	if s.events == 0 {
		return false
	}
	return s.bytes+size > s.opts.MaxSize || (s.opts.MaxEvents > 0 && s.events+events > s.opts.MaxEvents)
}

// forget removes records that will never be popped or acknowledged from the
// totals.
func (s *store) forget(c counts) {
	s.queued = max(s.queued-c.records, 0)
	s.events = max(s.events-c.events, 0)
	s.bytes = max(s.bytes-c.bytes, 0)
}

func (s *store) index(g *segment) int {
	return slices.Index(s.segs, g)
}

// advance moves the reader past sealed segments it has read to the end,
// and lets go of those segments if all their records are acknowledged.
func (s *store) advance() {
	moved := false
	for s.roff >= s.rseg.end() && s.rseg.sealed {
		i := s.index(s.rseg)
		if i+1 >= len(s.segs) {
			break
		}
		s.rseg, s.roff, s.rdone = s.segs[i+1], 0, counts{}
		moved = true
	}
	if moved {
		s.collect()
	}
}

// readable reports whether Pop has a record to hand out.
func (s *store) readable() bool {
	s.advance()
	return len(s.requeue) > 0 || s.roff < s.rseg.end()
}

// low is the watermark: every record before it is acknowledged.
func (s *store) low() position {
	if len(s.inflight) > 0 {
		return position{s.inflight[0].seg.seq, s.inflight[0].off}
	}
	return position{s.rseg.seq, s.roff}
}

// collect deletes (or quarantines) the segments wholly before the watermark.
func (s *store) collect() {
	low := s.low()
	for len(s.segs) > 1 && s.segs[0].seq < low.seg && s.segs[0].syncing == 0 {
		s.retire(s.segs[0])
		s.segs[0] = nil
		s.segs = s.segs[1:]
	}
}

func (s *store) retire(g *segment) {
	g.f.Close()
	name := filepath.Join(s.dir, segName(g.seq))
	if g.corrupt >= 0 {
		bad := filepath.Join(s.dir, badName(g.seq))
		if err := os.Rename(name, bad); err != nil {
			s.log.Error("quarantining damaged segment", "error", err)
			return
		}
		s.log.Warn("quarantined damaged buffer segment", "file", bad)
		return
	}
	if err := os.Remove(name); err != nil {
		s.m.Errors.Inc()
		s.log.Error("deleting acknowledged buffer segment", "error", err)
	}
}

// damaged gives up the rest of the reader's segment after a record that
// cannot be read at off.
func (s *store) damaged(off int64, err error) {
	g := s.rseg
	lost := counts{g.records - s.rdone.records, g.events - s.rdone.events, g.bytes - s.rdone.bytes}
	g.counts = s.rdone
	g.corrupt = off
	s.forget(lost)
	s.corrupts.Inc()
	s.m.Errors.Inc()
	s.log.Error("damaged record in disk buffer; skipping the rest of its segment",
		"segment", segName(g.seq), "offset", off, "lost_records", lost.records, "lost_events", lost.events, "error", err)
	s.advance()
	s.gauges()
}

// release is the callback of a popped record's token.
func (s *store) release(e *entry, st ack.Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.final || e.acked {
		return
	}
	if st == ack.Abandoned {
		e.abandoned = true
		if !s.closing {
			s.requeueEntry(e)
		}
		return
	}
	s.acknowledge(e)
}

func (s *store) requeueEntry(e *entry) {
	e.abandoned = false
	i, _ := slices.BinarySearchFunc(s.requeue, e.seq, func(x *entry, seq uint64) int {
		return cmpUint(x.seq, seq)
	})
	s.requeue = slices.Insert(s.requeue, i, e)
	s.queued++
	s.notify()
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// acknowledge marks e done and moves the watermark over the acknowledged
// prefix of inflight.
func (s *store) acknowledge(e *entry) {
	e.acked = true
	s.events = max(s.events-e.events, 0)
	s.bytes = max(s.bytes-e.size, 0)
	i := 0
	for i < len(s.inflight) && s.inflight[i].acked {
		i++
	}
	if i > 0 {
		clear(s.inflight[:i])
		s.inflight = s.inflight[i:]
		s.advance()
		s.collect()
	}
	s.gauges()
	s.notify()
}

// saveWatermark writes the watermark to the ack file if it moved.
func (s *store) saveWatermark() {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	low, durable, same := s.low(), s.opts.Fsync != FsyncNever, s.low() == s.saved
	s.mu.Unlock()
	if same {
		return
	}
	if err := writeWatermark(s.dir, low, durable); err != nil {
		s.mu.Lock()
		s.m.Errors.Inc()
		s.log.Error("saving disk buffer watermark", "error", err)
		s.mu.Unlock()
		return
	}
	s.mu.Lock()
	s.saved = low
	s.mu.Unlock()
}

func (s *store) saveLoop(interval time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.saveWatermark()
		case <-s.stop:
			return
		}
	}
}

// finalize stops the goroutines, flushes pending records, saves the
// watermark and releases the directory. Concurrent calls wait for the first.
func (s *store) finalize() {
	s.mu.Lock()
	if s.final {
		s.mu.Unlock()
		<-s.finished
		return
	}
	s.final, s.closing = true, true
	s.notify()
	s.mu.Unlock()
	close(s.stop)
	s.wg.Wait()
	close(s.syncStop)
	s.syncWG.Wait()
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if !s.crashed {
		s.saveWatermark()
	}
	s.mu.Lock()
	for _, g := range s.segs {
		g.f.Close()
	}
	s.notify()
	s.mu.Unlock()
	if s.lock != nil {
		s.lock.Close()
	}
	unregister(s)
	close(s.finished)
}
