package wssink

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/event/wire"
	"github.com/sluice-log/sluice/internal/relay"
)

// maxKeptBuffer is the largest message buffer kept for reuse.
const maxKeptBuffer = 4 << 20

// pending is the batch being delivered. It lives across Write calls until
// every message of it has a final receipt, so that a batch the pipeline
// retries is not encoded again and keeps its sequence numbers, which lets
// the receiver recognise a resent message.
type pending struct {
	batch    *event.Batch
	msgs     []*message
	outcomes []component.Outcome // per event; Reject set early for unencodable events
	reason   string              // first rejection reason
}

// message is one relay message holding the events [first, end) of the
// batch, minus any rejected before sending.
type message struct {
	seq        uint64
	data       []byte
	first, end int
	sentOn     *link // nil: not (or no longer) sent on a live link
	resend     bool  // the receiver abandoned it; the next send is a resend
	done       bool
	status     relay.Status
	reason     string
}

// prepare returns the pending state for b, encoding it into messages of
// at most limit bytes when b is new.
func (s *Sink) prepare(b *event.Batch) *pending {
	if s.cur != nil && s.cur.batch == b {
		return s.cur
	}
	s.release()
	p := &pending{batch: b, outcomes: make([]component.Outcome, len(b.Events))}
	s.encodeRange(p, 0, len(b.Events))
	s.cur = p
	return p
}

// release recycles the buffers of the current pending batch.
func (s *Sink) release() {
	if s.cur == nil {
		return
	}
	for _, m := range s.cur.msgs {
		if len(s.free) < 4 && cap(m.data) <= maxKeptBuffer {
			s.free = append(s.free, m.data[:0])
		}
	}
	s.cur = nil
}

func (s *Sink) buffer() []byte {
	if n := len(s.free); n > 0 {
		b := s.free[n-1]
		s.free = s.free[:n-1]
		return b
	}
	return nil
}

// encodeRange appends messages holding events [from, to) of p's batch.
// An event that cannot be encoded, or that alone exceeds the limit, is
// rejected rather than retried forever.
func (s *Sink) encodeRange(p *pending, from, to int) {
	evs := p.batch.Events
	var enc wire.Encoder
	first := -1
	for i := from; i < to; i++ {
		if first < 0 {
			enc.Reset(relay.AppendBatchHeader(s.buffer(), 0, 0))
			first = i
		}
		if p.outcomes[i] == component.Reject {
			continue // rejected by an earlier encoding
		}
		m := enc.Mark()
		if err := enc.Append(&evs[i]); err != nil {
			p.reject(i, err.Error())
			continue
		}
		if relay.HeaderSize+enc.Len() <= s.limit {
			continue
		}
		enc.Undo(m)
		if enc.Count() == 0 {
			p.reject(i, fmt.Sprintf("event of more than %d bytes exceeds the receiver's max message size", s.limit))
			continue
		}
		p.msgs = append(p.msgs, s.seal(&enc, first, i))
		first = -1
		i-- // encode it again into the next message
	}
	if first >= 0 && enc.Count() > 0 {
		p.msgs = append(p.msgs, s.seal(&enc, first, to))
	}
}

// seal finishes a message: compresses it when that helps and gives it the
// next sequence number.
func (s *Sink) seal(enc *wire.Encoder, first, end int) *message {
	data := enc.Bytes()
	if s.compress {
		s.zbuf = relay.Compress(s.zbuf[:0], data[relay.HeaderSize:])
		if len(s.zbuf) < len(data)-relay.HeaderSize {
			data = append(data[:relay.HeaderSize], s.zbuf...)
			data[1] |= relay.FlagCompressed
		}
	}
	s.seq++
	// The header was written with sequence number 0; patch it.
	binary.BigEndian.PutUint64(data[2:relay.HeaderSize], s.seq)
	return &message{seq: s.seq, data: data, first: first, end: end}
}

func (p *pending) reject(i int, reason string) {
	p.outcomes[i] = component.Reject
	if p.reason == "" {
		p.reason = reason
	}
}

// refit re-encodes unsent messages larger than limit, after a receiver
// announced a smaller limit than the one they were made for.
func (s *Sink) refit(p *pending) {
	old := p.msgs
	p.msgs = nil
	for _, m := range old {
		if m.done || m.sentOn != nil || len(m.data) <= s.limit {
			p.msgs = append(p.msgs, m)
			continue
		}
		s.encodeRange(p, m.first, m.end)
	}
}

// result turns the receipts of a finished batch into Write's answer.
func (p *pending) result() error {
	var ok, rejected int
	for _, m := range p.msgs {
		for i := m.first; i < m.end; i++ {
			if p.outcomes[i] == component.Reject {
				continue
			}
			if m.status == relay.Rejected {
				reason := m.reason
				if reason == "" {
					reason = "a destination of the receiver refused the events"
				}
				p.reject(i, reason)
			}
		}
	}
	for _, o := range p.outcomes {
		if o == component.Reject {
			rejected++
		} else {
			ok++
		}
	}
	switch {
	case rejected == 0:
		return nil
	case ok == 0:
		return component.Rejected(fmt.Errorf("receiver rejected the batch: %s", p.reason))
	}
	return &component.PartialError{Outcomes: p.outcomes, Err: errors.New(p.reason)}
}
