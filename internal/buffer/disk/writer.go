package disk

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
)

// The writer goroutine appends pushed records to the log as soon as they
// arrive; the syncer goroutine makes them durable and releases their
// tokens. Records written while a sync runs are covered by the next one,
// so concurrent and back-to-back pushes share one fdatasync(2) (group
// commit), and a sync never holds up writing or reading.

// unsynced is a written record waiting for its segment to be synced.
type unsynced struct {
	seg *segment
	tok *ack.Token
}

// writer is the state of the writer goroutine. Only it writes segment files.
type writer struct {
	s    *store
	data []byte // spare buffer, swapped with store.pend
	recs []pending
	done []*ack.Token // written under FsyncNever, to release
}

func (s *store) writeLoop() {
	defer s.wg.Done()
	w := &writer{s: s}
	for {
		select {
		case <-s.kick:
			w.flush()
		case <-s.stop:
			if !s.crashed {
				w.flush()
			}
			return
		}
	}
}

// take swaps the pending records out of the store.
func (w *writer) take() ([]byte, []pending, FsyncPolicy) {
	s := w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	data, recs := s.pend, s.pendRecs
	s.pend, s.pendRecs = w.data[:0], w.recs[:0]
	w.data, w.recs = data, recs
	if len(recs) > 0 {
		s.notify() // pushes waiting for the writer to catch up may go on
	}
	return data, recs, s.opts.Fsync
}

// flush writes what is pending. Under FsyncNever it releases the tokens
// at once; otherwise it hands them to the syncer.
func (w *writer) flush() {
	data, recs, policy := w.take()
	if len(recs) == 0 {
		return
	}
	w.write(data, recs, policy)
	clear(w.recs) // drop token references
	for i, t := range w.done {
		t.Release(ack.Delivered)
		w.done[i] = nil
	}
	w.done = w.done[:0]
	// Kicked under every policy, so records left unsynced by a policy
	// change are still released.
	select {
	case w.s.syncKick <- struct{}{}:
	default:
	}
}

// write appends recs (laid out back to back in data) to the log, starting
// new segments as needed.
func (w *writer) write(data []byte, recs []pending, policy FsyncPolicy) {
	off := 0
	for i := 0; i < len(recs); {
		g, limit, err := w.segment(int64(recs[i].size), policy)
		if err != nil {
			w.drop(recs[i:], err)
			return
		}
		j, n := i+1, recs[i].size
		for j < len(recs) && g.size+int64(n+recs[j].size) <= limit {
			n += recs[j].size
			j++
		}
		if _, err := g.f.WriteAt(data[off:off+n], g.size); err != nil {
			_ = g.f.Truncate(g.size)
			w.s.mu.Lock()
			w.s.rollNext = true
			w.s.mu.Unlock()
			w.drop(recs[i:], fmt.Errorf("writing buffer segment: %w", err))
			return
		}
		if !w.commit(g, recs[i:j], n, policy) {
			w.drop(recs[i:j], errors.New("segment found damaged while writing"))
		}
		off += n
		i = j
	}
}

// commit accounts n bytes of recs written to g and queues their tokens. It
// reports false when the reader has meanwhile given up g as damaged, so
// the records are lost.
func (w *writer) commit(g *segment, recs []pending, n int, policy FsyncPolicy) bool {
	s := w.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if g.corrupt >= 0 {
		return false
	}
	g.size += int64(n)
	g.records += len(recs)
	g.bytes += int64(n)
	for _, r := range recs {
		g.events += r.events
		if policy == FsyncNever {
			w.done = append(w.done, r.tok)
		} else {
			s.unsynced = append(s.unsynced, unsynced{g, r.tok})
			g.syncing++
		}
	}
	s.notify()
	return true
}

