package checkpoint

import (
	"sync"

	"github.com/sluice-log/sluice/internal/ack"
)

// Tracker advances a position over the contiguous prefix of emitted
// batches that were released with a committable status.
//
// The source calls Add (or Token) for each batch in the order it emits
// them, with the position just after the batch's last event. Releases may
// come in any order from any goroutine; the committed position moves to a
// batch's position only when that batch and every earlier one are
// released. A batch released as ack.Abandoned stops the tracker for good:
// nothing at or after it is committed, so it is read again after a restart.
type Tracker[P any] struct {
	mu         sync.Mutex
	base       uint64 // sequence number of slots[head]
	slots      []slot[P]
	head       int
	committed  P
	unreleased int
	blocked    bool
}

type slot[P any] struct {
	pos      P
	released bool
	status   ack.Status
}

// NewTracker returns a tracker whose committed position starts at start.
func NewTracker[P any](start P) *Tracker[P] {
	return &Tracker[P]{committed: start}
}

// Add registers the next emitted batch, ending at pos, and returns its
// sequence number for Done.
func (t *Tracker[P]) Add(pos P) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.slots = append(t.slots, slot[P]{pos: pos})
	t.unreleased++
	return t.base + uint64(len(t.slots)-t.head-1)
}

// Done records the release of batch seq with status s and reports whether
// the committed position moved. Each seq must be released once.
func (t *Tracker[P]) Done(seq uint64, s ack.Status) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := t.head + int(seq-t.base)
	if seq < t.base || i >= len(t.slots) || t.slots[i].released {
		panic("checkpoint: batch released twice or never added")
	}
	t.slots[i].released, t.slots[i].status = true, s
	t.unreleased--
	return t.advance()
}

// advance pops the released, committable prefix.
func (t *Tracker[P]) advance() bool {
	moved := false
	for t.head < len(t.slots) && t.slots[t.head].released {
		if !t.slots[t.head].status.Committable() {
			t.blocked = true
			break
		}
		t.committed = t.slots[t.head].pos
		t.slots[t.head] = slot[P]{}
		t.head++
		t.base++
		moved = true
	}
	switch {
	case t.head == len(t.slots):
		t.slots, t.head = t.slots[:0], 0
	case t.head > 64 && t.head > len(t.slots)/2:
		n := copy(t.slots, t.slots[t.head:])
		clear(t.slots[n:])
		t.slots, t.head = t.slots[:n], 0
	}
	return moved
}

// Token registers a batch ending at pos and returns its ack token. When the
// token is released, the tracker records it and then calls after (if not
// nil) with the status and whether the committed position moved.
func (t *Tracker[P]) Token(pos P, after func(s ack.Status, moved bool)) *ack.Token {
	seq := t.Add(pos)
	return ack.New(func(s ack.Status) {
		moved := t.Done(seq, s)
		if after != nil {
			after(s, moved)
		}
	})
}

// Committed is the position after the contiguous committable prefix.
func (t *Tracker[P]) Committed() P {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.committed
}

// Pending is the number of added batches not yet released.
func (t *Tracker[P]) Pending() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.unreleased
}

// Blocked reports whether an abandoned batch stopped the tracker.
func (t *Tracker[P]) Blocked() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.blocked
}
