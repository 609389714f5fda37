package nats

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/natsconn/natstest"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sinktest"
)

// cfgFor returns a validated config publishing to subject in stream
// "logs", created by the sink.
func cfgFor(t testing.TB, url, subject string) *Config {
	t.Helper()
	cfg := &Config{}
	cfg.Defaults()
	cfg.URL, cfg.Subject, cfg.Stream, cfg.Subjects = url, subject, "logs", []string{"logs.>"}
	cfg.AckTimeout = config.Duration(time.Second)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func mustSink(t testing.TB, cfg *Config) *Sink {
	t.Helper()
	s, err := newSink(cfg, "test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// readBack returns the message of every event stored in stream, in order.
func readBack(t testing.TB, srv *natstest.Server, stream string) []string {
	t.Helper()
	js, err := jetstream.New(srv.Conn(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Logf("reading back: %v", err)
		return nil
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Logf("reading back: %v", err)
		return nil
	}
	var out []string
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			continue // deleted
		}
		for _, line := range strings.Split(string(m.Data), "\n") { // several with events_per_message
			var doc struct{ Message string }
			if err := json.Unmarshal([]byte(line), &doc); err != nil {
				t.Errorf("stored message %d is not JSON lines: %v", seq, err)
				continue
			}
			out = append(out, doc.Message)
		}
	}
	return out
}

// TestConformance runs the sink suite against a real nats-server with
// JetStream; Received reads the stream back.
func TestConformance(t *testing.T) {
	testutil.SkipIfShort(t)
	for _, per := range []int{1, 7} {
		t.Run(fmt.Sprintf("events_per_message=%d", per), func(t *testing.T) { conformance(t, per) })
	}
}

func conformance(t *testing.T, perMessage int) {
	sinktest.Run(t, sinktest.Harness{New: func(t *testing.T) *sinktest.Instance {
		srv := natstest.Start(t)
		cfg := cfgFor(t, srv.URL, "logs.{{.host}}")
		cfg.EventsPerMessage = perMessage
		s := mustSink(t, cfg)
		return &sinktest.Instance{Sink: s,
			Received: func() []string { return readBack(t, srv, "logs") },
			Break: func() func() {
				srv.Stop()
				return srv.Launch
			},
			Restart: srv.Restart,
			Hang:    srv.Pause,
		}
	}})
}
