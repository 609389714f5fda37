package opentelemetry

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil"
)

// FuzzDecode feeds random OTLP/HTTP bodies, as protobuf or JSON, plain or
// gzipped, to the request path: a bad body is a 4xx and a counter, never
// a panic; a good one is answered 200.
func FuzzDecode(f *testing.F) {
	pb, _ := requestOf([]string{"seed", "two"}).MarshalProto()
	js, _ := requestOf([]string{"seed"}).MarshalJSON()
	f.Add(pb, false, false)
	f.Add(js, true, false)
	f.Add(gz(f, pb), false, true)
	f.Add([]byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"kvlistValue":{"values":[{"key":"a","value":{"bytesValue":"AAE="}}]}},"traceId":"00"}]}]}]}`), true, false)
	f.Add([]byte("\x0a\x05\x12\x03\x12\x01\x00"), false, false)
	cfg := &Config{}
	cfg.Defaults()
	cfg.MaxBodySize = 1 << 20
	src, err := New(cfg, testutil.Deps(f, "fuzz"))
	if err != nil {
		f.Fatal(err)
	}
	col := &testutil.Collector{}
	h := &handler{s: src.(*Source), emit: col.Emit, run: f.Context()}
	f.Fuzz(func(t *testing.T, body []byte, json, gzipped bool) {
		req := httptest.NewRequest(http.MethodPost, "/v1/logs", bytes.NewReader(body))
		req.Header.Set("Content-Type", ctProtobuf)
		if json {
			req.Header.Set("Content-Type", ctJSON)
		}
		if gzipped {
			req.Header.Set("Content-Encoding", "gzip")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusOK && (w.Code < 400 || w.Code >= 500) {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	})
}
