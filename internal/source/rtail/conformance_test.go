package rtail

import (
	"encoding/json"
	"net"
	"sync"
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sourcetest"
)

// TestConformance runs the source suite over loopback UDP: each message is
// one rtail packet, and bad input a packet that is not rtail JSON.
func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{Type: "rtail", Setup: func(t testing.TB, _ string) *sourcetest.Fixture {
		cfg := &Config{}
		cfg.Defaults()
		cfg.Address = "127.0.0.1:0"
		var (
			mu  sync.Mutex
			cur *Source
		)
		send := func(t testing.TB, packets [][]byte) error {
			mu.Lock()
			s := cur
			mu.Unlock()
			addr, err := s.Addr(t.Context())
			if err != nil {
				return err
			}
			c, err := net.Dial("udp", addr.String())
			if err != nil {
				return err
			}
			defer c.Close()
			for _, p := range packets {
				if _, err := c.Write(p); err != nil {
					return err
				}
			}
			return nil
		}
		return &sourcetest.Fixture{
			New: func(t testing.TB, deps component.Deps) component.Source {
				s, err := New(testutil.Validated(t, cfg), deps)
				if err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				cur = s.(*Source)
				mu.Unlock()
				return s
			},
			Feed: func(t testing.TB, msgs []string) error {
				var packets [][]byte
				for _, m := range msgs {
					p, err := json.Marshal(map[string]any{"id": "app", "timestamp": 1700000000000, "content": m})
					if err != nil {
						return err
					}
					packets = append(packets, p)
				}
				return send(t, packets)
			},
			Bad:       func(t testing.TB) { _ = send(t, [][]byte{[]byte("not an rtail packet")}) },
			BadMetric: "sluice_rtail_invalid_packets_total",
		}
	}})
}
