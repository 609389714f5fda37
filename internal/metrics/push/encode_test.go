package push

import (
	"strings"
	"testing"

	"github.com/klauspost/compress/snappy"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/metrics/store"
	"github.com/sluice-log/sluice/internal/testutil"
)

func TestGraphite(t *testing.T) {
	t.Parallel()
	s, c, g, h := testStore(t)
	fill(c, g, h)
	for _, tc := range []struct {
		name string
		enc  *graphite
		want string
	}{
		{"tags", &graphite{}, `latency_seconds_bucket;path=/a;le=0.1 1 1796529600
latency_seconds_bucket;path=/a;le=1 2 1796529600
latency_seconds_bucket;path=/a;le=+Inf 3 1796529600
latency_seconds_sum;path=/a 3.55 1796529600
latency_seconds_count;path=/a 3 1796529600
queue_depth 7.5 1796529600
requests_total;code=200;method=GET 3 1796529600
requests_total;code=500;method=POST 1 1796529600
`},
		{"path with prefix", &graphite{prefix: "sluice.web", path: true}, `sluice.web.latency_seconds_bucket.path./a.le.0_1 1 1796529600
sluice.web.latency_seconds_bucket.path./a.le.1 2 1796529600
sluice.web.latency_seconds_bucket.path./a.le.+Inf 3 1796529600
sluice.web.latency_seconds_sum.path./a 3.55 1796529600
sluice.web.latency_seconds_count.path./a 3 1796529600
sluice.web.queue_depth 7.5 1796529600
sluice.web.requests_total.code.200.method.GET 3 1796529600
sluice.web.requests_total.code.500.method.POST 1 1796529600
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			chunks, n := tc.enc.encode(take(s, at))
			testutil.Diff(t, tc.want, string(chunks[0]))
			testutil.Diff(t, 8, n)
		})
	}
}

func TestGraphiteEscapes(t *testing.T) {
	t.Parallel()
	s, c, _, _ := testStore(t)
	c.Add(key("a b;c=d~e!f^g.h\n", ""), 1) // code empty: no tag at all
	chunks, _ := (&graphite{}).encode(take(s, at))
	testutil.Diff(t, "requests_total;method=a_b_c_d_e_f_g.h_ 1 1796529600\n", string(chunks[0]))
	chunks, _ = (&graphite{path: true}).encode(take(s, at))
	testutil.Diff(t, "requests_total.method.a_b_c_d_e_f_g_h_ 1 1796529600\n", string(chunks[0]))
}

// The deltas of counters and histograms between pushes, gauges as they
// are, and lines joined into packets no larger than the MTU.
func TestStatsdDeltasAndPackets(t *testing.T) {
	t.Parallel()
	s, c, g, h := testStore(t)
	enc := newStatsd(config.Pusher{Prefix: "app", Tags: "path", MTU: 100})
	enc.baseline(take(s, at)) // empty
	fill(c, g, h)
	packets, n := enc.encode(take(s, at))
	testutil.Diff(t, []string{
		"app.latency_seconds_count.path./a:3|c\napp.latency_seconds_sum.path./a:3.55|c\napp.queue_depth:7.5|g",
		"app.requests_total.code.200.method.GET:3|c\napp.requests_total.code.500.method.POST:1|c",
	}, strs(packets))
	testutil.Diff(t, 5, n)
	for _, p := range packets {
		if len(p) > 100 {
			t.Errorf("packet of %d bytes > mtu 100", len(p))
		}
	}

	c.Add(key("GET", "200"), 2)
	g.Set(nil, -2)
	packets, n = enc.encode(take(s, at))
	testutil.Diff(t, []string{"app.queue_depth:0|g\napp.queue_depth:-2|g\napp.requests_total.code.200.method.GET:2|c"}, strs(packets))
	testutil.Diff(t, 2, n) // unchanged counters send nothing
}

func TestStatsdDogTags(t *testing.T) {
	t.Parallel()
	s, c, _, _ := testStore(t)
	c.Add(key("G|E,T", "200"), 1)
	enc := newStatsd(config.Pusher{Tags: "dogstatsd", MTU: 1432})
	packets, _ := enc.encode(take(s, at))
	testutil.Diff(t, []string{"requests_total:1|c|#code:200,method:G_E_T"}, strs(packets))
}

func TestPutval(t *testing.T) {
	t.Parallel()
	s, c, g, h := testStore(t)
	fill(c, g, h)
	enc, _, err := newCollectd(config.Pusher{Address: "unix:///x", Host: "web/1", Plugin: "sluice", Interval: config.Duration(10e9)})
	if err != nil {
		t.Fatal(err)
	}
	lines, n := enc.encode(take(s, at))
	testutil.Diff(t, `PUTVAL "web_1/sluice-latency_seconds_count/derive-path=_a" interval=10 1796529600.250:3
PUTVAL "web_1/sluice-latency_seconds_sum/gauge-path=_a" interval=10 1796529600.250:3.55
PUTVAL "web_1/sluice-queue_depth/gauge" interval=10 1796529600.250:7.5
PUTVAL "web_1/sluice-requests_total/derive-code=200,method=GET" interval=10 1796529600.250:3
PUTVAL "web_1/sluice-requests_total/derive-code=500,method=POST" interval=10 1796529600.250:1
`, strings.Join(strs(lines), ""))
	testutil.Diff(t, 5, n)
}

func TestCollectdNetwork(t *testing.T) {
	t.Parallel()
	s, c, g, h := testStore(t)
	fill(c, g, h)
	got, packets, n := collectdNetwork(t, s, 200)
	tm, iv := uint64(1796529600)<<30|1<<28, uint64(10)<<30
	testutil.Diff(t, []netValue{
		{"h", "sluice", "latency_seconds_count", "derive", "path=_a", tm, iv, dsDerive, 0, 3},
		{"h", "sluice", "latency_seconds_sum", "gauge", "path=_a", tm, iv, dsGauge, 3.55, 0},
		{"h", "sluice", "queue_depth", "gauge", "", tm, iv, dsGauge, 7.5, 0},
		{"h", "sluice", "requests_total", "derive", "code=200,method=GET", tm, iv, dsDerive, 0, 3},
		{"h", "sluice", "requests_total", "derive", "code=500,method=POST", tm, iv, dsDerive, 0, 1},
	}, got)
	testutil.Diff(t, 5, n)
	if packets < 2 {
		t.Errorf("mtu 200: want the value lists split over packets, got %d", packets)
	}
}

// collectdNetwork encodes s for collectd's network protocol in packets of
// at most mtu bytes and decodes them back, failing t on a larger packet or
// one that does not decode. It returns the value lists decoded, the number
// of packets and the number of value lists the encoder reported.
func collectdNetwork(t *testing.T, s *store.Store, mtu int) (got []netValue, packets, n int) {
	t.Helper()
	enc, _, err := newCollectd(config.Pusher{Address: "udp://127.0.0.1:1", Host: "h", Plugin: "sluice",
		Interval: config.Duration(10e9), MTU: mtu})
	if err != nil {
		t.Fatal(err)
	}
	ps, n := enc.encode(take(s, at))
	for _, p := range ps {
		if len(p) > mtu {
			t.Fatalf("packet of %d bytes > mtu %d", len(p), mtu)
		}
		vs, err := decodeCollectd(p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, vs...)
	}
	return got, len(ps), n
}

func TestRemoteWrite(t *testing.T) {
	t.Parallel()
	s, c, g, h := testStore(t)
	fill(c, g, h)
	chunks, n := (&remoteWrite{prefix: "x_"}).encode(take(s, at))
	raw, err := snappy.Decode(nil, chunks[0])
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeWriteRequest(raw)
	if err != nil {
		t.Fatal(err)
	}
	ms := at.UnixMilli()
	testutil.Diff(t, []rwSeries{
		{"__name__=x_latency_seconds_bucket,le=0.1,path=/a", 1, ms},
		{"__name__=x_latency_seconds_bucket,le=1,path=/a", 2, ms},
		{"__name__=x_latency_seconds_bucket,le=+Inf,path=/a", 3, ms},
		{"__name__=x_latency_seconds_sum,path=/a", 3.55, ms},
		{"__name__=x_latency_seconds_count,path=/a", 3, ms},
		{"__name__=x_queue_depth", 7.5, ms},
		{"__name__=x_requests_total,code=200,method=GET", 3, ms},
		{"__name__=x_requests_total,code=500,method=POST", 1, ms},
	}, got)
	testutil.Diff(t, 8, n)
}

func strs(b [][]byte) []string {
	out := make([]string, len(b))
	for i, x := range b {
		out[i] = string(x)
	}
	return out
}
