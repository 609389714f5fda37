package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
)

// drainEvents are n events of app, numbered.
func drainEvents(app string, first, n int) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"stream": app, "host": "web1", "message": fmt.Sprintf("%s-%04d", app, first+i)}
	}
	return out
}

// apiCall sends an API request to sluice and decodes the JSON answer.
func apiCall(t *testing.T, api, method, path, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+api+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %q", method, path, err, data)
		}
	}
	return resp.StatusCode
}

// messagesOf returns the messages of app a receiver got, with their
// counts (the receiver keeps each event's message).
func messagesOf(r *receiver, app string) map[string]int {
	out := map[string]int{}
	for msg, n := range r.snapshot() {
		if strings.HasPrefix(msg, app+"-") {
			out[msg] = n
		}
	}
	return out
}

// TestDrainsEndToEnd runs the binary with a drains section: a static
// route delivers NDJSON to a receiver, a drain added through the API
// starts receiving within a second, survives a restart, and stops after
// it is deleted; a static drain cannot be deleted.
func TestDrainsEndToEnd(t *testing.T) {
	sluiceBin(t)
	web, shop := newReceiver(t), newReceiver(t)
	web.start()
	shop.start()
	dir := t.TempDir()
	body := fmt.Sprintf(`
sources:
  in: { type: http, address: "127.0.0.1:0" }
drains:
  inputs: [ in ]
  static:
    web: [ %q ]
`, web.url())
	p := startSluice(t, dir, body)
	in, api := p.port("in"), p.api()
	postEvents(t, in, drainEvents("web", 0, 100))
	postEvents(t, in, drainEvents("shop", 0, 10)) // no route yet: counted
	waitFor(t, 10*time.Second, "web's events", func() bool { return web.count() == 100 })
	want := map[string]int{}
	for i := range 100 {
		want[fmt.Sprintf("web-%04d", i)] = 1
	}
	testutil.Diff(t, want, messagesOf(web, "web"))
	waitFor(t, 10*time.Second, "the unrouted counter", func() bool {
		return metric(t, api, `sluice_drain_unrouted_events_total{component_id="drains"`) == 10
	})

	var d struct{ ID, Status string }
	if code := apiCall(t, api, "POST", "/api/v1/apps/shop/drains", `{"url": "`+shop.url()+`"}`, &d); code != 201 || d.Status != "connected" {
		t.Fatalf("POST = %d %+v", code, d)
	}
	added := time.Now()
	postEvents(t, in, drainEvents("shop", 10, 10))
	waitFor(t, time.Second, "shop's events at its new drain within a second", func() bool { return shop.count() == 10 })
	t.Logf("shop's drain received its first batch %v after it was added", time.Since(added))

	var list []struct{ ID, Origin string }
	apiCall(t, api, "GET", "/api/v1/apps/web/drains", "", &list)
	if len(list) != 1 || list[0].Origin != "static" {
		t.Fatalf("web's drains: %+v", list)
	}
	if code := apiCall(t, api, "DELETE", "/api/v1/apps/web/drains/"+list[0].ID, "", nil); code != http.StatusConflict {
		t.Fatalf("deleting a static drain = %d, want 409", code)
	}
	if code := apiCall(t, api, "POST", "/api/v1/apps/shop/drains", `{"url": "gopher://x"}`, nil); code != 422 {
		t.Fatalf("bad URL = %d, want 422", code)
	}

	// Restart: the API's drain is back.
	stopping := time.Now()
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	t.Logf("stopped in %v", time.Since(stopping))
	p = start(t, filepath.Join(dir, "sluice.yaml"), nil)
	in, api = p.port("in"), p.api()
	apiCall(t, api, "GET", "/api/v1/apps/shop/drains", "", &list)
	if len(list) != 1 || list[0].ID != d.ID {
		t.Fatalf("shop's drains after restart: %+v, want %s", list, d.ID)
	}
	postEvents(t, in, drainEvents("shop", 20, 10))
	waitFor(t, 10*time.Second, "shop's events after the restart", func() bool { return shop.count() == 20 })

	if code := apiCall(t, api, "DELETE", "/api/v1/apps/shop/drains/"+d.ID, "", nil); code != http.StatusNoContent {
		t.Fatalf("DELETE = %d", code)
	}
	postEvents(t, in, drainEvents("shop", 30, 10))
	postEvents(t, in, drainEvents("web", 100, 10))
	waitFor(t, 10*time.Second, "web's later events", func() bool { return web.count() == 110 })
	if n := shop.count(); n != 20 {
		t.Fatalf("shop's deleted drain has %d events, want 20", n)
	}
}

// TestDrainsToRsyslog routes an app to rsyslog over syslog+tcp, the real
// receiver Debian ships.
func TestDrainsToRsyslog(t *testing.T) {
	sluiceBin(t)
	requirePeer(t, "rsyslogd")
	dir := t.TempDir()
	rdir := filepath.Join(dir, "rsyslog")
	peer(t, "rsyslog.sh", "receiver", rdir, nil, "0", "fields")
	p := startSluice(t, dir, fmt.Sprintf(`
sources:
  in: { type: http, address: "127.0.0.1:0" }
drains:
  inputs: [ in ]
  static:
    shop: [ "syslog+tcp://127.0.0.1:%d" ]
`, peerPortFile(t, rdir)))
	evs, msgs := sinkEvents(200)
	evs, msgs = evs[1:], msgs[1:] // the first has a newline; the syslog sink tests cover it
	postEvents(t, p.port("in"), evs)
	got := waitLines(t, filepath.Join(rdir, "recv.log"), len(evs))
	testutil.Diff(t, rsyslogLines(msgs, 1), got)
}

// TestDrainsAPIBehindAuth: the drains API is served behind api.auth.
func TestDrainsAPIBehindAuth(t *testing.T) {
	sluiceBin(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "sluice.yaml")
	writeFile(t, cfg, fmt.Sprintf(`
data_dir: %s/data
api: { listen: "127.0.0.1:0", auth: { tokens: [ "s3cret" ] } }
sources:
  in: { type: http, address: "127.0.0.1:0" }
drains:
  inputs: [ in ]
`, dir))
	p := start(t, cfg, nil)
	api := p.api()
	if code := apiCall(t, api, "GET", "/api/v1/apps/web/drains", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("without a token: %d, want 401", code)
	}
	req, _ := http.NewRequest("GET", "http://"+api+"/api/v1/apps/web/drains", nil)
	req.Header.Set("Authorization", "Bearer s3cret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("with the token: %s", resp.Status)
	}
}
