package syslog

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil"
)

// newSource builds a source from the defaults changed by edit, without
// starting it.
func newSource(t testing.TB, edit func(*Config)) *Source {
	t.Helper()
	c := &Config{}
	c.Defaults()
	c.Timezone = "UTC"
	edit(c)
	s, err := New(testutil.Validated(t, c), testutil.Deps(t, "syslog_test"))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s.(*Source)
}

// modeCase is a mode of the source and a way to make its Start fail.
type modeCase struct {
	name string
	edit func(*Config)
	// taken returns an edit that makes Start fail (a port taken, a
	// socket directory missing) and the error Start must return.
	taken func(t testing.TB) (edit func(*Config), want string)
}

// modes lists every mode, with the test's certificate for tls and socket
// files in dir.
func modes(t testing.TB, dir string) []modeCase {
	p := newPKI(t)
	tcpTaken := func(t testing.TB) (func(*Config), string) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ln.Close() })
		a := ln.Addr().String()
		return func(c *Config) { c.Address = a }, "listening on " + a + "/tcp: address already in use"
	}
	return []modeCase{
		{"tcp", func(c *Config) { c.Mode, c.Address = ModeTCP, "127.0.0.1:0" }, tcpTaken},
		{"tls", func(c *Config) {
			c.Mode, c.Address, c.TLS.Cert, c.TLS.Key = ModeTLS, "127.0.0.1:0", p.serverCert, p.serverKey
		}, tcpTaken},
		{"udp", func(c *Config) { c.Mode, c.Address = ModeUDP, "127.0.0.1:0" }, func(t testing.TB) (func(*Config), string) {
			pc, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { pc.Close() })
			a := pc.LocalAddr().String()
			return func(c *Config) { c.Address = a }, "listening on " + a + "/udp: address already in use"
		}},
		{"unix", func(c *Config) { c.Mode, c.Path = ModeUnix, filepath.Join(dir, "unix.sock") }, func(t testing.TB) (func(*Config), string) {
			path := filepath.Join(dir, "missing", "unix.sock")
			return func(c *Config) { c.Path = path }, "listening on unix socket " + path + ": no such file or directory"
		}},
		{"unix_dgram", func(c *Config) { c.Mode, c.Path = ModeUnixDgram, filepath.Join(dir, "dgram.sock") }, func(t testing.TB) (func(*Config), string) {
			path := filepath.Join(dir, "missing", "dgram.sock")
			return func(c *Config) { c.Path = path }, "listening on unix datagram socket " + path + ": no such file or directory"
		}},
	}
}

// TestStartFails: what cannot be bound fails Start, with an error naming
// where and why, and Run is never needed to find out.
func TestStartFails(t *testing.T) {
	t.Parallel()
	for _, tc := range modes(t, t.TempDir()) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			edit, want := tc.taken(t)
			s := newSource(t, func(c *Config) { tc.edit(c); edit(c) })
			err := s.Start(t.Context())
			if err == nil || err.Error() != want {
				t.Fatalf("Start = %v, want %q", err, want)
			}
			if s.Addr() != nil {
				t.Errorf("Addr = %v after a failed Start", s.Addr())
			}
		})
	}
}

// TestStartThenCancelledRunReleases: Run with its context already done
// after Start closes what Start bound, so it can be bound again.
func TestStartThenCancelledRunReleases(t *testing.T) {
	t.Parallel()
	for _, tc := range modes(t, t.TempDir()) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newSource(t, tc.edit)
			if err := s.Start(t.Context()); err != nil {
				t.Fatalf("Start: %v", err)
			}
			addr := s.Addr()
			if addr == nil {
				t.Fatal("no address after Start")
			}
			select {
			case <-s.listening:
			default:
				t.Error("listening not reported by Start")
			}
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if err := s.Run(ctx, (&testutil.Collector{}).Emit); err != nil {
				t.Fatalf("Run: %v", err)
			}
			again := newSource(t, func(c *Config) {
				tc.edit(c)
				if !strings.HasPrefix(c.Mode, "unix") {
					c.Address = addr.String()
				}
			})
			if err := again.Start(t.Context()); err != nil {
				t.Fatalf("Start after Run released: %v", err)
			}
			if err := again.Run(ctx, (&testutil.Collector{}).Emit); err != nil {
				t.Fatalf("Run: %v", err)
			}
		})
	}
}

// TestRunWithoutStart still listens: Run starts when Start was not called.
func TestRunWithoutStart(t *testing.T) {
	t.Parallel()
	h := start(t, nil) // the harness runs without Start
	write(t, dial(t, "tcp", h.addr()), "<13>1 2026-01-02T03:04:05Z host app - - - hello\n")
	testutil.Diff(t, []string{"hello"}, messages(h.wait(t, 1)))
}
