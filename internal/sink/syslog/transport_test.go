package syslog

import (
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	for _, tc := range []struct {
		name          string
		requireClient bool
		edit          func(c *Config, addr string)
		wantErr       string // "" means delivered
	}{
		{"verified with the ca from the url", false, func(c *Config, a string) {
			c.URL = URL("syslog+tls://" + a + "?ca=" + p.caFile)
		}, ""},
		{"verified with tls.ca", false, func(c *Config, a string) {
			c.Mode, c.Address, c.TLS.CA = ModeTLS, a, p.caFile
		}, ""},
		{"server name from the option", false, func(c *Config, a string) {
			c.Mode, c.Address, c.TLS.CA, c.TLS.ServerName = ModeTLS, strings.Replace(a, "127.0.0.1", "localhost", 1), p.caFile, "localhost"
		}, ""},
		{"client certificate", true, func(c *Config, a string) {
			c.Mode, c.Address, c.TLS = ModeTLS, a, TLS{CA: p.caFile, Cert: p.clientCert, Key: p.clientKey}
		}, ""},
		{"insecure skips verification", false, func(c *Config, a string) {
			c.URL = URL("syslog+tls://" + a + "?insecure=true")
		}, ""},
		{"unknown ca is refused", false, func(c *Config, a string) {
			c.Mode, c.Address = ModeTLS, a
		}, "certificate"},
		{"wrong server name is refused", false, func(c *Config, a string) {
			c.Mode, c.Address, c.TLS.CA, c.TLS.ServerName = ModeTLS, a, p.caFile, "other.example"
		}, "other.example"},
		{"missing client certificate", true, func(c *Config, a string) {
			c.Mode, c.Address, c.TLS.CA = ModeTLS, a, p.caFile
		}, "certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := listenStream(t, "127.0.0.1:0", p.serverTLS(tc.requireClient))
			s := newTestSink(t, func(c *Config) { tc.edit(c, r.addr()) })
			err := s.Write(t.Context(), events("tls", 3))
			if tc.wantErr != "" {
				if !errors.Is(err, component.ErrNotConnected) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Write = %v, want ErrNotConnected about %q", err, tc.wantErr)
				}
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Write = %v, want an error about %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			testutil.Diff(t, batchMessages(events("tls", 3)), messages(decoded(r.wait(t, 3))))
			if !strings.HasPrefix(r.rawBytes(), octet(header+"tls-a0")) {
				t.Errorf("not octet counted (RFC 5425): %.40q", r.rawBytes())
			}
		})
	}
}

// TestTLSOptionalClientCert is a receiver that asks for a client
// certificate but does not insist, as syslog-ng's peer_verify(optional-
// untrusted) does: one connection carries every batch.
func TestTLSOptionalClientCert(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	tc := p.serverTLS(false)
	tc.ClientAuth = tls.RequestClientCert
	r := listenStream(t, "127.0.0.1:0", tc)
	s := newTestSink(t, func(c *Config) { c.Mode, c.Address, c.TLS.CA = ModeTLS, r.addr(), p.caFile })
	for i := range 3 {
		if err := s.Write(t.Context(), events("opt"+itoa(i), 10)); err != nil {
			t.Fatalf("Write %d: %v", i, err)
		}
	}
	testutil.Diff(t, 30, len(r.wait(t, 30)))
	testutil.Diff(t, 1, count(t, s.tr.(*streamTransport).connects))
}

func TestTLSBadFiles(t *testing.T) {
	t.Parallel()
	c := testutil.NewConfig(t, func(c *Config) { c.Mode, c.Address, c.TLS.CA = ModeTLS, "127.0.0.1:1", "/does/not/exist.pem" })
	if _, err := newSink(c, testutil.Deps(t, "x")); err == nil || !strings.Contains(err.Error(), "exist.pem") {
		t.Fatalf("newSink = %v, want an error naming the CA file", err)
	}
}

func TestUDP(t *testing.T) {
	t.Parallel()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s := newTestSink(t, func(c *Config) { c.URL = URL("syslog+udp://" + pc.LocalAddr().String()) })
	b := events("dgram", 3)
	b.Events[2].Message = []byte("two\nlines")
	if err := s.Write(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	got := readDatagrams(t, pc, 3)
	testutil.Diff(t, []string{header + "dgram-a0", header + "dgram-b1", header + "two\nlines"}, got)
}

func TestUDPTruncatesAtMaxMessageSize(t *testing.T) {
	t.Parallel()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s := newTestSink(t, func(c *Config) { c.Mode, c.Address, c.MaxMessageSize = ModeUDP, pc.LocalAddr().String(), 1000 })
	if err := s.Write(t.Context(), events(strings.Repeat("z", 2000), 2)); err != nil {
		t.Fatal(err)
	}
	for _, d := range readDatagrams(t, pc, 2) {
		testutil.Diff(t, 1000, len(d))
	}
	testutil.Diff(t, 2, count(t, s.truncated))
}

func TestUDPNoReceiverIsNotAnError(t *testing.T) {
	t.Parallel()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	s := newTestSink(t, func(c *Config) { c.Mode, c.Address = ModeUDP, addr })
	for range 3 { // ICMP port unreachable must not fail later writes
		if err := s.Write(t.Context(), events("lost", 2)); err != nil {
			t.Fatalf("Write: %v", err)
		}
	}
}

func TestUDPUnresolvable(t *testing.T) {
	t.Parallel()
	s := newTestSink(t, func(c *Config) { c.Mode, c.Address = ModeUDP, "no-such-host.invalid:514" })
	if err := s.Write(t.Context(), events("x", 1)); !errors.Is(err, component.ErrNotConnected) {
		t.Fatalf("Write = %v, want ErrNotConnected", err)
	}
}

func TestStreamTruncationCounted(t *testing.T) {
	t.Parallel()
	r := listenStream(t, "127.0.0.1:0", nil)
	s := newTestSink(t, func(c *Config) { c.Address, c.MaxMessageSize = r.addr(), 500 })
	b := events("short", 2)
	b.Events[1].Message = []byte(strings.Repeat("L", 1000))
	if err := s.Write(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	got := r.wait(t, 2)
	testutil.Diff(t, []int{len(header) + len("short-a0"), 500}, []int{len(got[0]), len(got[1])})
	testutil.Diff(t, 1, count(t, s.truncated))
}
