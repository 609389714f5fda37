package wssource

import (
	"sync"

	"github.com/sluice-log/sluice/internal/relay"
)

// Bounds of the duplicate detection state.
const (
	maxSenders = 1024 // senders remembered; the least recently seen is forgotten
	maxDone    = 256  // finished sequence numbers remembered per sender
)

// senders remembers, per sender id, the batches it sent recently: those
// still waiting for their acknowledgement and the last finished ones with
// their receipts. A batch that arrives again (the sender reconnected and
// resent it) is then not emitted a second time: if it is still pending,
// its receipt goes to the new connection when it comes; if it is finished,
// the receipt is sent at once. This only narrows duplicates: a restarted
// receiver remembers nothing, and the protocol stays at-least-once.
type senders struct {
	mu    sync.Mutex
	m     map[string]*sender
	clock uint64
}

type sender struct {
	seqs map[uint64]*entry
	done []uint64 // finished seqs, oldest first
	used uint64
}

type entry struct {
	done    bool
	receipt relay.Receipt
	owner   *session // where the receipt goes
}

// verdict says what to do with an incoming batch.
type verdict int

const (
	fresh      verdict = iota // emit it
	inProgress                // a copy is pending; its receipt will come
	finished                  // answer with the remembered receipt
)

// begin registers batch seq of sender id arriving on ss.
func (r *senders) begin(ss *session, id string, seq uint64) (verdict, relay.Receipt) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.get(id)
	e := s.seqs[seq]
	switch {
	case e == nil:
		s.seqs[seq] = &entry{owner: ss}
		ss.adopt(1)
		return fresh, relay.Receipt{}
	case e.done:
		return finished, e.receipt
	}
	if e.owner != ss {
		e.owner.adopt(-1)
		ss.adopt(1)
		e.owner = ss
	}
	return inProgress, relay.Receipt{}
}

// finish records the receipt of batch seq of sender id and returns the
// session to send it on. Abandoned batches are forgotten, so that the
// resent copy is emitted again.
func (r *senders) finish(fallback *session, id string, rc relay.Receipt) *session {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.m[id]
	if !ok {
		return fallback
	}
	e := s.seqs[rc.Seq]
	if e == nil || e.done {
		return fallback
	}
	if !rc.Status.Done() {
		delete(s.seqs, rc.Seq)
		return e.owner
	}
	e.done, e.receipt = true, rc
	s.done = append(s.done, rc.Seq)
	if len(s.done) > maxDone {
		delete(s.seqs, s.done[0])
		s.done = s.done[1:]
	}
	return e.owner
}

// get returns the state of id, creating it. When there are too many
// senders, the least recently used one without pending batches is
// forgotten first.
func (r *senders) get(id string) *sender {
	r.clock++
	if s, ok := r.m[id]; ok {
		s.used = r.clock
		return s
	}
	if r.m == nil {
		r.m = map[string]*sender{}
	}
	if len(r.m) >= maxSenders {
		r.evict()
	}
	s := &sender{seqs: map[uint64]*entry{}, used: r.clock}
	r.m[id] = s
	return s
}

func (r *senders) evict() {
	var oldest *sender
	var id string
	for k, s := range r.m {
		if len(s.seqs) == len(s.done) && (oldest == nil || s.used < oldest.used) {
			oldest, id = s, k
		}
	}
	if oldest != nil {
		delete(r.m, id)
	}
}
