package api

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/sluice-log/sluice/internal/config"
	tu "github.com/sluice-log/sluice/internal/testutil"
)

// authServer is a started server over TLS with a user (alice/secret), a
// token, and a Mounts table at MountsPrefix holding one route, as the app
// mounts the live sink. It returns the server, its base URL and a client
// that trusts it and does not follow redirects.
func authServer(t *testing.T) (*Server, string, *http.Client, *prometheus.Registry) {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	ca := tu.NewCA(t)
	leaf := ca.Issue(t, "127.0.0.1")
	reg := prometheus.NewRegistry()
	s := New(config.API{Listen: "127.0.0.1:0", TLS: config.ServerTLS{Cert: leaf.CertFile, Key: leaf.KeyFile},
		Auth: config.Auth{Users: map[string]config.Secret{"alice": config.Secret(hash)}, Tokens: []config.Secret{"tok"}}},
		reg, func() (any, error) { return nil, nil }, tu.Deps(t, "api").Logger)
	m := NewMounts()
	m.Mount("/api/v1/live/", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "live") }))
	s.Handle(MountsPrefix, m)
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pem, err := os.ReadFile(ca.File)
	if err != nil {
		t.Fatal(err)
	}
	pool.AppendCertsFromPEM(pem)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	c := &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		_ = s.Shutdown(t.Context())
	})
	return s, "https://" + s.Addr().String(), c, reg
}

func do(t *testing.T, c *http.Client, method, u string, body io.Reader, hdr map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

var wildcard = regexp.MustCompile(`\{[^}]*\}`)

// TestEveryRouteNeedsAuth walks every pattern registered on the mux: each
// answers 401 without credentials, except the health probe and the login
// page and call; with a token each is reachable. A route added later is
// covered without touching this test.
func TestEveryRouteNeedsAuth(t *testing.T) {
	s, base, c, _ := authServer(t)
	routes := s.Routes()
	if len(routes) < 6 {
		t.Fatalf("only %d routes: %v", len(routes), routes)
	}
	for _, pattern := range routes {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok {
			method, path = http.MethodGet, pattern
		}
		path = wildcard.ReplaceAllString(path, "x")
		if strings.HasSuffix(path, "/") {
			path += "live/probe" // a prefix: something under it (the mounted live route for MountsPrefix)
		}
		req, _ := http.NewRequest(method, base+path, nil)
		resp := do(t, c, method, base+path, nil, nil)
		if public(req) {
			if resp.StatusCode == http.StatusUnauthorized {
				t.Errorf("%s (public): 401", pattern)
			}
			continue
		}
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s without credentials: %s, want 401", method, path, resp.Status)
		}
		if resp = do(t, c, method, base+path, nil, map[string]string{"Authorization": "Bearer tok"}); resp.StatusCode == http.StatusUnauthorized {
			t.Errorf("%s %s with the token: 401", method, path)
		}
	}
}

