package drains

import (
	"sync"
	"time"

	"github.com/sluice-log/sluice/internal/event"
)

// queue is one drain's own buffer: a bounded FIFO of events that, when
// full, drops its oldest events instead of blocking, so the router's push
// never waits on a drain. Drops are counted in total and since the drain
// last delivered, for the logplex-style warning on recovery.
type queue struct {
	max int

	mu      sync.Mutex
	items   []event.Event
	head    int
	closed  bool
	dropped int64     // in total
	sinceN  int64     // dropped since the last delivery
	sinceT  time.Time // first of those drops
	signal  chan struct{}
}

func newQueue(max int) *queue {
	return &queue{max: max, signal: make(chan struct{}, 1)}
}

// push appends evs, dropping the oldest events beyond max. It returns how
// many were dropped, and false when the queue is closed (nothing taken).
func (q *queue) push(evs []event.Event) (int, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return 0, false
	}
	q.items = append(q.items, evs...)
	drop := len(q.items) - q.head - q.max
	if drop > 0 {
		clear(q.items[q.head : q.head+drop]) // let the dropped messages go
		q.head += drop
		q.dropped += int64(drop)
		if q.sinceN == 0 {
			q.sinceT = time.Now()
		}
		q.sinceN += int64(drop)
	}
	q.compact()
	select {
	case q.signal <- struct{}{}:
	default:
	}
	return max(drop, 0), true
}

// compact moves the live events to the front once the dead prefix is
// larger than they are, so the backing array stays about max long.
func (q *queue) compact() {
	if q.head > 0 && q.head >= len(q.items)-q.head {
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
}

// pushFront puts e before everything queued (the overflow warning), even
// when closed, since the closing drain still flushes.
func (q *queue) pushFront(e event.Event) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head > 0 {
		q.head--
		q.items[q.head] = e
	} else {
		q.items = append([]event.Event{e}, q.items...)
	}
}

// take moves up to n events into dst (reset first) and returns it; it
// returns an empty dst when nothing is queued.
func (q *queue) take(dst []event.Event, n int) []event.Event {
	q.mu.Lock()
	defer q.mu.Unlock()
	end := min(q.head+n, len(q.items))
	dst = append(dst[:0], q.items[q.head:end]...)
	clear(q.items[q.head:end])
	q.head = end
	if q.head == len(q.items) {
		q.items, q.head = q.items[:0], 0
	}
	return dst
}

// len is the number of events waiting.
func (q *queue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head
}

// close stops pushes; what is queued can still be taken.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// isClosed reports whether close was called.
func (q *queue) isClosed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.closed
}

// takeDrops returns and resets the drops since the last delivery.
func (q *queue) takeDrops() (int64, time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n, t := q.sinceN, q.sinceT
	q.sinceN = 0
	return n, t
}

// droppedTotal is every event this queue dropped.
func (q *queue) droppedTotal() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.dropped
}
