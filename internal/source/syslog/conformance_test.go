package syslog

import (
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sourcetest"
)

// TestConformance runs the source suite over TCP: one connection per
// source instance carries RFC 5424 frames, and bad input is a frame that
// is neither RFC 5424 nor RFC 3164 (kept whole, and counted).
func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{Type: "syslog", Setup: func(t testing.TB, _ string) *sourcetest.Fixture {
		cfg := &Config{}
		cfg.Defaults()
		cfg.Address, cfg.Timezone = "127.0.0.1:0", "UTC"
		var (
			mu   sync.Mutex
			cur  *Source
			conn net.Conn // to cur, once dialled
		)
		hangUp := func() {
			mu.Lock()
			defer mu.Unlock()
			if conn != nil {
				conn.Close()
				conn = nil
			}
		}
		t.Cleanup(hangUp)
		write := func(t testing.TB, frames string) error {
			mu.Lock()
			defer mu.Unlock()
			if conn == nil {
				select {
				case <-cur.listening:
				case <-t.Context().Done():
					return errors.New("source never listened")
				}
				c, err := net.Dial("tcp", cur.Addr().String())
				if err != nil {
					return err
				}
				conn = c
			}
			_, err := conn.Write([]byte(frames))
			return err
		}
		return &sourcetest.Fixture{
			New: func(t testing.TB, deps component.Deps) component.Source {
				s, err := New(testutil.Validated(t, cfg), deps)
				if err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				defer mu.Unlock()
				if conn != nil {
					conn.Close()
				}
				cur, conn = s.(*Source), nil
				return s
			},
			Feed: func(t testing.TB, msgs []string) error {
				var b strings.Builder
				for _, m := range msgs {
					b.WriteString("<14>1 2026-11-22T03:23:15Z web1 app 42 - - " + m + "\n")
				}
				return write(t, b.String())
			},
			Bad:       func(t testing.TB) { _ = write(t, "neither RFC 5424 nor 3164\n") },
			BadMetric: "sluice_syslog_parse_fallbacks_total",
			Close:     hangUp,
		}
	}})
}
