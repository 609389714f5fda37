package disk

import (
	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/event/wire"
)

// read takes the next record, abandoned ones first, and decodes it. It
// returns nil when another reader took the record first or the record was
// damaged; Pop then looks again. File reads happen outside s.mu, so pushes
// and acks do not wait for them.
func (b *Buffer) read() *event.Batch {
	s := b.s
	s.rmu.Lock()
	defer s.rmu.Unlock()
	s.mu.Lock()
	if s.final {
		s.mu.Unlock()
		return nil
	}
	var e *entry
	var g *segment
	var off, limit int64
	switch {
	case len(s.requeue) > 0:
		e = s.requeue[0]
		s.requeue[0] = nil
		s.requeue = s.requeue[1:]
		s.queued--
		g, off, limit = e.seg, e.off, e.off+e.size
	case s.readable():
		g, off, limit = s.rseg, s.roff, s.rseg.end()
	default:
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()

	payload, events, size, readErr := readRecord(g.f, off, limit)
	var evs []event.Event
	var decodeErr error
	if readErr == nil {
		evs, decodeErr = wire.Decode(payload)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if e == nil {
		if readErr != nil {
			s.damaged(off, readErr)
			return nil
		}
		e = s.consume(g, off, size, events)
	}
	if err := firstErr(readErr, decodeErr); err != nil {
		s.m.Errors.Inc()
		s.log.Error("dropping unreadable record from disk buffer", "segment", segName(g.seq), "offset", off, "error", err)
		s.acknowledge(e)
		return nil
	}
	return &event.Batch{Events: evs, Ack: ack.New(func(st ack.Status) { s.release(e, st) })}
}

// consume moves the reader over the record at off and tracks it until it
// is acknowledged.
func (s *store) consume(g *segment, off, size int64, events int) *entry {
	s.roff = off + size
	s.rdone.records++
	s.rdone.events += events
	s.rdone.bytes += size
	s.queued--
	e := &entry{seq: s.nextSeq, seg: g, off: off, size: size, events: events}
	s.nextSeq++
	s.inflight = append(s.inflight, e)
	s.notify()
	return e
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
