package wssource

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/event/wire"
	"github.com/sluice-log/sluice/internal/relay"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sourcetest"
)

// TestConformance runs the source suite with a relay sender: each Feed is
// one batch message, and a Delivered receipt is the source's word that its
// events were delivered (Confirms); bad input is a batch whose payload does
// not decode (rejected with a receipt, counted).
func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{Type: "websocket", Confirms: true, Setup: func(t testing.TB, _ string) *sourcetest.Fixture {
		cfg := &Config{}
		cfg.Defaults()
		cfg.Address = "127.0.0.1:0"
		cfg.ShutdownTimeout = config.Duration(time.Second)
		var (
			mu       sync.Mutex
			cur      *Source
			conn     *websocket.Conn // to cur, once dialled
			receipts chan []byte     // read from conn; closed when it ends
			reading  sync.WaitGroup
			seq      uint64
		)
		hangUp := func() {
			mu.Lock()
			defer mu.Unlock()
			if conn != nil {
				_ = conn.CloseNow()
				conn = nil
			}
			reading.Wait()
		}
		t.Cleanup(hangUp)
		// send sends one batch message and returns its receipt.
		send := func(t testing.TB, payload []byte) (relay.Receipt, error) {
			mu.Lock()
			defer mu.Unlock()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			if conn == nil {
				addr, err := cur.Addr(ctx)
				if err != nil {
					return relay.Receipt{}, err
				}
				c, _, err := websocket.Dial(ctx, "ws://"+addr.String()+"/relay",
					&websocket.DialOptions{Subprotocols: []string{relay.Subprotocol}})
				if err != nil {
					return relay.Receipt{}, err
				}
				// Read all the time, as a real sender does: a sender that
				// stops reading holds the receiver's close handshake up.
				ch := make(chan []byte, 16)
				conn, receipts = c, ch
				reading.Go(func() {
					defer close(ch)
					for {
						_, msg, err := c.Read(context.Background())
						if err != nil {
							return
						}
						select {
						case ch <- msg:
						default: // nobody waits for it
						}
					}
				})
			}
			seq++
			if err := conn.Write(ctx, websocket.MessageBinary, append(relay.AppendBatchHeader(nil, 0, seq), payload...)); err != nil {
				return relay.Receipt{}, err
			}
			select {
			case msg, ok := <-receipts:
				if !ok {
					return relay.Receipt{}, errors.New("connection closed")
				}
				return relay.ParseReceipt(msg)
			case <-ctx.Done():
				return relay.Receipt{}, ctx.Err()
			}
		}
		return &sourcetest.Fixture{
			New: func(t testing.TB, deps component.Deps) component.Source {
				s, err := New(testutil.Validated(t, cfg), deps)
				if err != nil {
					t.Fatal(err)
				}
				hangUp()
				mu.Lock()
				cur = s.(*Source)
				mu.Unlock()
				return s
			},
			Feed: func(t testing.TB, msgs []string) error {
				evs := make([]event.Event, len(msgs))
				for i, m := range msgs {
					evs[i] = event.Event{Timestamp: time.Unix(1700000000, 0).UTC(), Host: "web1", Stream: "app", Message: []byte(m)}
				}
				payload, err := wire.AppendBatch(nil, evs)
				if err != nil {
					return err
				}
				r, err := send(t, payload)
				switch {
				case err != nil:
					return err
				case r.Seq != seq:
					return fmt.Errorf("receipt for batch %d, want %d", r.Seq, seq)
				case r.Status != relay.Delivered:
					return errors.New("receipt says " + r.Status.String())
				}
				return nil
			},
			Bad:       func(t testing.TB) { _, _ = send(t, []byte("not a batch payload")) },
			BadMetric: "sluice_websocket_bad_messages_total",
			Close:     hangUp,
		}
	}})
}
