package syslog

import (
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
)

const (
	line5424 = `<13>1 2026-11-22T03:23:15.369816+00:00 vm TAG - - [timeQuality tzKnown="1" isSynced="0"] msg1`
	line3164 = `<190>Nov 22 02:33:42 vm nginx: 127.0.0.1 - - "GET / HTTP/1.1" 200`
)

func octet(s string) string { return itoa(len(s)) + " " + s }

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		if n /= 10; n == 0 {
			return string(b)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string // substring of the error; "" means valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"udp", func(c *Config) { c.Mode = ModeUDP }, ""},
		{"unix", func(c *Config) { c.Mode, c.Path = ModeUnix, "/tmp/x.sock" }, ""},
		{"bad mode", func(c *Config) { c.Mode = "sctp" }, `mode "sctp"`},
		{"bad address", func(c *Config) { c.Address = "localhost" }, "want host:port"},
		{"unix without path", func(c *Config) { c.Mode = ModeUnixDgram }, "needs a path"},
		{"bad socket mode", func(c *Config) { c.Mode, c.Path, c.SocketMode = ModeUnix, "/x", "rw" }, "socket_mode"},
		{"tls without cert", func(c *Config) { c.Mode = ModeTLS }, "tls.cert and tls.key"},
		{"tls options without tls", func(c *Config) { c.TLS.Cert = "x" }, "tls is set"},
		{"no connections", func(c *Config) { c.MaxConnections = 0 }, "max_connections"},
		{"tiny messages", func(c *Config) { c.MaxMessageSize = 10 }, "max_message_size"},
		{"bad timezone", func(c *Config) { c.Timezone = "Mars/Olympus" }, "timezone"},
		{"bad stream_from", func(c *Config) { c.StreamFrom = "msgid" }, "stream_from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &Config{}
			c.Defaults()
			tc.edit(c)
			err := c.Validate()
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate() = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestTCPBothFramings(t *testing.T) {
	t.Parallel()
	h := start(t, nil)
	c := dial(t, "tcp", h.addr())
	write(t, c, line3164+"\n"+octet(line5424)+"<13>plain\n"+octet("<14>1 - - app - - - no host"))
	evs := h.wait(t, 4)
	testutil.Diff(t, []string{`127.0.0.1 - - "GET / HTTP/1.1" 200`, "msg1", "plain", "no host"}, messages(evs))
	for i, want := range []struct{ host, stream, format string }{
		{"vm", "nginx", "rfc3164"}, {"vm", "TAG", "rfc5424"}, {"127.0.0.1", "127.0.0.1", "rfc3164"}, {"127.0.0.1", "app", "rfc5424"},
	} {
		e := evs[i]
		if e.Host != want.host || e.Stream != want.stream || field(e, "syslog_format") != want.format {
			t.Errorf("event %d: host %q stream %q format %q, want %+v", i, e.Host, e.Stream, field(e, "syslog_format"), want)
		}
	}
	if got := evs[1].Timestamp; !got.Equal(time.Date(2026, 11, 22, 3, 23, 15, 369816000, time.UTC)) {
		t.Errorf("timestamp = %v, want the sender's", got)
	}
	for _, b := range h.coll.Batches {
		if b.Ack == nil {
			t.Error("syslog batch without an ack token; every batch carries one")
		}
	}
}

func TestUDP(t *testing.T) {
	t.Parallel()
	h := start(t, func(c *Config) { c.Mode = ModeUDP })
	c := dial(t, "udp", h.addr())
	for _, d := range []string{line5424, line3164 + "\n", "<11>app: no host", "garbage \x00\xff"} {
		write(t, c, d)
	}
	evs := h.wait(t, 4)
	testutil.Diff(t, []string{"msg1", `127.0.0.1 - - "GET / HTTP/1.1" 200`, "no host", "garbage \x00\xff"}, messages(evs))
	testutil.Diff(t, []string{"vm", "vm", "127.0.0.1", "127.0.0.1"}, []string{evs[0].Host, evs[1].Host, evs[2].Host, evs[3].Host})
	testutil.Diff(t, "raw", field(evs[3], "syslog_format"))
	if n := count(t, h.src.fallbacks); n != 1 {
		t.Errorf("fallbacks = %d, want 1", n)
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	h := start(t, func(c *Config) {
		c.Mode = ModeTLS
		c.TLS = TLSConfig{Cert: p.serverCert, Key: p.serverKey, ClientCA: p.caFile}
	})
	good, err := p.dialTLS(t, h.addr(), p.client)
	if err != nil {
		t.Fatalf("client with a certificate of the CA: %v", err)
	}
	write(t, good, octet(line5424))
	h.wait(t, 1)

	for name, certs := range map[string][]tls.Certificate{"wrong CA": {p.wrongClient}, "no certificate": nil} {
		bad, err := p.dialTLS(t, h.addr(), certs...)
		if err == nil {
			// TLS 1.3 reports the server's rejection on the first read.
			_, _ = bad.Write([]byte(octet(line5424)))
			if err := bad.SetReadDeadline(time.Now().Add(waitTimeout)); err != nil {
				t.Fatal(err)
			}
			_, err = bad.Read(make([]byte, 1))
		}
		if err == nil || strings.Contains(err.Error(), "timeout") {
			t.Errorf("%s: connection not rejected (%v)", name, err)
		}
	}
	write(t, good, line3164+"\n")
	evs := h.wait(t, 2)
	testutil.Diff(t, []string{"msg1", `127.0.0.1 - - "GET / HTTP/1.1" 200`}, messages(evs))
}

func TestUnixStream(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "log.sock")
	h := start(t, func(c *Config) { c.Mode, c.Path, c.SocketMode = ModeUnix, path, "0620" })
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o620 {
		t.Fatalf("socket file: %v, mode %v; want 0620", err, fi.Mode().Perm())
	}
	c := dial(t, "unix", path)
	// glibc's syslog(3) ends messages with NUL on stream sockets.
	write(t, c, "<13>Nov 22 03:23:18 TAG[42]: glibc\x00<13>Nov 22 03:23:18 TAG: lf\n"+octet(line5424))
	evs := h.wait(t, 3)
	testutil.Diff(t, []string{"glibc", "lf", "msg1"}, messages(evs))
	host, _ := os.Hostname()
	testutil.Diff(t, []string{host, "TAG", "42"}, []string{evs[0].Host, evs[0].Stream, field(evs[0], "procid")})
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("socket file left behind: %v", err)
	}
}

func TestUnixDgram(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dev-log")
	// A socket file left by a crashed run must not stop the source.
	stale, err := net.ListenPacket("unixgram", path)
	if err != nil {
		t.Fatal(err)
	}
	stale.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no stale socket file: %v", err)
	}
	h := start(t, func(c *Config) { c.Mode, c.Path = ModeUnixDgram, path })
	c := dial(t, "unixgram", path)
	write(t, c, "<13>Nov 22 03:23:18 TAG: one")
	write(t, c, line5424)
	evs := h.wait(t, 2)
	testutil.Diff(t, []string{"one", "msg1"}, messages(evs))
	if err := h.stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("socket file left behind: %v", err)
	}
}

