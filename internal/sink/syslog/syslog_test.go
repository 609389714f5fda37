package syslog

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/codec"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	wire "github.com/sluice-log/sluice/internal/syslog"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestEncodeFraming(t *testing.T) {
	t.Parallel()
	ev := event.Event{Timestamp: testTime, Host: "web1", Stream: "api", Message: []byte("line one\nline two")}
	const msg = header + "line one"
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"octet counting keeps newlines", func(c *Config) {}, octet(msg + "\nline two")},
		{"lf framing turns newlines into spaces", func(c *Config) { c.Framing = FramingLF }, msg + " line two\n"},
		{"udp has no framing", func(c *Config) { c.Mode = ModeUDP }, msg + "\nline two"},
		{"defaults for facility and severity", func(c *Config) { c.Facility, c.Severity = "local7", "err" },
			octet("<187>1" + header[5:] + "line one\nline two")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Config{}
			c.Defaults()
			c.Address = "127.0.0.1:1"
			tc.edit(c)
			e := newEncoder(c, cmpMode(c))
			f := e.encode(&event.Batch{Events: []event.Event{ev, ev}})
			testutil.Diff(t, []string{tc.want, tc.want}, []string{string(f.message(0)), string(f.message(1))})
			testutil.Diff(t, 0, f.truncated)
		})
	}
}

// header is the RFC 5424 header of the test events.
const header = "<13>1 2024-05-06T07:08:09.123456Z web1 api - - - "

func octet(msg string) string { return strconv.Itoa(len(msg)) + " " + msg }

func cmpMode(c *Config) string {
	if c.Mode == "" {
		return ModeTCP
	}
	return c.Mode
}

func TestEncodeTruncates(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 600)
	euro := strings.Repeat("€", 300) // 3 bytes each
	for _, tc := range []struct {
		name    string
		message string
		wantLen int
		wantCut bool
	}{
		{"short message untouched", "hello", len(header) + 5, false},
		{"exactly the limit", long[:480-len(header)], 480, false},
		{"one byte over", long[:481-len(header)], 480, true},
		{"cut before a split character", euro, len(header) + (480-len(header))/3*3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &Config{}
			c.Defaults()
			c.MaxMessageSize = 480
			e := newEncoder(c, ModeUDP)
			ev := event.Event{Timestamp: testTime, Host: "web1", Stream: "api", Message: []byte(tc.message)}
			f := e.encode(&event.Batch{Events: []event.Event{ev}})
			got := f.message(0)
			testutil.Diff(t, tc.wantLen, len(got))
			testutil.Diff(t, tc.wantCut, f.truncated == 1)
			if !strings.HasPrefix(tc.message, string(got[len(header):])) {
				t.Errorf("message %q is not a prefix of the original", got[len(header):])
			}
		})
	}
}

func TestCut(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		in    string
		limit int
		want  int
	}{
		{"ascii", "abcdef", 3, 3},
		{"at a rune start", "ab€cd", 2, 2},
		{"inside a 3-byte rune", "ab€cd", 3, 2},
		{"inside a 3-byte rune, later", "ab€cd", 4, 2},
		{"after the rune", "ab€cd", 5, 5},
		{"inside a 4-byte rune", "a😀b", 4, 1},
		{"invalid run of continuation bytes", "a\x80\x80\x80\x80\x80", 5, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testutil.Diff(t, tc.want, cut([]byte(tc.in), tc.limit))
		})
	}
}

