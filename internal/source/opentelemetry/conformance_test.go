package opentelemetry

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sourcetest"
)

// requestOf returns an OTLP request with one record per message as body.
func requestOf(msgs []string) plogotlp.ExportRequest {
	ld := plog.NewLogs()
	lrs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	for _, m := range msgs {
		lrs.AppendEmpty().Body().SetStr(m)
	}
	return plogotlp.NewExportRequestFromLogs(ld)
}

// TestConformance runs the source suite over OTLP/HTTP protobuf: a 200
// with no partial success is the source's word that the records were
// delivered (Confirms), and bad input is a body that is not protobuf
// (400, counted).
func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{Type: "opentelemetry", Confirms: true, Setup: func(t testing.TB, _ string) *sourcetest.Fixture {
		cfg := &Config{}
		cfg.Defaults()
		cfg.Address = "127.0.0.1:0"
		cfg.GRPCAddress = "127.0.0.1:0"
		client := &http.Client{Transport: &http.Transport{}}
		t.Cleanup(client.CloseIdleConnections)
		var (
			mu  sync.Mutex
			cur *Source
		)
		post := func(t testing.TB, body []byte) (int, []byte, error) {
			mu.Lock()
			s := cur
			mu.Unlock()
			addr, err := s.HTTPAddr(t.Context())
			if err != nil {
				return 0, nil, err
			}
			resp, err := client.Post("http://"+addr.String()+"/v1/logs", ctProtobuf, bytes.NewReader(body))
			if err != nil {
				return 0, nil, err
			}
			defer resp.Body.Close()
			out, err := io.ReadAll(resp.Body)
			return resp.StatusCode, out, err
		}
		return &sourcetest.Fixture{
			New: func(t testing.TB, deps component.Deps) component.Source {
				s, err := New(testutil.Validated(t, cfg), deps)
				if err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				cur = s.(*Source)
				mu.Unlock()
				return s
			},
			Feed: func(t testing.TB, msgs []string) error {
				body, err := requestOf(msgs).MarshalProto()
				if err != nil {
					return err
				}
				code, out, err := post(t, body)
				if err != nil {
					return err
				}
				if code != http.StatusOK {
					return fmt.Errorf("status %d: %s", code, out)
				}
				resp := plogotlp.NewExportResponse()
				if err := resp.UnmarshalProto(out); err != nil {
					return err
				}
				if n := resp.PartialSuccess().RejectedLogRecords(); n != 0 {
					return fmt.Errorf("%d rejected", n)
				}
				return nil
			},
			Bad:       func(t testing.TB) { _, _, _ = post(t, []byte("\xff\xff not protobuf")) },
			BadMetric: "sluice_opentelemetry_bad_requests_total",
			Close:     client.CloseIdleConnections,
		}
	}})
}
