package syslog

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sourcetest"
)

// TestConformance runs the source suite in each mode but tls: one
// connection (or socket) per source instance carries RFC 5424 frames, one
// datagram each in the datagram modes, and bad input is a frame that is
// neither RFC 5424 nor RFC 3164 (kept whole, and counted).
func TestConformance(t *testing.T) {
	for _, tc := range []struct{ mode, network string }{
		{ModeTCP, "tcp"}, {ModeUDP, "udp"}, {ModeUnix, "unix"}, {ModeUnixDgram, "unixgram"},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			sourcetest.Run(t, conformance(tc.mode, tc.network))
		})
	}
}

func conformance(mode, network string) sourcetest.Harness {
	return sourcetest.Harness{Type: "syslog", Setup: func(t testing.TB, dir string) *sourcetest.Fixture {
		cfg := &Config{}
		cfg.Defaults()
		cfg.Mode, cfg.Address, cfg.Timezone = mode, "127.0.0.1:0", "UTC"
		if network == "unix" || network == "unixgram" {
			cfg.Path = filepath.Join(dir, "log.sock")
		}
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
		write := func(t testing.TB, frames []string) error {
			mu.Lock()
			defer mu.Unlock()
			if conn == nil {
				select {
				case <-cur.listening:
				case <-t.Context().Done():
					return errors.New("source never listened")
				}
				c, err := net.Dial(network, cur.Addr().String())
				if err != nil {
					return err
				}
				conn = c
			}
			if network == "udp" || network == "unixgram" {
				for _, f := range frames {
					if _, err := conn.Write([]byte(f)); err != nil {
						return err
					}
				}
				return nil
			}
			_, err := conn.Write([]byte(strings.Join(frames, "\n") + "\n"))
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
				frames := make([]string, len(msgs))
				for i, m := range msgs {
					frames[i] = "<14>1 2026-11-22T03:23:15Z web1 app 42 - - " + m
				}
				return write(t, frames)
			},
			Bad:       func(t testing.TB) { _ = write(t, []string{"neither RFC 5424 nor 3164"}) },
			BadMetric: "sluice_syslog_parse_fallbacks_total",
			Close:     hangUp,
		}
	}}
}