// TestLosslessRoundTrip decodes an RFC 5424 message as the syslog source
// does, sends it through the sink and checks the same bytes arrive.
func TestLosslessRoundTrip(t *testing.T) {
	t.Parallel()
	frames := []string{
		`<165>1 2003-10-11T22:14:15.003000Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][x@1 a="q\"uo\]te"] An application event log entry`,
		"<34>1 2024-05-06T07:08:09.000001+02:00 host su - - - \xef\xbb\xbf'su root' failed",
		"<13>1 2024-05-06T07:08:09.000000Z h app - - -",
	}
	r := listenStream(t, "127.0.0.1:0", nil)
	s := newTestSink(t, func(c *Config) { c.Address = r.addr() })
	b := &event.Batch{Events: make([]event.Event, len(frames))}
	var dec wire.Decoder
	for i, f := range frames {
		dec.Decode([]byte(f), time.Now(), "fallback", &b.Events[i])
	}
	if err := s.Write(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	// The BOM of the second message is not part of MSG: it is dropped.
	want := append([]string(nil), frames...)
	want[1] = strings.Replace(want[1], "\xef\xbb\xbf", "", 1)
	testutil.Diff(t, want, r.wait(t, len(frames)))
}

func TestSyslogEncoding(t *testing.T) {
	t.Parallel()
	enc, err := codec.Lookup("syslog")
	if err != nil {
		t.Fatal(err)
	}
	ev := event.Event{Timestamp: testTime, Host: "web1", Stream: "api", Message: []byte("GET /x 200"),
		Fields: event.Fields{{Key: "severity", Value: event.String("warning")}, {Key: "msgid", Value: event.String("M1")}}}
	got := string(enc.Encode([]byte("prefix:"), &ev))
	testutil.Diff(t, "prefix:<12>1 2024-05-06T07:08:09.123456Z web1 api - M1 - GET /x 200", got)
}

func TestTCP(t *testing.T) {
	t.Parallel()
	for _, framing := range []string{FramingOctet, FramingLF} {
		t.Run(framing, func(t *testing.T) {
			t.Parallel()
			r := listenStream(t, "127.0.0.1:0", nil)
			s := newTestSink(t, func(c *Config) { c.URL, c.Framing = URL("syslog+tcp://"+r.addr()), framing })
			for i := range 3 {
				if err := s.Write(t.Context(), events("batch"+itoa(i), 100)); err != nil {
					t.Fatalf("Write %d: %v", i, err)
				}
			}
			got := decoded(r.wait(t, 300))
			want := append(append(batchMessages(events("batch0", 100)), batchMessages(events("batch1", 100))...),
				batchMessages(events("batch2", 100))...)
			testutil.Diff(t, want, messages(got))
			testutil.Diff(t, "api", got[0].Stream)
			testutil.Diff(t, "web1", got[299].Host)
			raw := r.rawBytes()
			if framing == FramingOctet && !strings.HasPrefix(raw, octet(header+"batch0-a0")) {
				t.Errorf("not octet counted: %.40q", raw)
			}
			if framing == FramingLF && (!strings.HasPrefix(raw, "<13>1 ") || strings.Count(raw, "\n") != 300) {
				t.Errorf("not newline framed: %.40q, %d newlines", raw, strings.Count(raw, "\n"))
			}
			testutil.Diff(t, 1, count(t, s.tr.(*streamTransport).connects))
		})
	}
}

func TestReconnectAfterReceiverRestart(t *testing.T) {
	t.Parallel()
	r1 := listenStream(t, "127.0.0.1:0", nil)
	addr := r1.addr()
	s := newTestSink(t, func(c *Config) { c.Address = addr })
	if err := s.Write(t.Context(), events("before", 5)); err != nil {
		t.Fatal(err)
	}
	r1.wait(t, 5)
	r1.stop()
	waitDead(t, s)

	down := events("down", 5)
	err := s.Write(t.Context(), down)
	if !errors.Is(err, component.ErrNotConnected) {
		t.Fatalf("Write with the receiver down = %v, want ErrNotConnected", err)
	}

	r2 := listenStream(t, addr, nil)
	// The pipeline retries the failed batch, then sends the next ones.
	for _, b := range []*event.Batch{down, events("after", 5), events("later", 5)} {
		if err := s.Write(t.Context(), b); err != nil {
			t.Fatalf("Write after restart: %v", err)
		}
	}
	want := append(append(batchMessages(down), batchMessages(events("after", 5))...), batchMessages(events("later", 5))...)
	testutil.Diff(t, want, messages(decoded(r2.wait(t, 15))))
	testutil.Diff(t, 2, count(t, s.tr.(*streamTransport).connects))
}

// TestStuckReceiver checks that a receiver that stops reading makes Write
// fail at its timeout, or when its context ends, and that the connection
// is dropped so the retry starts on a fresh one.
func TestStuckReceiver(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		cancel  time.Duration
	}{
		{"write timeout", 200 * time.Millisecond, time.Hour},
		{"context cancelled", time.Hour, 200 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			held := make(chan net.Conn, 1)
			go func() {
				defer close(held)
				if c, err := ln.Accept(); err == nil {
					time.AfterFunc(tc.cancel, cancel)
					held <- c // kept open, never read
				}
			}()
			s := newTestSink(t, func(c *Config) { c.Address = ln.Addr().String(); c.Timeout = config.Duration(tc.timeout) })
			big := events(strings.Repeat("y", 60000), 400) // 24 MB: more than the socket buffers hold
			start := time.Now()
			err = s.Write(ctx, big)
			ln.Close()
			if c, ok := <-held; ok {
				c.Close()
			}
			if err == nil || errors.Is(err, component.ErrNotConnected) {
				t.Fatalf("Write to a receiver that does not read = %v, want a write error", err)
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("Write took %v", el)
			}
			if s.tr.(*streamTransport).conn != nil {
				t.Error("connection kept after a failed write")
			}
		})
	}
}

func TestNotConnected(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := newTestSink(t, func(c *Config) { c.Address = addr })
	if err := s.Write(t.Context(), events("x", 1)); !errors.Is(err, component.ErrNotConnected) {
		t.Fatalf("Write = %v, want ErrNotConnected", err)
	}
}

func TestCloseIdempotent(t *testing.T) {
	t.Parallel()
	r := listenStream(t, "127.0.0.1:0", nil)
	s := newTestSink(t, func(c *Config) { c.Address = r.addr() })
	if err := s.Write(t.Context(), events("x", 1)); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Write(t.Context(), events("x", 1)); err == nil {
		t.Error("Write after Close succeeded")
	}
	testutil.Diff(t, nil, s.Write(t.Context(), &event.Batch{}))
}
