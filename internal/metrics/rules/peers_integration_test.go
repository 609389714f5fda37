package rules_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/logging"
	"github.com/sluice-log/sluice/internal/metrics/prom"
	"github.com/sluice-log/sluice/internal/testutil"
)

// peer returns the path of a real program (Debian's prometheus package
// provides promtool and prometheus; scripts/install-test-deps.sh puts
// them in /opt/sluice-peers/bin), skipping the test without it, or
// failing it under CI=true.
func peer(t *testing.T, name string) string {
	t.Helper()
	testutil.SkipIfShort(t)
	p, err := exec.LookPath(name)
	if err != nil {
		testutil.RequireCI(t, name+" not on PATH (scripts/install-test-deps.sh installs it)")
	}
	return p
}

// TestPromtoolCheckMetrics: promtool check metrics finds no problem in
// the Prometheus text exposition of rules using every feature, label
// values with quotes, backslashes, newlines and invalid UTF-8 included.
// (promtool 2.42 reads only that format: it stops at the first exemplar
// or escaped quote in HELP of OpenMetrics, which TestPrometheusScrapes
// checks with Prometheus' own OpenMetrics parser instead.)
func TestPromtoolCheckMetrics(t *testing.T) {
	promtool := peer(t, "promtool")
	h := newHarness(t, featureRules)
	h.write(t, featureEvents()...)
	text := scrapeAll(t, h, "text/plain")
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	out, err := cmd.CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("promtool check metrics: %v\n%s\non:\n%s", err, out, text)
	}
}

// promRules are the rules Prometheus scrapes in TestPrometheusScrapes.
const promRules = `  rules:
    - name: http_requests_total
      type: counter
      inputs: [in]
      labels: { path: path }
    - name: request_duration_seconds
      type: histogram
      unit: seconds
      inputs: [in]
      value: took
      buckets: [0.1, 0.5, 1, 5]
      exemplar: { trace_id: trace_id }
    - name: request_native_seconds
      type: histogram
      inputs: [in]
      value: took
      native: true
    - name: queue_depth
      type: gauge
      inputs: [in]
      value: took
      timestamp: true
`

// TestPrometheusScrapes runs a real Prometheus against metrics.listen on
// loopback: once as it scrapes by default (OpenMetrics, with exemplar
// storage), once with native histograms (protobuf). The query API gives
// back the counters with their odd label values exactly, a
// histogram_quantile over sluice's buckets (raw, and over rate() of events
// written while it scrapes), the exemplars, the sample
// timestamp of a timestamp: true rule, and a native histogram's quantile.
func TestPrometheusScrapes(t *testing.T) {
	bin := peer(t, "prometheus")
	h := newHarness(t, promRules)
	evTime := time.Now().Add(-30 * time.Second).Truncate(time.Millisecond)
	var evs []event.Event
	// The median of 2 × 0.05, 6 × 0.3 and 2 × 2 is 0.3; from the buckets
	// (rank 5 of 10, 2 below 0.1, 8 below 0.5) it is 0.1 + 0.4 × 3/6 = 0.3.
	for i, took := range []float64{0.05, 0.05, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 2, 2} {
		paths := []string{`/a"b`, "/c\\d\ne", "/x\xffy"}
		e := ev("", "path", paths[i%3], "took", took, "trace_id", fmt.Sprintf("t%d", i))
		e.Timestamp = evTime
		evs = append(evs, e)
	}
	h.write(t, evs...)
	srv := prom.NewServer(config.Metrics{Listen: "127.0.0.1:0"}, h.reg, logging.New(io.Discard, 0, false, 0))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Shutdown(t.Context()) })
	target := srv.Addr().String()

	t.Run("openmetrics", func(t *testing.T) {
		p := startPrometheus(t, bin, target, "exemplar-storage")
		p.waitUp(t)
		byPath := map[string]string{}
		for _, r := range p.query(t, "http_requests_total") {
			byPath[r.Metric["path"]] = r.Value[1].(string)
		}
		testutil.Diff(t, map[string]string{`/a"b`: "4", "/c\\d\ne": "3", "/x\ufffdy": "3"}, byPath)
		q := p.scalar(t, `histogram_quantile(0.5, sum by (le) (request_duration_seconds_bucket))`)
		if math.Abs(q-0.3) > 1e-9 {
			t.Errorf("histogram_quantile(0.5) = %v, want 0.3", q)
		}
		if ts := p.scalar(t, `timestamp(queue_depth)`); math.Abs(ts-float64(evTime.UnixMilli())/1000) > 1e-6 {
			t.Errorf("timestamp(queue_depth) = %v, want the event's %v", ts, evTime)
		}
		// Events that come after Prometheus has the first ones: a
		// quantile over rate() sees only them. Of 1 × 0.05 and 9 × 0.7,
		// rank 5 is in (0.5, 1] with 1 below: 0.5 + 0.5 × 4/9.
		var more []event.Event
		for i, took := range []float64{0.05, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7} {
			more = append(more, ev("", "path", "/late", "took", took, "trace_id", fmt.Sprintf("u%d", i)))
		}
		h.write(t, more...)
		const rateQ = `histogram_quantile(0.5, sum by (le) (rate(request_duration_seconds_bucket[1m])))`
		want, got := 0.5+0.5*4/9, math.NaN()
		testutil.WaitFor(t, 30*time.Second, rateQ+" over the late events", func() bool {
			// No result until two samples are in the window.
			if rs := p.query(t, rateQ); len(rs) == 1 {
				got, _ = strconv.ParseFloat(rs[0].Value[1].(string), 64)
			}
			return math.Abs(got-want) < 1e-9
		})
		ids := p.exemplars(t, "request_duration_seconds_bucket")
		// The latest exemplar of each bucket: le=0.1 t1, le=0.5 t7, le=5 t9.
		for _, id := range []string{"t1", "t7", "t9"} {
			if !strings.Contains(ids, id) {
				t.Errorf("exemplars %s, want %s among them", ids, id)
			}
		}
	})
	t.Run("protobuf native histogram", func(t *testing.T) {
		p := startPrometheus(t, bin, target, "native-histograms")
		p.waitUp(t)
		rs := p.query(t, "request_native_seconds")
		if len(rs) != 1 || rs[0].Histogram == nil {
			t.Fatalf("request_native_seconds is not a native histogram: %+v", rs)
		}
		// All 20 events: 3 × 0.05, 6 × 0.3, 9 × 0.7, 2 × 2; rank 10 is a
		// 0.7. Native buckets of schema 3 are 9% wide: the estimate is in
		// the bucket of 0.7, (0.6484, 0.7071].
		if q := p.scalar(t, `histogram_quantile(0.5, request_native_seconds)`); q <= 0.6484 || q > 0.7071 {
			t.Errorf("histogram_quantile(0.5) of the native histogram = %v, want in (0.6484, 0.7071]", q)
		}
		if q := p.scalar(t, `histogram_count(request_native_seconds)`); q != 20 {
			t.Errorf("histogram_count = %v, want 20", q)
		}
	})
}

