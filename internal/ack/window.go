package ack

import "sync"

// Window turns out-of-order acknowledgements of batches emitted in order
// into a checkpoint that only moves over a contiguous done prefix. Each
// emitted batch is added with the position its source reaches after it
// (a file offset, a journald cursor); Done reports the furthest position
// whose batch and all earlier batches are done. An Abandoned batch stops
// the window: nothing after it may be committed, so it is read again.
type Window[P any] struct {
	mu      sync.Mutex
	base    uint64 // sequence number of entries[0]
	entries []windowEntry[P]
	stuck   bool
	idle    chan struct{} // closed and replaced when pending reaches zero
}

type windowEntry[P any] struct {
	pos       P
	done      bool
	abandoned bool
}

// Add records a batch that ends at pos and returns its sequence number,
// to pass to Done.
func (w *Window[P]) Add(pos P) uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.entries = append(w.entries, windowEntry[P]{pos: pos})
	return w.base + uint64(len(w.entries)) - 1
}

// Done marks batch seq done with status s. It returns the new committable
// position and true when the done prefix grew.
func (w *Window[P]) Done(seq uint64, s Status) (pos P, advanced bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	i := seq - w.base
	if seq < w.base || i >= uint64(len(w.entries)) {
		return pos, false
	}
	w.entries[i].done = true
	w.entries[i].abandoned = !s.Committable()
	n := 0
	for n < len(w.entries) && w.entries[n].done && !w.entries[n].abandoned && !w.stuck {
		n++
	}
	if n < len(w.entries) && w.entries[n].abandoned {
		w.stuck = true
	}
	if n > 0 {
		pos, advanced = w.entries[n-1].pos, true
		w.entries = append(w.entries[:0], w.entries[n:]...)
		w.base += uint64(n)
	}
	if w.stuck && allDone(w.entries) {
		w.entries, w.base = w.entries[:0], w.base+uint64(len(w.entries))
	}
	if len(w.entries) == 0 && w.idle != nil {
		close(w.idle)
		w.idle = nil
	}
	return pos, advanced
}

func allDone[P any](es []windowEntry[P]) bool {
	for _, e := range es {
		if !e.done {
			return false
		}
	}
	return true
}

// Pending is the number of batches not yet done (or not yet cleared
// behind an abandoned one).
func (w *Window[P]) Pending() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.entries)
}

// Idle returns a channel closed once no batch is pending.
func (w *Window[P]) Idle() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.entries) == 0 {
		c := make(chan struct{})
		close(c)
		return c
	}
	if w.idle == nil {
		w.idle = make(chan struct{})
	}
	return w.idle
}

// Stuck reports whether an abandoned batch has stopped the window.
func (w *Window[P]) Stuck() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.stuck
}
