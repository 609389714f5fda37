package e2e

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMetricsRules runs the binary with metrics rules over an nginx log:
// the rules' series are on the api listener's /metrics, and a reload keeps
// the unchanged rule's series and drops the removed rule's.
func TestMetricsRules(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "access.log")
	writeFile(t, log, "")
	rules := `
metrics:
  rules:
    - name: http_requests_total
      type: counter
      inputs: [ access ]
      labels: { code: "{{ .status }}", method: "{{ .method }}" }
`
	removed := `    - name: ssh_failed_logins_total
      type: counter
      inputs: [ lines ]
      regex: 'Failed password for \S+ from (?P<ip>[0-9.]+)'
      labels: { ip: ip }
      max_series: 1
`
	cfg := filepath.Join(dir, "sluice.yaml")
	base := fmt.Sprintf(`
data_dir: %[1]s/data
api: { listen: 127.0.0.1:0 }
sources:
  lines: { type: file, include: [ %[2]s ], read_from: beginning }
transforms:
  access: { type: parse, inputs: [ lines ], format: nginx_combined }
`, dir, log)
	writeFile(t, cfg, base+rules+removed)
	p := start(t, cfg, nil)
	api := p.api()
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, l := range []string{
		`10.0.0.1 - - [06/Dec/2026:03:00:00 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8"`,
		`10.0.0.1 - - [06/Dec/2026:03:00:01 +0000] "GET / HTTP/1.1" 200 612 "-" "curl/8"`,
		`10.0.0.2 - - [06/Dec/2026:03:00:02 +0000] "POST /x HTTP/1.1" 404 10 "-" "curl/8"`,
		`Failed password for root from 10.9.9.1 port 22 ssh2`,
		`Failed password for root from 10.9.9.2 port 22 ssh2`,
	} {
		if _, err := f.WriteString(l + "\n"); err != nil {
			t.Fatal(err)
		}
	}
	get := `http_requests_total{code="200",method="GET"}`
	waitFor(t, 30*time.Second, "the rules' series", func() bool {
		return metric(t, api, get) == 2 && metric(t, api, `ssh_failed_logins_total{ip="__overflow__"}`) == 1
	})
	if got := metric(t, api, `sluice_metrics_series_folded_total{rule="ssh_failed_logins_total"}`); got != 1 {
		t.Errorf("folded: %v, want 1", got)
	}
	if body := scrape(t, api, "application/openmetrics-text; version=1.0.0"); !strings.Contains(body, "# TYPE http_requests counter\n") {
		t.Errorf("no OpenMetrics counter family in:\n%s", body)
	}

	writeFile(t, cfg, base+rules)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the reload", func() bool { return strings.Contains(p.stderr.String(), "config reloaded") })
	if body := scrape(t, api, ""); strings.Contains(body, "ssh_failed_logins_total{") {
		t.Errorf("the removed rule's series are still exposed:\n%s", body)
	}
	if got := metric(t, api, get); got != 2 {
		t.Errorf("after the reload %s = %v, want 2 (kept)", get, got)
	}
	p.stop(syscall.SIGTERM)
}

func scrape(t *testing.T, addr, accept string) string {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
