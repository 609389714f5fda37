package push

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/metrics/store"
	"github.com/sluice-log/sluice/internal/pipeline"
	"github.com/sluice-log/sluice/internal/testutil"
)

// newPusher builds and starts a pusher of cfg (defaults set, validated).
func newPusher(t *testing.T, name string, cfg config.Pusher, s *store.Store, m *Metrics) *Pusher {
	t.Helper()
	cfg.PushDefaults()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	p, err := New(name, cfg, s, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	return p
}

func stopPusher(t *testing.T, p *Pusher) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	p.Stop(ctx)
}

// VictoriaMetrics receives graphite plaintext (tags become labels) and
// remote_write; its export API returns the values and labels pushed.
func TestVictoriaMetricsGraphiteAndRemoteWrite(t *testing.T) {
	t.Parallel()
	v := startVM(t, nil)
	s, c, g, h := testStore(t)
	fill(c, g, h)
	gp := newPusher(t, "graphite", config.Pusher{Type: "graphite", Prefix: "gr",
		Address: fmt.Sprintf("127.0.0.1:%d", v.graphite)}, s, nil)
	rp := newPusher(t, "rw", config.Pusher{Type: "remote_write", Prefix: "rw_",
		URL: config.URL(fmt.Sprintf("http://127.0.0.1:%d/api/v1/write", v.http))}, s, nil)
	stopPusher(t, gp) // the final push
	stopPusher(t, rp)
	want := map[string]float64{
		`{"__name__":"gr.latency_seconds_bucket","le":"+Inf","path":"/a"}`: 3,
		`{"__name__":"gr.latency_seconds_bucket","le":"0.1","path":"/a"}`:  1,
		`{"__name__":"gr.latency_seconds_bucket","le":"1","path":"/a"}`:    2,
		`{"__name__":"gr.latency_seconds_count","path":"/a"}`:              3,
		`{"__name__":"gr.latency_seconds_sum","path":"/a"}`:                3.55,
		`{"__name__":"gr.queue_depth"}`:                                    7.5,
		`{"__name__":"gr.requests_total","code":"200","method":"GET"}`:     3,
		`{"__name__":"gr.requests_total","code":"500","method":"POST"}`:    1,
		`{"__name__":"rw_latency_seconds_bucket","le":"+Inf","path":"/a"}`: 3,
		`{"__name__":"rw_latency_seconds_bucket","le":"0.1","path":"/a"}`:  1,
		`{"__name__":"rw_latency_seconds_bucket","le":"1","path":"/a"}`:    2,
		`{"__name__":"rw_latency_seconds_count","path":"/a"}`:              3,
		`{"__name__":"rw_latency_seconds_sum","path":"/a"}`:                3.55,
		`{"__name__":"rw_queue_depth"}`:                                    7.5,
		`{"__name__":"rw_requests_total","code":"200","method":"GET"}`:     3,
		`{"__name__":"rw_requests_total","code":"500","method":"POST"}`:    1,
	}
	var got map[string]float64
	ok := testutil.Eventually(peerWait, func() bool {
		got = latest(v.export(t, `{__name__=~"(gr[.]|rw_).*"}`))
		return len(got) == len(want)
	})
	testutil.Diff(t, want, got)
	if !ok {
		t.Fatal("not every series arrived")
	}
}

// remote_write to a VictoriaMetrics that goes away mid-test: failures
// counted, the pusher failed in its health, the oldest intervals dropped;
// once the same VictoriaMetrics is back, the pusher catches up and the
// newest value arrives.
func TestRemoteWriteDestinationDownAndBack(t *testing.T) {
	t.Parallel()
	v := startVM(t, nil)
	s, c, _, _ := testStore(t)
	m := NewMetrics(prometheus.NewRegistry())
	c.Add(key("GET", "200"), 1)
	p := newPusher(t, "rw", config.Pusher{Type: "remote_write", MaxPending: 2,
		Interval: config.Duration(100 * time.Millisecond), Timeout: config.Duration(time.Second),
		URL: config.URL(fmt.Sprintf("http://127.0.0.1:%d/api/v1/write", v.http))}, s, m)
	defer stopPusher(t, p)
	query := `{__name__="requests_total",method="GET"}`
	value := func() float64 {
		return latest(v.export(t, query))[`{"__name__":"requests_total","code":"200","method":"GET"}`]
	}
	testutil.WaitFor(t, peerWait, "the first value", func() bool { return value() == 1 })

	v.p.stop()
	c.Add(key("GET", "200"), 1) // 2, pushed while down
	testutil.WaitFor(t, peerWait, "failures, a failed health and dropped intervals", func() bool {
		return testutil.CounterValue(t, m.failures.WithLabelValues("rw")) >= 3 &&
			testutil.CounterValue(t, m.dropped.WithLabelValues("rw")) >= 1 &&
			p.Health().State == pipeline.StateFailed
	})
	t.Logf("while down: %s", p.Health().Error)

	c.Add(key("GET", "200"), 1) // 3
	startVM(t, v)               // the same data dir and ports
	testutil.WaitFor(t, peerWait, "the value pushed after the restart", func() bool { return value() == 3 })
	testutil.WaitFor(t, peerWait, "the pusher running again", func() bool { return p.Health().State == pipeline.StateRunning })
	if n := testutil.CounterValue(t, m.sent.WithLabelValues("rw")); n < 2 {
		t.Errorf("sent %v samples, want at least 2", n)
	}
}

// collectd receives the same values over its unixsock (PUTVAL) and over
// the binary network protocol, and its csv plugin writes them.
func TestCollectdUnixsockAndNetwork(t *testing.T) {
	t.Parallel()
	cd := startCollectd(t)
	s, c, g, h := testStore(t)
	fill(c, g, h)
	up := newPusher(t, "unix", config.Pusher{Type: "collectd", Host: "sluice", Plugin: "viaunix",
		Address: "unix://" + cd.sock}, s, nil)
	np := newPusher(t, "net", config.Pusher{Type: "collectd", Host: "sluice", Plugin: "vianet",
		Address: fmt.Sprintf("udp://127.0.0.1:%d", cd.port)}, s, nil)
	stopPusher(t, up)
	stopPusher(t, np)
	if st := up.Health(); st.State != pipeline.StateRunning {
		t.Fatalf("unixsock pusher: %+v", st)
	}
	for _, plugin := range []string{"viaunix", "vianet"} {
		for _, tc := range []struct{ dir, file, want string }{
			{plugin + "-requests_total", "derive-code=200,method=GET", "3"},
			{plugin + "-requests_total", "derive-code=500,method=POST", "1"},
			{plugin + "-queue_depth", "gauge", "7.500000"},
			{plugin + "-latency_seconds_count", "derive-path=_a", "3"},
			{plugin + "-latency_seconds_sum", "gauge-path=_a", "3.550000"},
		} {
			var got string
			if !testutil.Eventually(peerWait, func() bool { got = cd.csvLast("sluice", tc.dir, tc.file); return got == tc.want }) {
				t.Errorf("%s/%s: csv has %q, want %q", tc.dir, tc.file, got, tc.want)
			}
		}
	}
}
