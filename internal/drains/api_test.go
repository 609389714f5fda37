package drains

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil"
)

// call sends one API request to h and decodes a JSON answer into out.
func call(t testing.TB, h http.Handler, method, path, body string, out any) int {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if out != nil && w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v in %q", method, path, err, w.Body.String())
		}
	}
	return w.Code
}

// pump writes batches of app until stop is closed, numbering the events,
// and returns how many it wrote.
func pump(t *testing.T, r *Router, app string, stop <-chan struct{}, wg *sync.WaitGroup, n *atomic.Int64) {
	wg.Go(func() {
		tick := time.NewTicker(time.Millisecond) // a steady producer, not a flood
		defer tick.Stop()
		for i := 0; ; i += 10 {
			_ = r.Write(t.Context(), batch(app, i, 10))
			n.Add(10)
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
}

func TestAPIAddListDeleteWithTraffic(t *testing.T) {
	rcv := newReceiver(t)
	static := newReceiver(t)
	c := testConfig(t, func(c *Config) { c.Static = map[string][]string{"web": {static.url()}} })
	dir := t.TempDir()
	r := newRouter(t, c, dir)
	h := r.Handler()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var written atomic.Int64
	pump(t, r, "web", stop, &wg, &written)
	defer func() { close(stop); wg.Wait() }()

	var list []Drain
	if code := call(t, h, "GET", "/api/v1/apps/web/drains", "", &list); code != 200 || len(list) != 1 || list[0].Origin != OriginStatic {
		t.Fatalf("list = %d %+v", code, list)
	}
	var d Drain
	added := time.Now()
	if code := call(t, h, "POST", "/api/v1/apps/web/drains", `{"url":"`+rcv.url()+`"}`, &d); code != http.StatusCreated {
		t.Fatalf("POST = %d %+v", code, d)
	}
	if d.ID != DrainID("web", rcv.url()) || d.App != "web" || d.Status != "connected" || d.Origin != OriginAPI {
		t.Fatalf("created %+v", d)
	}
	testutil.WaitFor(t, time.Second, "events at the new drain within a second", func() bool { return rcv.total.Load() > 0 })
	t.Logf("first event at the new drain after %v", time.Since(added))

	if code := call(t, h, "POST", "/api/v1/apps/web/drains", `{"url":"`+rcv.url()+`"}`, nil); code != http.StatusConflict {
		t.Fatalf("duplicate POST = %d, want 409", code)
	}
	var e map[string]string
	if code := call(t, h, "DELETE", "/api/v1/apps/web/drains/"+list[0].ID, "", &e); code != http.StatusConflict || !strings.Contains(e["error"], "drains.static") {
		t.Fatalf("DELETE static = %d %v, want 409", code, e)
	}
	saved, err := (&store{dir: dir}).load()
	if err != nil || len(saved) != 1 || saved[0].URL != rcv.url() {
		t.Fatalf("saved = %+v, %v", saved, err)
	}
	if code := call(t, h, "DELETE", "/api/v1/apps/web/drains/"+d.ID, "", nil); code != http.StatusNoContent {
		t.Fatalf("DELETE = %d", code)
	}
	// The drain flushes what it holds and closes; then nothing more.
	var settled int64
	testutil.WaitFor(t, 5*time.Second, "the deleted drain to settle", func() bool {
		n := rcv.total.Load()
		r.mu.RLock()
		defer r.mu.RUnlock()
		ok := n == settled && r.instances[d.ID] == nil
		settled = n
		return ok && n > 0
	})
	before := static.total.Load()
	testutil.WaitFor(t, 5*time.Second, "more traffic at the static drain", func() bool { return static.total.Load() > before+100 })
	if n := rcv.total.Load(); n != settled {
		t.Fatalf("deleted drain got %d events after it settled at %d", n, settled)
	}
	if code := call(t, h, "DELETE", "/api/v1/apps/web/drains/"+d.ID, "", nil); code != http.StatusNotFound {
		t.Fatalf("second DELETE = %d, want 404", code)
	}
	if saved, _ := (&store{dir: dir}).load(); len(saved) != 0 {
		t.Fatalf("saved after delete = %+v", saved)
	}
}

func TestAPIBadRequests(t *testing.T) {
	r := newRouter(t, testConfig(t, nil), t.TempDir())
	h := r.Handler()
	for _, tc := range []struct {
		name, method, path, body string
		code                     int
		want                     string
	}{
		{"bad scheme", "POST", "/api/v1/apps/a/drains", `{"url":"ftp://x"}`, 422, "unknown drain scheme"},
		{"no url", "POST", "/api/v1/apps/a/drains", `{}`, 422, "url is required"},
		{"not json", "POST", "/api/v1/apps/a/drains", `url=x`, 400, "JSON body"},
		{"unknown key", "POST", "/api/v1/apps/a/drains", `{"url":"https://h","x":1}`, 400, "unknown field"},
		{"bad option", "POST", "/api/v1/apps/a/drains", `{"url":"syslog+udp://h?x=1"}`, 422, "unknown option"},
		{"missing", "DELETE", "/api/v1/apps/a/drains/d.00", ``, 404, "no such drain"},
		{"get missing", "GET", "/api/v1/apps/a/drains/d.00", ``, 404, "no such drain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e map[string]string
			if code := call(t, h, tc.method, tc.path, tc.body, &e); code != tc.code || !strings.Contains(e["error"], tc.want) {
				t.Fatalf("%s %s = %d %v, want %d %q", tc.method, tc.path, code, e, tc.code, tc.want)
			}
		})
	}
}

func TestAPIRoutesSurviveRestart(t *testing.T) {
	rcv := newReceiver(t)
	dir := t.TempDir()
	c := testConfig(t, nil)
	r := newRouter(t, c, dir)
	var d Drain
	if code := call(t, r.Handler(), "POST", "/api/v1/apps/api/drains", `{"url":"`+rcv.url()+`"}`, &d); code != 201 {
		t.Fatalf("POST = %d", code)
	}
	if err := r.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	r2 := newRouter(t, c, dir)
	var list []Drain
	call(t, r2.Handler(), "GET", "/api/v1/apps/api/drains", "", &list)
	if len(list) != 1 || list[0].ID != d.ID || list[0].CreatedAt != d.CreatedAt {
		t.Fatalf("after restart: %+v, want %+v", list, d)
	}
	write(t, r2, batch("api", 0, 5))
	testutil.WaitFor(t, 5*time.Second, "events at the reloaded drain", func() bool { return rcv.total.Load() == 5 })
}

// TestRouteChangesUnderTraffic adds and removes drains of one app while
// other apps' traffic flows (run it with -race): the unaffected apps get
// every event exactly once, in order.
func TestRouteChangesUnderTraffic(t *testing.T) {
	steady, churn := newReceiver(t), newReceiver(t)
	c := testConfig(t, func(c *Config) {
		c.Static = map[string][]string{"s1": {steady.url()}, "s2": {steady.url()}}
	})
	r := newRouter(t, c, t.TempDir())
	h := r.Handler()
	const n = 2000
	var wg sync.WaitGroup
	wg.Go(func() { // one writer: the pipeline never calls Write concurrently
		for i := 0; i < n; i += 20 {
			for _, app := range []string{"s1", "s2"} {
				_ = r.Write(t.Context(), batch(app, i, 20))
			}
		}
	})
	wg.Go(func() {
		for i := range 20 {
			var d Drain
			call(t, h, "POST", "/api/v1/apps/s1/drains", `{"url":"`+churn.url()+`?n=`+string(rune('a'+i))+`"}`, &d)
			call(t, h, "GET", "/api/v1/apps/s1/drains", "", nil)
			call(t, h, "DELETE", "/api/v1/apps/s1/drains/"+d.ID, "", nil)
		}
	})
	wg.Wait()
	testutil.WaitFor(t, 10*time.Second, "every steady event", func() bool { return steady.total.Load() == 2*n })
	for _, app := range []string{"s1", "s2"} {
		got := steady.messages(app)
		for i, m := range got {
			if want := app + " " + strconv.Itoa(i); m != want {
				t.Fatalf("%s event %d = %q, want %q (lost or duplicated)", app, i, m, want)
			}
		}
	}
}

// FuzzAPI feeds the POST handler arbitrary app names and bodies: every
// answer is a JSON object or array with a 2xx or 4xx code, never a panic.
func FuzzAPI(f *testing.F) {
	for _, s := range []struct{ app, body string }{
		{"web", `{"url":"https://127.0.0.1:1/x"}`},
		{"web", `{"url":"syslog+tls://h:6514?ca=/nonexistent"}`},
		{"a%2Fb", `{"url":"es+https://u:p@h/idx?auth=apikey"}`},
		{"x", `{"url":"ws://[::1]:0"}`},
		{"x", `{"url":`},
		{"", `[]`},
	} {
		f.Add(s.app, s.body)
	}
	f.Fuzz(func(t *testing.T, app, body string) {
		c := &Config{}
		c.Defaults()
		s, err := New(c, testutil.Deps(t, "drains"))
		if err != nil {
			t.Fatal(err)
		}
		r := s.(*Router)
		defer func() { _ = r.Close(t.Context()) }()
		req := httptest.NewRequest("POST", "/api/v1/apps/x/drains", bytes.NewReader([]byte(body)))
		req.SetPathValue("app", app)
		w := httptest.NewRecorder()
		r.create(w, req)
		if w.Code >= 500 && w.Code != http.StatusInternalServerError {
			t.Fatalf("code %d", w.Code)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("answer is not JSON: %q", w.Body.String())
		}
	})
}