func TestUnixPathInUseOrNotSocket(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "s")
	start(t, func(c *Config) { c.Mode, c.Path = ModeUnix, path })
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, file} {
		c := &Config{}
		c.Defaults()
		c.Mode, c.Path = ModeUnix, p
		s, err := New(testutil.Validated(t, c), testutil.Deps(t, "second"))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Run(t.Context(), (&testutil.Collector{}).Emit); err == nil {
			t.Errorf("%s: second source started", p)
		}
	}
	if b, _ := os.ReadFile(file); string(b) != "keep" {
		t.Error("a regular file at the socket path was touched")
	}
}

func TestUDPOversizeTruncated(t *testing.T) {
	t.Parallel()
	h := start(t, func(c *Config) { c.Mode, c.MaxMessageSize = ModeUDP, 100 })
	c := dial(t, "udp", h.addr())
	write(t, c, "<13>1 - h app - - - "+strings.Repeat("y", 200))
	write(t, c, "<13>1 - h app - - - small")
	evs := h.wait(t, 2)
	testutil.Diff(t, []string{strings.Repeat("y", 100-len("<13>1 - h app - - - ")), "small"}, messages(evs))
	if n := count(t, h.src.oversize); n != 1 {
		t.Errorf("oversize = %d, want 1", n)
	}
}

func TestUDPv6SenderAddress(t *testing.T) {
	t.Parallel()
	if l, err := net.ListenPacket("udp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		l.Close()
	}
	h := start(t, func(c *Config) { c.Mode, c.Address = ModeUDP, "[::1]:0" })
	write(t, dial(t, "udp", h.addr()), "<13>app: from v6")
	evs := h.wait(t, 1)
	testutil.Diff(t, []string{"::1", "from v6"}, []string{evs[0].Host, string(evs[0].Message)})
}
