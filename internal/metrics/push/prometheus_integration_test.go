package push

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/testutil"
)

// Prometheus itself, with its remote_write receiver on, takes what the
// remote_write pusher sends: the query API returns the values and labels,
// and histogram_quantile works over the pushed buckets.
func TestPrometheusRemoteWriteReceiver(t *testing.T) {
	t.Parallel()
	bin := peerBin(t, "prometheus")
	dir := t.TempDir()
	port := testutil.FreePort(t, "tcp")
	cf := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cf, []byte("global: { scrape_interval: 1h }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	startProc(t, dir, bin, "--config.file="+cf, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port), "--web.enable-remote-write-receiver",
		"--log.level=warn")
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	testutil.WaitFor(t, peerWait, "prometheus ready", func() bool {
		resp, err := http.Get(base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	s, c, g, h := testStore(t)
	fill(c, g, h)
	p := newPusher(t, "prom", config.Pusher{Type: "remote_write", URL: config.URL(base + "/api/v1/write")}, s, nil)
	stopPusher(t, p)
	if st := p.Health(); st.Error != "" {
		t.Fatalf("push failed: %s", st.Error)
	}
	query := func(q string) []string {
		resp, err := http.PostForm(base+"/api/v1/query", url.Values{"query": {q}})
		if err != nil {
			return nil
		}
		defer resp.Body.Close()
		var r struct {
			Data struct {
				Result []struct {
					Metric map[string]string `json:"metric"`
					Value  [2]any            `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		if json.NewDecoder(resp.Body).Decode(&r) != nil {
			return nil
		}
		var out []string
		for _, x := range r.Data.Result {
			var lbl []string
			for k, v := range x.Metric {
				lbl = append(lbl, k+"="+v)
			}
			sort.Strings(lbl)
			out = append(out, strings.Join(lbl, ",")+" "+fmt.Sprint(x.Value[1]))
		}
		sort.Strings(out)
		return out
	}
	for q, want := range map[string][]string{
		"requests_total": {"__name__=requests_total,code=200,method=GET 3", "__name__=requests_total,code=500,method=POST 1"},
		"queue_depth":    {"__name__=queue_depth 7.5"},
		// Of 3 observations 1 is ≤ 0.1 and 2 are ≤ 1: rank 1.5 is halfway
		// through (0.1, 1], 0.1 + 0.9 × 0.5.
		"histogram_quantile(0.5, latency_seconds_bucket)": {"path=/a 0.55"},
	} {
		var got []string
		if !testutil.Eventually(peerWait, func() bool { got = query(q); return len(got) == len(want) }) {
			t.Errorf("%s: got %v", q, got)
			continue
		}
		testutil.Diff(t, want, got)
	}
}
