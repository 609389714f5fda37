package wssink

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sinktest"
)

// relayPeer is the real websocket source, in process, feeding a
// collector. It can be stopped and started again on the same address, and
// its pipeline can hang (emit blocks until the source stops).
type relayPeer struct {
	t    *testing.T
	col  testutil.Collector
	hung atomic.Bool
	addr string
	mu   sync.Mutex
	rcv  *receiver
}

func newRelayPeer(t *testing.T) *relayPeer {
	p := &relayPeer{t: t}
	p.rcv = startReceiver(t, "127.0.0.1:0", p.emit, nil)
	p.addr = p.rcv.addr
	return p
}

func (p *relayPeer) emit(ctx context.Context, b *event.Batch) error {
	if p.hung.Load() {
		<-ctx.Done()
		b.Ack.Release(ack.Abandoned)
		return ctx.Err()
	}
	return p.col.Emit(ctx, b)
}

func (p *relayPeer) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rcv.stop()
}

func (p *relayPeer) up() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.rcv = startReceiver(p.t, p.addr, p.emit, nil)
}

func (p *relayPeer) restart()                 { p.down(); p.up() }
func (p *relayPeer) breakUntilHealed() func() { p.down(); return p.up }

// TestConformance relays to the websocket source: Write returns nil only
// once the receiver's pipeline took the events, so nothing is eventual.
func TestConformance(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{New: func(t *testing.T) *sinktest.Instance {
		peer := newRelayPeer(t)
		s := newTestSink(t, "ws://"+peer.addr+"/relay", nil)
		return &sinktest.Instance{Sink: s, Received: peer.col.Messages,
			Break: peer.breakUntilHealed, Restart: peer.restart, Hang: func() { peer.hung.Store(true) }}
	}})
}
