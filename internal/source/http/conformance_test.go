package httpsource

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/testutil"
	"github.com/sluice-log/sluice/internal/testutil/sourcetest"
)

// TestConformance runs the source suite over NDJSON POSTs: a 204 is the
// source's word that the events were delivered (Confirms), and bad input
// is a body that is not JSON (400, counted).
func TestConformance(t *testing.T) {
	sourcetest.Run(t, sourcetest.Harness{Type: "http", Confirms: true, Setup: func(t testing.TB, _ string) *sourcetest.Fixture {
		cfg := &Config{}
		cfg.Defaults()
		cfg.Address = "127.0.0.1:0"
		cfg.Format = "ndjson"
		client := &http.Client{Transport: &http.Transport{}}
		t.Cleanup(client.CloseIdleConnections)
		var (
			mu  sync.Mutex
			cur *Source
		)
		post := func(t testing.TB, body string) (int, error) {
			mu.Lock()
			s := cur
			mu.Unlock()
			addr, err := s.Addr(t.Context())
			if err != nil {
				return 0, err
			}
			resp, err := client.Post("http://"+addr.String()+"/", "application/x-ndjson", strings.NewReader(body))
			if err != nil {
				return 0, err
			}
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, resp.Body)
			return resp.StatusCode, nil
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
				var b strings.Builder
				for _, m := range msgs {
					line, err := json.Marshal(map[string]string{"message": m})
					if err != nil {
						return err
					}
					b.Write(append(line, '\n'))
				}
				code, err := post(t, b.String())
				if err == nil && code != http.StatusNoContent {
					err = fmt.Errorf("status %d", code)
				}
				return err
			},
			Bad:       func(t testing.TB) { _, _ = post(t, "{not json\n") },
			BadMetric: "sluice_http_bad_requests_total",
			Close:     client.CloseIdleConnections,
		}
	}})
}
