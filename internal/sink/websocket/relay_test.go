package wssink

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	wssource "github.com/sluice-log/sluice/internal/source/websocket"
	"github.com/sluice-log/sluice/internal/testutil"
)

var eventOpts = cmp.Options{
	cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
	cmp.Comparer(func(a, b event.Value) bool { return string(a.AppendJSON(nil)) == string(b.AppendJSON(nil)) }),
}

func TestRelay(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	for _, tc := range []struct {
		name        string
		tls         bool
		compression bool
	}{
		{"ws", false, false},
		{"ws compressed", false, true},
		{"wss with a private CA", true, false},
		{"wss compressed", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			col := &testutil.Collector{}
			rcv := startReceiver(t, "127.0.0.1:0", col.Emit, func(c *wssource.Config) {
				if tc.tls {
					c.TLS = config.ServerTLS{Cert: p.cert, Key: p.key}
				}
			})
			scheme := "ws"
			if tc.tls {
				scheme = "wss"
			}
			s := newTestSink(t, scheme+"://"+rcv.addr+"/relay", func(c *Config) {
				c.Compression = tc.compression
				if tc.tls {
					c.TLS.CA = p.ca
				}
			})
			want := []event.Event{
				{Timestamp: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("", -7200)), Host: "h", Stream: "s",
					Message: []byte("invalid \xff\xfe utf-8 kept"), Fields: event.Fields{
						{Key: "n", Value: event.Float(1.25)}, {Key: "o", Value: event.Object(event.Fields{{Key: "a", Value: event.Bool(true)}})}}},
			}
			want = append(want, makeBatch(0, 500).Events...)
			for i := 0; i < len(want); i += 100 {
				b := &event.Batch{Events: want[i:min(i+100, len(want))]}
				if err := s.Write(t.Context(), b); err != nil {
					t.Fatalf("write %d: %v", i, err)
				}
			}
			testutil.Diff(t, want, col.Events(), eventOpts)
		})
	}
}

func TestWriteWaitsForReceipt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		release ack.Status
		check   func(error) bool
	}{
		{"delivered", ack.Delivered, func(err error) bool { return err == nil }},
		{"dropped counts as done", ack.Dropped, func(err error) bool { return err == nil }},
		{"rejected", ack.Rejected, func(err error) bool { var r *component.RejectError; return errors.As(err, &r) }},
		{"abandoned is transient", ack.Abandoned, func(err error) bool {
			var r *component.RejectError
			return err != nil && !errors.As(err, &r) && strings.Contains(err.Error(), "abandoned")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			col := &testutil.Collector{Hold: true, Notify: make(chan struct{}, 4)}
			rcv := startReceiver(t, "127.0.0.1:0", col.Emit, nil)
			s := newTestSink(t, "ws://"+rcv.addr+"/relay", nil)
			done := make(chan error, 1)
			go func() { done <- s.Write(t.Context(), makeBatch(0, 10)) }()
			<-col.Notify
			select {
			case err := <-done:
				t.Fatalf("Write returned %v before the receiver acknowledged", err)
			case <-time.After(200 * time.Millisecond):
			}
			col.Release(tc.release)
			if err := <-done; !tc.check(err) {
				t.Fatalf("after %s: Write returned %v", tc.release, err)
			}
		})
	}
}

func TestAbandonedIsResent(t *testing.T) {
	t.Parallel()
	col := &testutil.Collector{Hold: true, Notify: make(chan struct{}, 4)}
	rcv := startReceiver(t, "127.0.0.1:0", col.Emit, nil)
	s := newTestSink(t, "ws://"+rcv.addr+"/relay", nil)
	b := makeBatch(0, 3)
	done := make(chan error, 1)
	go func() { done <- s.Write(t.Context(), b) }()
	<-col.Notify
	col.Release(ack.Abandoned)
	if err := <-done; err == nil {
		t.Fatal("abandoned batch reported as delivered")
	}
	go func() { done <- s.Write(t.Context(), b) }()
	<-col.Notify
	col.Release(ack.Delivered)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	testutil.Diff(t, []string{"ev-0", "ev-1", "ev-2", "ev-0", "ev-1", "ev-2"}, col.Messages())
}

// TestResendIsNotEmittedTwice breaks the connection while a batch waits for
// its acknowledgement: the retry resends it with the same sequence number,
// the receiver recognises it, and the receipt reaches the new connection.
func TestResendIsNotEmittedTwice(t *testing.T) {
	t.Parallel()
	col := &testutil.Collector{Hold: true, Notify: make(chan struct{}, 4)}
	rcv := startReceiver(t, "127.0.0.1:0", col.Emit, nil)
	px := startProxy(t, rcv.addr, 0)
	s := newTestSink(t, "ws://"+px.addr()+"/relay", nil)
	b := makeBatch(0, 5)
	done := make(chan error, 1)
	go func() { done <- s.Write(t.Context(), b) }()
	<-col.Notify
	px.cut()
	if err := <-done; !errors.Is(err, component.ErrNotConnected) {
		t.Fatalf("after the cut: got %v, want ErrNotConnected", err)
	}
	go func() { done <- s.Write(t.Context(), b) }()
	select {
	case <-col.Notify:
		t.Fatal("the resent batch was emitted a second time")
	case <-time.After(200 * time.Millisecond):
	}
	col.Release(ack.Delivered)
	if err := <-done; err != nil {
		t.Fatalf("resent batch: %v", err)
	}
	testutil.Diff(t, []string{"ev-0", "ev-1", "ev-2", "ev-3", "ev-4"}, col.Messages())
	if got := testutil.CounterValue(t, s.connects); got != 2 {
		t.Errorf("connects = %v, want 2", got)
	}
	if got := testutil.CounterValue(t, s.resent); got != 1 {
		t.Errorf("resent = %v, want 1", got)
	}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	auth := config.Auth{Tokens: []config.Secret{"good-token"}, Users: map[string]config.Secret{"alice": config.Secret(hash)}}
	col := &testutil.Collector{}
	rcv := startReceiver(t, "127.0.0.1:0", col.Emit, func(c *wssource.Config) { c.Auth = auth })
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		ok   bool
	}{
		{"good token", func(c *Config) { c.Token = "good-token" }, true},
		{"good user", func(c *Config) { c.User, c.Password = "alice", "pw" }, true},
		{"user in the url", func(c *Config) { c.URL = config.URL("ws://alice:pw@" + rcv.addr + "/relay") }, true},
		{"token beside proxy basic auth", func(c *Config) { c.User, c.Password, c.Token = "proxy", "x", "good-token" }, true},
		{"wrong token", func(c *Config) { c.Token = "bad-token" }, false},
		{"wrong password", func(c *Config) { c.User, c.Password = "alice", "nope" }, false},
		{"no credentials", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newTestSink(t, "ws://"+rcv.addr+"/relay", tc.mod)
			err := s.Write(t.Context(), makeBatch(0, 1))
			if tc.ok {
				if err != nil {
					t.Fatalf("got %v", err)
				}
				return
			}
			if !errors.Is(err, ErrUnauthorized) || !errors.Is(err, component.ErrNotConnected) || !strings.Contains(err.Error(), "401") {
				t.Fatalf("got %v, want a 401 ErrUnauthorized", err)
			}
			for _, secret := range []string{"bad-token", "nope"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error reveals a secret: %v", err)
				}
			}
		})
	}
}
