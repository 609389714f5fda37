package wssource

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/event/wire"
	"github.com/sluice-log/sluice/internal/relay"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start runs a source on a free port and returns it with a function that
// cancels it and returns a channel closed when Run has returned.
func start(t *testing.T, emit component.Emit, mod func(*Config, *component.Deps)) (*Source, func() <-chan struct{}) {
	t.Helper()
	c := &Config{}
	c.Defaults()
	c.Address = "127.0.0.1:0"
	d := testutil.Deps(t, "relay-in")
	if mod != nil {
		mod(c, &d)
	}
	s, err := New(testutil.Validated(t, c), d)
	if err != nil {
		t.Fatal(err)
	}
	run := testutil.StartSource(t, s, emit)
	if _, err := s.(*Source).Addr(t.Context()); err != nil {
		t.Fatal(err)
	}
	return s.(*Source), run.Stop
}

func (s *Source) url(t *testing.T) string {
	a, err := s.Addr(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return "ws://" + a.String() + "/relay"
}

// dial connects as a relay sender with optional extra headers.
func dial(t *testing.T, url string, hdr http.Header) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(t.Context(), url, &websocket.DialOptions{HTTPHeader: hdr, Subprotocols: []string{relay.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func payload(t *testing.T, evs ...event.Event) []byte {
	t.Helper()
	b, err := wire.AppendBatch(nil, evs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func send(t *testing.T, c *websocket.Conn, seq uint64, flags byte, p []byte) {
	t.Helper()
	msg := append(relay.AppendBatchHeader(nil, flags, seq), p...)
	if err := c.Write(t.Context(), websocket.MessageBinary, msg); err != nil {
		t.Fatal(err)
	}
}

func receipt(t *testing.T, c *websocket.Conn) relay.Receipt {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	typ, msg, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("reading receipt: %v", err)
	}
	if typ != websocket.MessageBinary {
		t.Fatalf("receipt is a %v message", typ)
	}
	r, err := relay.ParseReceipt(msg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// closeStatus reads until the connection closes and returns the status.
func closeStatus(t *testing.T, c *websocket.Conn) websocket.StatusCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for range 100 {
		if _, _, err := c.Read(ctx); err != nil {
			return websocket.CloseStatus(err)
		}
	}
	t.Fatal("connection not closed")
	return 0
}

func ev(msg string) event.Event { return event.Event{Host: "h", Stream: "s", Message: []byte(msg)} }

func TestHandshakeRefusals(t *testing.T) {
	t.Parallel()
	s, _ := start(t, (&testutil.Collector{}).Emit, func(c *Config, _ *component.Deps) {
		c.Auth = config.Auth{Tokens: []config.Secret{"tok"}}
	})
	for _, tc := range []struct {
		name   string
		hdr    http.Header
		protos []string
		status int
	}{
		{"no credentials", nil, []string{relay.Subprotocol}, http.StatusUnauthorized},
		{"wrong token", http.Header{"Authorization": {"Bearer nope"}}, []string{relay.Subprotocol}, http.StatusUnauthorized},
		{"token in the relay header is checked", http.Header{"Authorization": {"Bearer tok"}, relay.HeaderAuthorization: {"Bearer nope"}},
			[]string{relay.Subprotocol}, http.StatusUnauthorized},
		{"no subprotocol", http.Header{"Authorization": {"Bearer tok"}}, nil, http.StatusBadRequest},
		{"other subprotocol", http.Header{"Authorization": {"Bearer tok"}}, []string{"chat"}, http.StatusBadRequest},
		{"bad sender id", http.Header{"Authorization": {"Bearer tok"}, relay.HeaderSender: {"a b"}}, []string{relay.Subprotocol}, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, resp, err := websocket.Dial(t.Context(), s.url(t), &websocket.DialOptions{HTTPHeader: tc.hdr, Subprotocols: tc.protos})
			if err == nil {
				_ = c.CloseNow()
				t.Fatal("handshake accepted")
			}
			if resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("got %v (%v), want HTTP %d", resp, err, tc.status)
			}
		})
	}
	c, resp, err := websocket.Dial(t.Context(), s.url(t), &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer tok"}}, Subprotocols: []string{relay.Subprotocol}})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.CloseNow() }() // only the handshake is under test
	if got := resp.Header.Get(relay.HeaderMaxMessageSize); got != fmt.Sprint(8<<20) {
		t.Errorf("announced max message size %q", got)
	}
}

func TestBadMessages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		typ    websocket.MessageType
		msg    []byte
		status websocket.StatusCode
	}{
		{"text message", websocket.MessageText, []byte("hello"), websocket.StatusUnsupportedData},
		{"receipt from a sender", websocket.MessageBinary, relay.AppendReceipt(nil, relay.Receipt{Seq: 1}), websocket.StatusProtocolError},
		{"short message", websocket.MessageBinary, []byte{relay.TypeBatch}, websocket.StatusProtocolError},
		{"too big", websocket.MessageBinary, make([]byte, 5<<10), websocket.StatusMessageTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, _ := start(t, (&testutil.Collector{}).Emit, func(c *Config, _ *component.Deps) { c.MaxMessageSize = 4 << 10 })
			c := dial(t, s.url(t), nil)
			if err := c.Write(t.Context(), tc.typ, tc.msg); err != nil {
				t.Fatal(err)
			}
			if got := closeStatus(t, c); got != tc.status {
				t.Fatalf("closed with %v, want %v", got, tc.status)
			}
		})
	}
}

func TestUndecodableBatchIsRejected(t *testing.T) {
	t.Parallel()
	col := &testutil.Collector{}
	s, _ := start(t, col.Emit, func(c *Config, _ *component.Deps) { c.MaxMessageSize = 4 << 10 })
	c := dial(t, s.url(t), nil)
	bomb := relay.Compress(nil, make([]byte, 64<<10))
	for _, tc := range []struct {
		name   string
		flags  byte
		p      []byte
		reason string
	}{
		{"corrupt payload", 0, []byte{1, 2, 3}, "corrupt"},
		{"unknown flag", 0x40, payload(t, ev("x")), "unknown flags"},
		{"bad compression", relay.FlagCompressed, []byte("not s2"), "decompressing"},
		{"decompresses past the limit", relay.FlagCompressed, bomb, "exceeds"},
	} {
		send(t, c, 7, tc.flags, tc.p)
		r := receipt(t, c)
		if r.Seq != 7 || r.Status != relay.Rejected || !strings.Contains(r.Reason, tc.reason) {
			t.Errorf("%s: got receipt %+v, want rejected with %q", tc.name, r, tc.reason)
		}
	}
	send(t, c, 8, relay.FlagCompressed, relay.Compress(nil, payload(t, ev("good"))))
	testutil.Diff(t, relay.Receipt{Seq: 8, Status: relay.Delivered}, receipt(t, c))
	testutil.Diff(t, []string{"good"}, col.Messages())
}

func TestDuplicates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		sender string
		emits  int
	}{
		{"recognised by sender id", "sender-1", 1},
		{"without sender id", "", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			col := &testutil.Collector{Hold: true, Notify: make(chan struct{}, 4)}
			s, _ := start(t, col.Emit, nil)
			hdr := http.Header{}
			if tc.sender != "" {
				hdr.Set(relay.HeaderSender, tc.sender)
			}
			c1 := dial(t, s.url(t), hdr)
			send(t, c1, 5, 0, payload(t, ev("a")))
			<-col.Notify
			c2 := dial(t, s.url(t), hdr) // the sender reconnected and resends
			send(t, c2, 5, 0, payload(t, ev("a")))
			if tc.emits == 2 {
				<-col.Notify
			}
			col.Release(ack.Delivered)
			testutil.Diff(t, relay.Receipt{Seq: 5, Status: relay.Delivered}, receipt(t, c2))
			if tc.sender != "" {
				// Once more after the receipt: answered from memory.
				send(t, c2, 5, 0, payload(t, ev("a")))
				testutil.Diff(t, relay.Receipt{Seq: 5, Status: relay.Delivered}, receipt(t, c2))
			}
			testutil.Diff(t, slices.Repeat([]string{"a"}, tc.emits), col.Messages())
		})
	}
}

