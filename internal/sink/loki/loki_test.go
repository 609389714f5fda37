package loki

import (
	"context"
	"errors"
	"fmt"
	nethttp "net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/telemetry"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sinktest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func cfgFor(t testing.TB, url string, edit func(*Config)) *Config {
	t.Helper()
	cfg := &Config{}
	cfg.Defaults()
	cfg.Labels = map[string]string{"host": "{{.host}}", "stream": "{{.stream}}"}
	if edit != nil {
		edit(cfg)
	}
	cfg.URL = config.URL(url + "/loki/api/v1/push")
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func mustSink(t testing.TB, cfg *Config) (*Sink, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	s, err := newSink(cfg, telemetry.New(reg).Component("sink", "loki", "test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s, reg
}

// TestConformance runs the sink suite against the in-test fake Loki, in
// both encodings; the fake refuses the marked event as out of order.
func TestConformance(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Config)
	}{
		{"protobuf", nil},
		{"json gzip", func(c *Config) { c.Encoding, c.Compression = "json", "gzip" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sinktest.Run(t, sinktest.Harness{RejectMarker: "OUT-OF-ORDER", New: func(t *testing.T) *sinktest.Instance {
				fake := &fakeLoki{reject: "OUT-OF-ORDER"}
				peer := sinktest.NewHTTPPeer(t, fake)
				s, _ := mustSink(t, cfgFor(t, peer.URL, tc.edit))
				return &sinktest.Instance{Sink: s, Received: fake.received,
					Break: peer.Break, Restart: peer.Restart, Hang: peer.Hang}
			}})
		})
	}
}

// TestStreamsSortedAndLabelled: events are grouped by label set, each
// stream sorted by time, the tenant header set.
func TestStreamsSortedAndLabelled(t *testing.T) {
	fake := &fakeLoki{}
	peer := sinktest.NewHTTPPeer(t, fake)
	s, _ := mustSink(t, cfgFor(t, peer.URL, func(c *Config) {
		c.Tenant = "team-a"
		c.Labels = map[string]string{"app": "{{.app}}", "host": "{{.host}}"}
	}))
	t0 := time.Unix(1000, 0)
	ev := func(app string, sec int, msg string) event.Event {
		return event.Event{Timestamp: t0.Add(time.Duration(sec) * time.Second), Host: "h1", Message: []byte(msg),
			Fields: event.Fields{{Key: "app", Value: event.String(app)}}}
	}
	b := &event.Batch{Events: []event.Event{ev("web", 3, "w3"), ev("db", 2, "d2"), ev("web", 1, "w1"), ev("", 5, "none"), ev("web", 1, "w1b")}}
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	sec := func(n int64) int64 { return (1000 + n) * 1e9 }
	testutil.Diff(t, []pushed{
		{Labels: `{app="web", host="h1"}`, Entries: []pushedEntry{{sec(1), "w1"}, {sec(1), "w1b"}, {sec(3), "w3"}}},
		{Labels: `{app="db", host="h1"}`, Entries: []pushedEntry{{sec(2), "d2"}}},
		{Labels: `{host="h1"}`, Entries: []pushedEntry{{sec(5), "none"}}},
	}, fake.pushes[0])
	if got := fake.header[0].Get("X-Scope-OrgID"); got != "team-a" {
		t.Errorf("X-Scope-OrgID %q", got)
	}
}

// TestLabelCardinalityCap: past max_label_sets, events go to the overflow
// stream and are counted; known label sets keep their streams.
func TestLabelCardinalityCap(t *testing.T) {
	fake := &fakeLoki{}
	peer := sinktest.NewHTTPPeer(t, fake)
	s, reg := mustSink(t, cfgFor(t, peer.URL, func(c *Config) {
		c.MaxLabelSets = 3
		c.Labels = map[string]string{"user": "{{.user}}"}
	}))
	b := &event.Batch{}
	for i := range 10 {
		b.Events = append(b.Events, event.Event{Timestamp: time.Unix(int64(i), 0), Message: fmt.Appendf(nil, "m%d", i),
			Fields: event.Fields{{Key: "user", Value: event.String(fmt.Sprint("u", i%5))}}})
	}
	if err := s.Write(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, st := range fake.pushes[0] {
		got[st.Labels] += len(st.Entries)
	}
	testutil.Diff(t, map[string]int{`{user="u0"}`: 2, `{user="u1"}`: 2, `{user="u2"}`: 2, `{sluice_overflow="true"}`: 4}, got)
	if n := (testutil.GatheredCounter(t, reg, "sluice_loki_label_overflow_total")); n != 4 {
		t.Errorf("overflow counted %v, want 4", n)
	}
}

// TestOutOfOrderIsPerEventReject: Loki's 400 naming one entry rejects that
// event only, counted.
func TestOutOfOrderIsPerEventReject(t *testing.T) {
	fake := &fakeLoki{reject: "late"}
	peer := sinktest.NewHTTPPeer(t, fake)
	s, reg := mustSink(t, cfgFor(t, peer.URL, nil))
	b := sinktest.Batch("e", 0, 4)
	b.Events[1].Message = []byte("late one")
	err := s.Write(context.Background(), b)
	var part *component.PartialError
	if !errors.As(err, &part) {
		t.Fatalf("got %v, want a PartialError", err)
	}
	testutil.Diff(t, []component.Outcome{component.OK, component.Reject, component.OK, component.OK}, part.Outcomes)
	if n := (testutil.GatheredCounter(t, reg, "sluice_loki_entries_rejected_total")); n != 1 {
		t.Errorf("rejected counted %v, want 1", n)
	}
}

// TestOtherBadRequestRejectsBatch: a 400 for another reason rejects the
// batch; a 429 is retried.
func TestOtherAnswers(t *testing.T) {
	code := nethttp.StatusBadRequest
	peer := sinktest.NewHTTPPeer(t, nethttp.HandlerFunc(func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		nethttp.Error(w, "error parsing labels", code)
	}))
	s, _ := mustSink(t, cfgFor(t, peer.URL, nil))
	var rej *component.RejectError
	if err := s.Write(context.Background(), sinktest.Batch("x", 0, 2)); !errors.As(err, &rej) {
		t.Errorf("400: got %v, want a rejection", err)
	}
	code = nethttp.StatusTooManyRequests
	if err := s.Write(context.Background(), sinktest.Batch("x", 0, 2)); err == nil || errors.As(err, &rej) {
		t.Errorf("429: got %v, want a transient error", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, edit := range map[string]func(*Config){
		"no labels":  func(c *Config) { c.Labels = nil },
		"bad name":   func(c *Config) { c.Labels = map[string]string{"a-b": "x"} },
		"bad tmpl":   func(c *Config) { c.Labels = map[string]string{"a": "{{"} },
		"encoding":   func(c *Config) { c.Encoding = "avro" },
		"gzip+proto": func(c *Config) { c.Compression = "gzip" },
		"line":       func(c *Config) { c.Line = "raw" },
		"cap":        func(c *Config) { c.MaxLabelSets = 0 },
		"both auths": func(c *Config) { c.Auth.User, c.Auth.Token = "u", "t" },
		"bad scheme": func(c *Config) { c.URL = "ftp://x/" },
	} {
		c := &Config{}
		c.Defaults()
		c.URL, c.Labels = "http://127.0.0.1:3100/loki/api/v1/push", map[string]string{"host": "{{.host}}"}
		edit(c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func BenchmarkWriteProtobuf(b *testing.B) {
	peer := sinktest.NewHTTPPeer(b, nethttp.HandlerFunc(func(w nethttp.ResponseWriter, _ *nethttp.Request) {
		w.WriteHeader(nethttp.StatusNoContent)
	}))
	s, _ := mustSink(b, cfgFor(b, peer.URL, nil))
	batch := sinktest.Batch("bench-event-with-a-line-of-some-length", 0, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := s.Write(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(batch.Events))/b.Elapsed().Seconds(), "events/s")
}
