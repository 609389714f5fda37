// Package ack tracks when every holder of a batch of events has finished
// with it, so a source learns that its events are durably delivered.
//
// A Token starts with one holder (the source that created it). Each component
// that passes the batch to more than one place calls Retain first; each
// holder calls Release exactly once when it is done. When the count reaches
// zero the token's callback runs once, with the worst status any holder
// reported. A nil *Token is valid and ignores everything, for sources that
// cannot replay and so need no acknowledgement.
package ack

import "sync/atomic"

// Status is the outcome a holder reports. Higher values are worse; a token
// reports the worst status it was released with. Every status but Abandoned
// means the events are done with and a checkpoint may move past them.
type Status uint32

const (
	// Delivered means the events were durably taken by their destination.
	Delivered Status = iota
	// Rejected means a destination refused the events permanently (bad
	// request, mapping error); retrying would not help, so they count as done.
	Rejected
	// Dropped means a buffer configured with when_full: drop_newest
	// discarded the events.
	Dropped
	// Abandoned means the events were not taken because sluice is shutting
	// down or a component stopped: a source must not commit past them, so
	// they are read again after a restart.
	Abandoned
)

func (s Status) String() string {
	switch s {
	case Delivered:
		return "delivered"
	case Rejected:
		return "rejected"
	case Dropped:
		return "dropped"
	case Abandoned:
		return "abandoned"
	}
	return "unknown"
}

// Token is the shared acknowledgement state of one batch.
type Token struct {
	pending atomic.Int64
	worst   atomic.Uint32
	done    func(Status)
}

// New returns a token held once, whose done callback runs when the last
// holder releases it. done may be nil.
func New(done func(Status)) *Token {
	t := &Token{done: done}
	t.pending.Store(1)
	return t
}

// Retain adds n holders.
func (t *Token) Retain(n int) {
	if t == nil || n == 0 {
		return
	}
	t.pending.Add(int64(n))
}

// Release drops one holder, reporting its status.
func (t *Token) Release(s Status) {
	if t == nil {
		return
	}
	for {
		w := t.worst.Load()
		if uint32(s) <= w || t.worst.CompareAndSwap(w, uint32(s)) {
			break
		}
	}
	switch n := t.pending.Add(-1); {
	case n == 0:
		if t.done != nil {
			t.done(Status(t.worst.Load()))
		}
	case n < 0:
		panic("ack: token released more often than retained")
	}
}

// Join returns one token standing for all of ts: releasing it releases each
// of them with the same status. Sinks use it to send several batches as one
// request. Nil tokens are skipped; Join of no real tokens returns nil.
func Join(ts ...*Token) *Token {
	var live []*Token
	for _, t := range ts {
		if t != nil {
			live = append(live, t)
		}
	}
	switch len(live) {
	case 0:
		return nil
	case 1:
		return live[0]
	}
	return New(func(s Status) {
		for _, t := range live {
			t.Release(s)
		}
	})
}

// Committable reports whether a checkpoint may move past events with this status.
func (s Status) Committable() bool { return s != Abandoned }
