package ui

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHandler: the page at /, its assets under /ui/ with their types,
// and nothing else.
func TestHandler(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		name, method, path string
		code               int
		ctype, body        string
	}{
		{"page", "GET", "/", 200, "text/html", `<script type="module" src="/ui/app.js">`},
		{"head", "HEAD", "/", 200, "text/html", ""},
		{"script", "GET", "/ui/app.js", 200, "text/javascript", "new Follower("},
		{"module", "GET", "/ui/follow.js", 200, "text/javascript", "export class Follower"},
		{"style", "GET", "/ui/style.css", 200, "text/css", "--accent"},
		{"no listing", "GET", "/ui/", 404, "", ""},
		{"missing asset", "GET", "/ui/nope.js", 404, "", ""},
		{"other path", "GET", "/nope", 404, "", ""},
		{"post", "POST", "/", 405, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != tc.code {
				t.Fatalf("%s %s: %d, want %d", tc.method, tc.path, rec.Code, tc.code)
			}
			if ct := rec.Header().Get("Content-Type"); tc.ctype != "" && !strings.HasPrefix(ct, tc.ctype) {
				t.Errorf("Content-Type %q, want %s", ct, tc.ctype)
			}
			if !strings.Contains(rec.Body.String(), tc.body) {
				t.Errorf("body does not contain %q", tc.body)
			}
			if tc.code == http.StatusOK && !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'self'") {
				t.Errorf("no Content-Security-Policy")
			}
		})
	}
}