// promServer is a Prometheus server run for one test.
type promServer struct {
	addr string
	log  *bytes.Buffer
}

func startPrometheus(t *testing.T, bin, target, feature string) *promServer {
	t.Helper()
	dir := t.TempDir()
	conf := fmt.Sprintf("global: { scrape_interval: 1s, evaluation_interval: 1s }\n"+
		"scrape_configs:\n  - job_name: sluice\n    static_configs: [ { targets: [ %q ] } ]\n", target)
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0") // a free port for Prometheus' own listener
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	p := &promServer{addr: addr, log: &bytes.Buffer{}}
	cmd := exec.Command(bin, "--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr,
		"--enable-feature="+feature)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("prometheus log:\n%s", p.log)
		}
	})
	testutil.WaitFor(t, 60*time.Second, "prometheus ready", func() bool {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return p
}

type result struct {
	Metric    map[string]string `json:"metric"`
	Value     []any             `json:"value"`
	Histogram []any             `json:"histogram"`
}

func (p *promServer) get(t *testing.T, path string, q url.Values, out any) {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + path + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.Status != "success" {
		t.Fatalf("%s %v: %v %s", path, q, err, body.Error)
	}
	if err := json.Unmarshal(body.Data, out); err != nil {
		t.Fatalf("%s: %v in %s", path, err, body.Data)
	}
}

func (p *promServer) query(t *testing.T, expr string) []result {
	t.Helper()
	var data struct {
		Result []result `json:"result"`
	}
	p.get(t, "/api/v1/query", url.Values{"query": {expr}}, &data)
	return data.Result
}

// scalar is the value of a query with one result.
func (p *promServer) scalar(t *testing.T, expr string) float64 {
	t.Helper()
	rs := p.query(t, expr)
	if len(rs) != 1 || len(rs[0].Value) != 2 {
		t.Fatalf("%s: %+v, want one value", expr, rs)
	}
	v, err := strconv.ParseFloat(rs[0].Value[1].(string), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// waitUp waits until Prometheus has scraped sluice successfully.
func (p *promServer) waitUp(t *testing.T) {
	t.Helper()
	testutil.WaitFor(t, 60*time.Second, "a successful scrape (up == 1)", func() bool {
		rs := p.query(t, `up{job="sluice"}`)
		return len(rs) == 1 && rs[0].Value[1] == "1" && len(p.query(t, "request_duration_seconds_count")) == 1
	})
}

// exemplars returns the JSON of the exemplars Prometheus stored for expr.
func (p *promServer) exemplars(t *testing.T, expr string) string {
	t.Helper()
	var data json.RawMessage
	now := time.Now()
	testutil.WaitFor(t, 30*time.Second, "exemplars of "+expr, func() bool {
		p.get(t, "/api/v1/query_exemplars", url.Values{"query": {expr},
			"start": {strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)}, "end": {strconv.FormatInt(now.Add(time.Hour).Unix(), 10)}}, &data)
		return strings.Contains(string(data), "trace_id")
	})
	return string(data)
}