func TestShutdownSendsOwedReceipts(t *testing.T) {
	t.Parallel()
	col := &testutil.Collector{Hold: true, Notify: make(chan struct{}, 4)}
	s, stop := start(t, col.Emit, func(c *Config, _ *component.Deps) { c.ShutdownTimeout = config.Duration(time.Minute) })
	c := dial(t, s.url(t), nil)
	send(t, c, 1, 0, payload(t, ev("in flight")))
	<-col.Notify
	stopped := stop()
	send(t, c, 2, 0, payload(t, ev("too late")))
	testutil.Diff(t, relay.Receipt{Seq: 2, Status: relay.Abandoned}, receipt(t, c))
	select {
	case <-stopped:
		t.Fatal("Run returned before the owed receipt was sent")
	default:
	}
	col.Release(ack.Delivered)
	testutil.Diff(t, relay.Receipt{Seq: 1, Status: relay.Delivered}, receipt(t, c))
	if got := closeStatus(t, c); got != websocket.StatusGoingAway {
		t.Errorf("closed with %v, want going away", got)
	}
	<-stopped
	testutil.Diff(t, []string{"in flight"}, col.Messages())
}

func TestWithoutAcknowledgements(t *testing.T) {
	t.Parallel()
	col := &testutil.Collector{Hold: true}
	s, _ := start(t, component.AckOnEmit(col.Emit), nil)
	c := dial(t, s.url(t), nil)
	send(t, c, 3, 0, payload(t, ev("x")))
	testutil.Diff(t, relay.Receipt{Seq: 3, Status: relay.Delivered}, receipt(t, c))
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		err  string
	}{
		{"defaults", func(*Config) {}, ""},
		{"relative path", func(c *Config) { c.Path = "relay" }, "path must start with /"},
		{"cert without key", func(c *Config) { c.TLS.Cert = "c.pem" }, "tls needs both"},
		{"tiny messages", func(c *Config) { c.MaxMessageSize = 100 }, "max_message_size"},
		{"no ping interval", func(c *Config) { c.PingInterval = 0 }, "ping_interval"},
		{"no address", func(c *Config) { c.Address = "" }, "address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &Config{}
			c.Defaults()
			tc.mod(c)
			err := c.Validate()
			if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("got %v, want %q", err, tc.err)
			}
		})
	}
}

func TestListenError(t *testing.T) {
	t.Parallel()
	s, _ := start(t, (&testutil.Collector{}).Emit, nil)
	a, _ := s.Addr(t.Context())
	c := &Config{}
	c.Defaults()
	c.Address = a.String()
	other, err := New(testutil.Validated(t, c), testutil.Deps(t, "second"))
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Run(t.Context(), nil); err == nil || !strings.Contains(err.Error(), "listening") {
		t.Fatalf("got %v, want a listen error", err)
	}
}
