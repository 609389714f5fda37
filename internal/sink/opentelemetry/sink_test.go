package opentelemetry

import (
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sinktest"
)

// otlpPeer is an in-process OTLP/HTTP receiver decoding with pdata, the
// code the Collector's receiver uses; the real Collector is in
// test/otelcol's round trip.
type otlpPeer struct {
	mu      sync.Mutex
	msgs    []string
	reqs    int
	answer  func(w http.ResponseWriter) bool // true: answered, record nothing
	partial int64
}

func (p *otlpPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	answer, partial := p.answer, p.partial
	p.reqs++
	p.mu.Unlock()
	if answer != nil && answer(w) {
		return
	}
	var in io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		in = zr
	}
	body, err := io.ReadAll(in)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req := plogotlp.NewExportRequest()
	if r.Header.Get("Content-Type") != "application/x-protobuf" || req.UnmarshalProto(body) != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var msgs []string
	rls := req.Logs().ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			lrs := sls.At(j).LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				msgs = append(msgs, lrs.At(k).Body().AsString())
			}
		}
	}
	p.mu.Lock()
	p.msgs = append(p.msgs, msgs...)
	p.mu.Unlock()
	resp := plogotlp.NewExportResponse()
	if partial > 0 {
		resp.PartialSuccess().SetRejectedLogRecords(partial)
		resp.PartialSuccess().SetErrorMessage("too old")
	}
	out, _ := resp.MarshalProto()
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

func (p *otlpPeer) received() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.msgs...)
}

func newSink(t *testing.T, url string, edit func(*Config)) *Sink {
	t.Helper()
	cfg := testutil.NewConfig(t, func(c *Config) {
		c.URL = config.URL(url)
		if edit != nil {
			edit(c)
		}
	})
	s, err := New(cfg, testutil.Deps(t, "otel"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(t.Context()) })
	return s.(*Sink)
}

func TestConformance(t *testing.T) {
	for _, compression := range []string{"gzip", "none"} {
		t.Run(compression, func(t *testing.T) {
			sinktest.Run(t, sinktest.Harness{New: func(t *testing.T) *sinktest.Instance {
				rec := &otlpPeer{}
				peer := sinktest.NewHTTPPeer(t, rec)
				s := newSink(t, peer.URL, func(c *Config) { c.Compression = compression })
				return &sinktest.Instance{Sink: s, Received: rec.received,
					Break: peer.Break, Restart: peer.Restart, Hang: peer.Hang}
			}})
		})
	}
}

func batch(msgs ...string) *event.Batch {
	b := &event.Batch{}
	for _, m := range msgs {
		b.Events = append(b.Events, event.Event{Timestamp: time.Now(), Message: []byte(m)})
	}
	return b
}

// TestStatuses pins OTLP's retry rules: 429, 502, 503, 504 are transient
// (Retry-After honoured), 500 and 400 are final.
func TestStatuses(t *testing.T) {
	for _, tc := range []struct {
		code   int
		reject bool
	}{{429, false}, {502, false}, {503, false}, {504, false}, {500, true}, {400, true}, {408, true}} {
		rec := &otlpPeer{answer: func(w http.ResponseWriter) bool {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(tc.code)
			return true
		}}
		srv := httptest.NewServer(rec)
		s := newSink(t, srv.URL, nil)
		err := s.Write(t.Context(), batch("x"))
		srv.Close()
		if err == nil {
			t.Fatalf("%d: no error", tc.code)
		}
		var rej *component.RejectError
		if got := errors.As(err, &rej); got != tc.reject {
			t.Errorf("%d: rejected %v, want %v (%v)", tc.code, got, tc.reject, err)
		}
		var ra *component.RetryAfterError
		if !tc.reject && (!errors.As(err, &ra) || ra.After != 7*time.Second) {
			t.Errorf("%d: Retry-After not honoured: %v", tc.code, err)
		}
	}
}

// TestPartialSuccessCounted: OTLP does not say which records a partial
// success rejected, so the batch is delivered and the count recorded.
func TestPartialSuccessCounted(t *testing.T) {
	rec := &otlpPeer{partial: 2}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	s := newSink(t, srv.URL, nil)
	if err := s.Write(t.Context(), batch("a", "b", "c")); err != nil {
		t.Fatal(err)
	}
	if got := testutil.CounterValue(t, s.rejected); got != 2 {
		t.Fatalf("rejected counter %v, want 2", got)
	}
}
