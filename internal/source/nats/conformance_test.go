package nats

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluice-log/sluice/internal/codec"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/natsconn/natstest"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sourcetest"
)

// cfgFor returns a validated config consuming stream "logs" through the
// durable "agg".
func cfgFor(t testing.TB, url string) *Config {
	t.Helper()
	cfg := &Config{}
	cfg.Defaults()
	cfg.URL, cfg.Stream, cfg.Durable, cfg.Subjects, cfg.CreateStream = url, "logs", "agg", []string{"logs.>"}, true
	cfg.MaxWait = config.Duration(50 * time.Millisecond)
	cfg.ShutdownTimeout = config.Duration(2 * time.Second)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// streamJS returns a JetStream client on srv with stream "logs" created.
func streamJS(t testing.TB, srv *natstest.Server) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(srv.Conn(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "logs", Subjects: []string{"logs.>"}}); err != nil {
		t.Fatal(err)
	}
	return js
}

func publish(t testing.TB, js jetstream.JetStream, data []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := js.Publish(ctx, "logs.test", data)
	return err
}

// TestConformance runs the source suite against a real nats-server: input
// is published to the stream as the nats sink encodes it; the checkpoint
// is the durable consumer's ack floor.
func TestConformance(t *testing.T) {
	testutil.SkipIfShort(t)
	sourcetest.Run(t, sourcetest.Harness{Type: "nats", Replay: true, Setup: func(t testing.TB, _ string) *sourcetest.Fixture {
		srv := natstest.Start(t)
		js := streamJS(t, srv)
		cfg := cfgFor(t, srv.URL)
		return &sourcetest.Fixture{
			New: func(t testing.TB, d component.Deps) component.Source {
				src, err := New(cfg, d)
				if err != nil {
					t.Fatal(err)
				}
				return src
			},
			Feed: func(t testing.TB, msgs []string) error {
				var buf []byte
				for _, m := range msgs {
					e := event.Event{Timestamp: time.Now(), Host: "h", Message: []byte(m)}
					buf = codec.JSON.Encode(buf[:0], &e)
					if err := publish(t, js, buf); err != nil {
						return err
					}
				}
				return nil
			},
			Bad: func(t testing.TB) {
				if err := publish(t, js, []byte("not a sluice event")); err != nil {
					t.Fatal(err)
				}
			},
			BadMetric: "sluice_nats_bad_messages_total",
			Committed: func(t testing.TB) int {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				c, err := js.Consumer(ctx, "logs", "agg")
				if err != nil {
					return 0 // not created yet
				}
				info, err := c.Info(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return int(info.AckFloor.Stream)
			},
		}
	}})
}