// TestLoginSession: a wrong password is refused; the right one gives a
// cookie (HttpOnly, Secure under TLS, SameSite=Strict) that authenticates
// same-origin requests, is refused cross-origin (403) and on an unsafe
// request without Origin or Referer, and stops working after logout or
// expiry.
func TestLoginSession(t *testing.T) {
	s, base, c, reg := authServer(t)
	login := func(pass string) *http.Response {
		return do(t, c, http.MethodPost, base+LoginAPIPath, strings.NewReader(`{"user":"alice","password":"`+pass+`"}`),
			map[string]string{"Content-Type": "application/json", "Origin": base})
	}
	tu.Diff(t, http.StatusUnauthorized, login("wrong").StatusCode)
	resp := login("secret")
	tu.Diff(t, http.StatusOK, resp.StatusCode)
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == SessionCookie {
			cookie = ck
		}
	}
	if cookie == nil || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" {
		t.Fatalf("session cookie %+v, want HttpOnly, Secure, SameSite=Strict, Path=/", cookie)
	}
	withCookie := func(method, path string, hdr map[string]string) int {
		if hdr == nil {
			hdr = map[string]string{}
		}
		hdr["Cookie"] = cookie.Name + "=" + cookie.Value
		return do(t, c, method, base+path, nil, hdr).StatusCode
	}
	tu.Diff(t, http.StatusOK, withCookie(http.MethodGet, "/api/v1/health", nil))
	tu.Diff(t, http.StatusOK, withCookie(http.MethodGet, "/api/v1/live/streams", map[string]string{"Origin": base}))
	tu.Diff(t, http.StatusForbidden, withCookie(http.MethodGet, "/api/v1/live/follow", map[string]string{"Origin": "https://evil.example"}))
	tu.Diff(t, http.StatusForbidden, withCookie(http.MethodPost, LogoutAPIPath, nil))
	tu.Diff(t, http.StatusForbidden, withCookie(http.MethodPost, LogoutAPIPath, map[string]string{"Referer": "https://evil.example/x"}))
	tu.Diff(t, http.StatusNoContent, withCookie(http.MethodPost, LogoutAPIPath, map[string]string{"Referer": base + "/ui"}))
	tu.Diff(t, http.StatusUnauthorized, withCookie(http.MethodGet, "/api/v1/health", nil))
	tu.Diff(t, 3.0, tu.GatheredCounter(t, reg, "sluice_api_cross_origin_refused_total"))

	// Expiry: a session is refused once its TTL has passed.
	login("secret")
	for _, ck := range login("secret").Cookies() {
		if ck.Name == SessionCookie {
			cookie = ck
		}
	}
	tu.Diff(t, http.StatusOK, withCookie(http.MethodGet, "/api/v1/health", nil))
	s.sessions.mu.Lock()
	s.sessions.now = func() time.Time { return time.Now().Add(13 * time.Hour) }
	s.sessions.mu.Unlock()
	tu.Diff(t, http.StatusUnauthorized, withCookie(http.MethodGet, "/api/v1/health", nil))

	// A login form posted from another origin is refused.
	tu.Diff(t, http.StatusForbidden, do(t, c, http.MethodPost, base+LoginAPIPath, strings.NewReader("user=alice&password=secret"),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://evil.example"}).StatusCode)
}

// TestLoginForm: the browser flow. A page request without a session is
// sent to the login page, which serves a form; the form logs in and goes
// back to the page (never to another site); a wrong password comes back
// to the form.
func TestLoginForm(t *testing.T) {
	_, base, c, _ := authServer(t)
	resp := do(t, c, http.MethodGet, base+"/api/v1/live/x?y=1", nil, map[string]string{"Sec-Fetch-Mode": "navigate"})
	tu.Diff(t, http.StatusSeeOther, resp.StatusCode)
	tu.Diff(t, LoginPath+"?next="+url.QueryEscape("/api/v1/live/x?y=1"), resp.Header.Get("Location"))

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, base+LoginPath+"?next=/ui", nil)
	page, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(page.Body)
	page.Body.Close()
	tu.Diff(t, http.StatusOK, page.StatusCode)
	for _, want := range []string{`action="/api/v1/login"`, `name="next" value="/ui"`, `type="password"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("login page lacks %s", want)
		}
	}
	form := func(pass, next string) *http.Response {
		v := url.Values{"user": {"alice"}, "password": {pass}, "next": {next}}
		return do(t, c, http.MethodPost, base+LoginAPIPath, strings.NewReader(v.Encode()),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": base})
	}
	tu.Diff(t, "/ui", form("secret", "/ui").Header.Get("Location"))
	tu.Diff(t, "/", form("secret", "//evil.example/").Header.Get("Location"))
	tu.Diff(t, LoginPath+"?failed=1&next=%2Fui", form("nope", "/ui").Header.Get("Location"))
}

// TestLoginRateLimited: after a burst of attempts from one address the
// next is refused with 429 and Retry-After, before any password check,
// and counted.
func TestLoginRateLimited(t *testing.T) {
	_, base, c, reg := authServer(t)
	for range loginBurst {
		resp := do(t, c, http.MethodPost, base+LoginAPIPath, strings.NewReader(`{"user":"alice","password":"x"}`),
			map[string]string{"Content-Type": "application/json"})
		tu.Diff(t, http.StatusUnauthorized, resp.StatusCode)
	}
	resp := do(t, c, http.MethodPost, base+LoginAPIPath, strings.NewReader(`{"user":"alice","password":"secret"}`),
		map[string]string{"Content-Type": "application/json"})
	tu.Diff(t, http.StatusTooManyRequests, resp.StatusCode)
	if resp.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	mfs, _ := reg.Gather()
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() == "sluice_api_login_attempts_total" {
			for _, m := range mf.GetMetric() {
				got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	tu.Diff(t, map[string]float64{"failed": loginBurst, "limited": 1}, got)
}

// TestLimiterRefills: the bucket refills at one attempt per interval.
func TestLimiterRefills(t *testing.T) {
	t.Parallel()
	now := time.Unix(0, 0)
	l := newLimiter(2, time.Second)
	l.now = func() time.Time { return now }
	ok1, _ := l.allow("a")
	ok2, _ := l.allow("a")
	ok3, wait := l.allow("a")
	okB, _ := l.allow("b")
	tu.Diff(t, []bool{true, true, false, true}, []bool{ok1, ok2, ok3, okB})
	tu.Diff(t, time.Second, wait)
	now = now.Add(time.Second)
	ok4, _ := l.allow("a")
	tu.Diff(t, true, ok4)
}

// FuzzLogin: any login body is parsed without a panic (a clear error at
// worst), and the redirect target taken from it never leaves the server.
// (The password check is bcrypt's and too slow to fuzz through.)
func FuzzLogin(f *testing.F) {
	f.Add("application/json", `{"user":"alice","password":"secret","next":"/x"}`)
	f.Add("application/x-www-form-urlencoded", "user=alice&password=x&next=//evil")
	f.Add("application/x-www-form-urlencoded", "next=/%5Cevil.example")
	f.Add("text/plain", "\x00\xff")
	f.Add("application/json", `{"next":"/\t/evil.example"}`)
	f.Fuzz(func(t *testing.T, ct, body string) {
		req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1"+LoginAPIPath, strings.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", ct)
		c, _, err := readCredentials(&recorder{h: http.Header{}}, req)
		if err != nil {
			return
		}
		loc := localPath(c.Next)
		u, err := url.Parse(loc)
		// As a browser reads it: tabs and newlines dropped, \ as /.
		cleaned := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(loc)
		if !strings.HasPrefix(loc, "/") || strings.HasPrefix(cleaned, "//") || (err == nil && u.Host != "") {
			t.Fatalf("redirect off-site: %q", loc)
		}
	})
}

// recorder is a minimal http.ResponseWriter.
type recorder struct {
	h    http.Header
	code int
}

func (r *recorder) Header() http.Header         { return r.h }
func (r *recorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *recorder) WriteHeader(code int)        { r.code = code }

// TestDummyHashCostsAsMuchAsARealOne: the hash compared for unknown users
// is a valid bcrypt hash at the default cost, so probing a user name takes
// as long as a wrong password.
func TestDummyHashCostsAsMuchAsARealOne(t *testing.T) {
	cost, err := bcrypt.Cost(dummyHash)
	if err != nil || cost != bcrypt.DefaultCost {
		t.Fatalf("dummyHash: cost %d, %v; want %d", cost, err, bcrypt.DefaultCost)
	}
	if bcrypt.CompareHashAndPassword(dummyHash, []byte("sluice-dummy")) != nil {
		t.Fatal("dummyHash is not the hash of its password")
	}
}
