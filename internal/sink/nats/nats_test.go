package nats

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/sluice-log/sluice/internal/natsconn/natstest"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sinktest"
)

// TestResendIsDeduplicated: a batch written twice (a retry after a lost
// PubAck) is stored once, since each event's Nats-Msg-Id is the same.
func TestResendIsDeduplicated(t *testing.T) {
	testutil.SkipIfShort(t)
	srv := natstest.Start(t)
	s := mustSink(t, cfgFor(t, srv.URL, "logs.{{.host}}"))
	b := sinktest.Batch("dup", 0, 50)
	for range 2 {
		if err := s.Write(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	testutil.Diff(t, sinktest.Messages(b), readBack(t, srv, "logs"))
}

func TestMsgIDStable(t *testing.T) {
	a, b := msgID([]byte(`{"message":"x"}`)), msgID([]byte(`{"message":"y"}`))
	if a == b || a != msgID([]byte(`{"message":"x"}`)) || len(a) != 32 {
		t.Errorf("ids %q %q", a, b)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, edit := range map[string]func(*Config){
		"no url":       func(c *Config) { c.URL = "" },
		"bad scheme":   func(c *Config) { c.URL = "http://x:1" },
		"no subject":   func(c *Config) { c.Subject = "" },
		"bad template": func(c *Config) { c.Subject = "logs.{{" },
		"two auths":    func(c *Config) { c.Auth.User, c.Auth.Token = "u", "t" },
		"window":       func(c *Config) { c.MaxPending = 0 },
		"retention":    func(c *Config) { c.Create.Retention = "forever" },
	} {
		c := &Config{}
		c.Defaults()
		c.URL, c.Subject = "nats://127.0.0.1:4222", "logs"
		edit(c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestTokenAuth: against a server requiring a token, the right token
// delivers and a wrong one does not.
func TestTokenAuth(t *testing.T) {
	testutil.SkipIfShort(t)
	srv := natstest.StartWith(t, []nats.Option{nats.Token("s3cret")}, "--auth", "s3cret")
	good := cfgFor(t, srv.URL, "logs.x")
	good.Auth.Token = "s3cret"
	if err := mustSink(t, good).Write(context.Background(), sinktest.Batch("auth", 0, 3)); err != nil {
		t.Fatal(err)
	}
	bad := cfgFor(t, srv.URL, "logs.x")
	bad.Auth.Token = "wrong"
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := mustSink(t, bad).Write(ctx, sinktest.Batch("auth", 3, 3)); err == nil {
		t.Error("a wrong token delivered")
	}
	testutil.Diff(t, sinktest.Messages(sinktest.Batch("auth", 0, 3)), readBack(t, srv, "logs"))
}
