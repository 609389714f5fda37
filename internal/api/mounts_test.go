package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sluice-log/sluice/internal/testutil"
)

func answer(s string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, s) })
}

func get(t *testing.T, h http.Handler, path string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	if rec.Code != http.StatusOK {
		return rec.Result().Status
	}
	return rec.Body.String()
}

// TestMounts: the newest mount of a prefix answers, the longest prefix
// wins, and unmounting an older entry (a replaced component closing after
// its successor mounted) keeps the newer one.
func TestMounts(t *testing.T) {
	t.Parallel()
	m := NewMounts()
	testutil.Diff(t, "404 Not Found", get(t, m, "/api/v1/live/streams"))
	unOld := m.Mount("/api/v1/live/", answer("old"))
	testutil.Diff(t, "old", get(t, m, "/api/v1/live/streams"))
	unNew := m.Mount("/api/v1/live/", answer("new"))
	unDeep := m.Mount("/api/v1/live/deep/", answer("deep"))
	testutil.Diff(t, "new", get(t, m, "/api/v1/live/streams"))
	testutil.Diff(t, "deep", get(t, m, "/api/v1/live/deep/x"))
	unOld()
	unOld() // idempotent
	testutil.Diff(t, "new", get(t, m, "/api/v1/live/streams"))
	unNew()
	unDeep()
	testutil.Diff(t, "404 Not Found", get(t, m, "/api/v1/live/streams"))
}
