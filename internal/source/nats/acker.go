package nats

import (
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluice-log/sluice/internal/ack"
)

// acker acknowledges the messages of emitted batches to JetStream in the
// order they were emitted, as a checkpoint moves: a batch is acked once it
// and every batch before it finished. A batch released Abandoned (sluice is
// stopping, it was not taken) is nak'd for redelivery, and so is every
// batch emitted after it that finishes while it is still in the queue, so
// that nothing is committed past an abandoned batch.
type acker struct {
	mu        sync.Mutex
	queue     []*inflight
	abandoned bool          // an abandoned batch was met; cleared when the queue empties
	idle      chan struct{} // closed when the queue is empty; nil then
}

// inflight is one emitted batch's messages and how it ended.
type inflight struct {
	msgs   []jetstream.Msg
	status ack.Status
	done   bool
}

// add queues the messages of a batch about to be emitted.
func (a *acker) add(msgs []jetstream.Msg) *inflight {
	p := &inflight{msgs: msgs}
	a.mu.Lock()
	if len(a.queue) == 0 {
		a.idle = make(chan struct{})
	}
	a.queue = append(a.queue, p)
	a.mu.Unlock()
	return p
}

// finish records how p ended and acks or naks what the queue's head
// allows.
func (a *acker) finish(p *inflight, st ack.Status) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p.done, p.status = true, st
	for len(a.queue) > 0 && a.queue[0].done {
		h := a.queue[0]
		a.queue[0] = nil
		a.queue = a.queue[1:]
		if h.status == ack.Abandoned {
			a.abandoned = true
		}
		for _, m := range h.msgs {
			if a.abandoned {
				_ = m.Nak()
			} else {
				_ = m.Ack() // a lost ack is a redelivery after ack_wait
			}
		}
	}
	if len(a.queue) == 0 && a.idle != nil {
		a.abandoned = false
		close(a.idle)
		a.idle = nil
		a.queue = nil
	}
}

// wait waits until every emitted batch finished, or d passed; it reports
// whether all did.
func (a *acker) wait(d time.Duration) bool {
	a.mu.Lock()
	idle := a.idle
	a.mu.Unlock()
	if idle == nil {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-idle:
		return true
	case <-t.C:
		return false
	}
}
