package prom_test

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"

	"github.com/sluice-log/sluice/internal/metrics/prom"
	"github.com/sluice-log/sluice/internal/metrics/store"
	"github.com/sluice-log/sluice/internal/testutil"
)

const protoAccept = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"

// decodeProto reads a delimited protobuf exposition, by family name.
func decodeProto(t testing.TB, body string) map[string]*dto.MetricFamily {
	t.Helper()
	dec := expfmt.NewDecoder(strings.NewReader(body), expfmt.NewFormat(expfmt.TypeProtoDelim))
	out := map[string]*dto.MetricFamily{}
	for {
		mf := &dto.MetricFamily{}
		if err := dec.Decode(mf); errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("decoding protobuf exposition: %v", err)
		}
		out[mf.GetName()] = mf
	}
}

func scrape(t testing.TB, reg prometheus.Gatherer, accept string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", accept)
	prom.Handler(reg).ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// TestNativeHistogramProtobuf: a native histogram with classic buckets
// and exemplars, its created time and unit, as a protobuf scrape carries
// them (spans and deltas as Prometheus reads them).
func TestNativeHistogramProtobuf(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000000, 0)
	s := store.New(0, func() time.Time { return now }, nil)
	f := s.Family(store.Options{Name: "took_seconds", Help: "Took.", Unit: "seconds", Kind: store.Histogram,
		Buckets: []float64{2}, Native: true, NativeSchema: 0, Exemplar: []string{"trace_id"}})
	for i, v := range []float64{1, 3, 3, 20, 0} {
		f.ObserveAt(nil, v, store.Detail{Exemplar: store.AppendKeyString(nil, string(rune('a'+i))), Time: int64(i) * 1e9})
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(prom.NewSeries(s))
	mf := decodeProto(t, scrape(t, reg, protoAccept))["took_seconds"]
	testutil.Diff(t, "seconds", mf.GetUnit())
	h := mf.Metric[0].GetHistogram()
	type span struct{ Off, Len int }
	var spans []span
	for _, sp := range h.PositiveSpan {
		spans = append(spans, span{int(sp.GetOffset()), int(sp.GetLength())})
	}
	testutil.Diff(t, []span{{0, 1}, {1, 1}, {2, 1}}, spans) // buckets 0 (1), 2 (3, 3), 5 (20)
	testutil.Diff(t, []int64{1, 1, -1}, h.PositiveDelta)
	testutil.Diff(t, int32(0), h.GetSchema())
	testutil.Diff(t, uint64(1), h.GetZeroCount())
	testutil.Diff(t, uint64(5), h.GetSampleCount())
	testutil.Diff(t, now.Unix(), h.GetCreatedTimestamp().GetSeconds())
	// Classic: le=2 holds 1 and 0, its latest exemplar is e (0); +Inf's is d (20).
	testutil.Diff(t, 2, len(h.Bucket))
	testutil.Diff(t, "e", h.Bucket[0].GetExemplar().GetLabel()[0].GetValue())
	testutil.Diff(t, 20.0, h.Bucket[1].GetExemplar().GetValue())
	testutil.Diff(t, 2, len(h.Exemplars))
}

// TestOpenMetricsFeatures: unit, _created lines, exemplars and sample
// timestamps in OpenMetrics, exactly.
func TestOpenMetricsFeatures(t *testing.T) {
	t.Parallel()
	now := time.Unix(1700000000, 0)
	s := store.New(0, func() time.Time { return now }, nil)
	c := s.Family(store.Options{Name: "sent_bytes_total", Help: "Sent.", Unit: "bytes", Kind: store.Counter,
		Labels: []string{"peer"}, Exemplar: []string{"trace_id"}})
	c.AddAt(store.AppendKeyString(nil, `a"b`), 10, store.Detail{Exemplar: store.AppendKeyString(nil, "t1"), Time: 1699999999e9})
	g := s.Family(store.Options{Name: "depth", Help: "Depth.", Kind: store.Gauge, Timestamp: true})
	g.SetAt(nil, 4, store.Detail{Time: 1699999998500e6})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(prom.NewSeries(s))
	testutil.Diff(t, `# HELP depth Depth.
# TYPE depth gauge
depth 4.0 1.6999999985e+09
# HELP sent_bytes Sent.
# TYPE sent_bytes counter
# UNIT sent_bytes bytes
sent_bytes_total{peer="a\"b"} 10.0 # {trace_id="t1"} 10.0 1.699999999e+09
sent_bytes_created{peer="a\"b"} 1.7e+09
# EOF
`, scrape(t, reg, "application/openmetrics-text; version=1.0.0"))
	testutil.Diff(t, `# HELP depth Depth.
# TYPE depth gauge
depth 4 1699999998500
# HELP sent_bytes_total Sent.
# TYPE sent_bytes_total counter
sent_bytes_total{peer="a\"b"} 10
`, scrape(t, reg, "text/plain"))
}