// drop gives up records that could not be written: their sources are told
// they were abandoned, so they replay them after a restart.
func (w *writer) drop(recs []pending, err error) {
	var c counts
	for _, r := range recs {
		c.records++
		c.events += r.events
		c.bytes += int64(r.size)
	}
	w.s.mu.Lock()
	w.s.forget(c)
	w.s.gauges()
	w.s.notify()
	w.s.mu.Unlock()
	w.s.failed(err, len(recs))
	for _, r := range recs {
		r.tok.Release(ack.Abandoned)
	}
}

func (s *store) failed(err error, records int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m.Errors.Inc()
	s.log.Error("disk buffer write failed; the records are left to their sources to replay", "records", records, "error", err)
}

// segment returns the segment a record of size bytes goes to, and its size
// limit, first starting a new segment if the last one is full.
func (w *writer) segment(size int64, policy FsyncPolicy) (*segment, int64, error) {
	s := w.s
	s.mu.Lock()
	g, limit := s.segs[len(s.segs)-1], s.opts.SegmentSize
	roll := s.rollNext || g.corrupt >= 0 || (g.size > 0 && g.size+size > limit)
	s.mu.Unlock()
	if !roll {
		return g, limit, nil
	}
	ng, err := createSegment(s.dir, g.seq+1, policy != FsyncNever)
	if err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	g.sealed = true
	s.rollNext = false
	s.segs = append(s.segs, ng)
	s.advance()
	s.collect()
	s.notify()
	s.mu.Unlock()
	return ng, limit, nil
}

// createSegment creates an empty segment file.
func createSegment(dir string, seq uint64, durable bool) (*segment, error) {
	name := filepath.Join(dir, segName(seq))
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating buffer segment: %w", err)
	}
	if durable {
		if err := syncDir(dir); err != nil {
			f.Close()
			_ = os.Remove(name) // best effort: the sync error is the one to report
			return nil, err
		}
	}
	return &segment{seq: seq, f: f, corrupt: -1}, nil
}

// syncLoop makes written records durable: at once under FsyncAlways, at
// most once per interval under FsyncInterval. It stops after the writer,
// with a last sync.
func (s *store) syncLoop() {
	defer s.syncWG.Done()
	var timer *time.Timer
	var timerC <-chan time.Time
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case <-s.syncKick:
			s.mu.Lock()
			policy, interval := s.opts.Fsync, s.opts.FsyncInterval
			s.mu.Unlock()
			if policy != FsyncInterval {
				s.syncNow()
				continue
			}
			if timerC == nil {
				if timer == nil {
					timer = time.NewTimer(interval)
				} else {
					timer.Reset(interval)
				}
				timerC = timer.C
			}
		case <-timerC:
			timerC = nil
			s.syncNow()
		case <-s.syncStop:
			if !s.crashed {
				s.syncNow()
			}
			return
		}
	}
}

// syncNow syncs every segment holding unsynced records and releases their
// tokens: Delivered, or Abandoned if a sync failed (the sources then replay
// the records after a restart; the buffer may deliver them meanwhile).
func (s *store) syncNow() {
	s.mu.Lock()
	batch := s.unsynced
	s.unsynced = s.spareSync[:0]
	s.mu.Unlock()
	if len(batch) == 0 {
		s.spareSync = batch
		return
	}
	var err error
	for i, u := range batch {
		if i == 0 || u.seg != batch[i-1].seg {
			if serr := datasync(u.seg.f); serr != nil && err == nil {
				err = fmt.Errorf("syncing buffer segment: %w", serr)
			}
		}
	}
	s.mu.Lock()
	for _, u := range batch {
		u.seg.syncing--
	}
	if err != nil {
		s.rollNext = true
	}
	s.collect()
	s.mu.Unlock()
	st := ack.Delivered
	if err != nil {
		s.failed(err, len(batch))
		st = ack.Abandoned
	}
	for i, u := range batch {
		u.tok.Release(st)
		batch[i] = unsynced{}
	}
	s.spareSync = batch[:0]
}
