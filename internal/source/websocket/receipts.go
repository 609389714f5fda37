package wssource

import (
	"context"
	"time"

	"github.com/coder/websocket"

	"github.com/sluice-log/sluice/internal/relay"
)

// receiptTimeout bounds writing one receipt.
const receiptTimeout = 30 * time.Second

// deliver queues a receipt for the writer. owed says the receipt settles
// a batch counted in inflight.
func (ss *session) deliver(r relay.Receipt, owed bool) {
	ss.mu.Lock()
	if owed {
		ss.inflight--
	}
	if !ss.closed {
		ss.queue = append(ss.queue, r)
	}
	ss.mu.Unlock()
	signal(ss.wake)
	signal(ss.changed)
}

// adopt changes the number of receipts this session owes.
func (ss *session) adopt(n int) {
	ss.mu.Lock()
	ss.inflight += n
	ss.mu.Unlock()
	signal(ss.changed)
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// writeReceipts sends queued receipts until ctx ends or a write fails.
func (ss *session) writeReceipts(ctx context.Context) {
	var buf []byte
	var spare []relay.Receipt
	for {
		select {
		case <-ctx.Done():
			return
		case <-ss.wake:
		}
		ss.mu.Lock()
		q := ss.queue
		ss.queue, ss.writing = spare[:0], true
		ss.mu.Unlock()
		for _, r := range q {
			buf = relay.AppendReceipt(buf[:0], r)
			wctx, cancel := context.WithTimeout(ctx, receiptTimeout)
			err := ss.c.Write(wctx, websocket.MessageBinary, buf)
			cancel()
			if err != nil {
				_ = ss.c.CloseNow()
				return
			}
		}
		ss.mu.Lock()
		ss.writing, spare = false, q
		ss.mu.Unlock()
		signal(ss.changed)
	}
}

// drained reports whether every owed receipt has been written.
func (ss *session) drained() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.inflight <= 0 && len(ss.queue) == 0 && !ss.writing
}

// shutdown stops taking batches, waits for owed receipts and closes.
func (ss *session) shutdown(ctx context.Context) {
	deadline := time.NewTimer(ss.src.shutdownTimeout)
	defer deadline.Stop()
	for !ss.drained() {
		select {
		case <-ss.changed:
		case <-ctx.Done():
			return
		case <-deadline.C:
			ss.src.log.Warn("closing with receipts outstanding; the sender will resend", "remote", ss.remote)
			_ = ss.c.Close(websocket.StatusGoingAway, "receiver shutting down")
			return
		}
	}
	_ = ss.c.Close(websocket.StatusGoingAway, "receiver shutting down")
}
