package api

import (
	"encoding/json"
	"html/template"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Login routes: the page a browser is sent to, and the calls it makes.
const (
	LoginPath     = "/login"
	LoginAPIPath  = "/api/v1/login"
	LogoutAPIPath = "/api/v1/logout"
)

// maxLoginBody bounds a login request's body.
const maxLoginBody = 8 << 10

// credentials is a login request: a form (user, password, next) or JSON.
type credentials struct {
	User     string `json:"user"`
	Password string `json:"password"`
	Next     string `json:"next"`
}

// login checks a user's password and starts a session: a cookie that is
// HttpOnly, SameSite=Strict, and Secure under TLS. Attempts are limited
// per client IP, before the (deliberately slow) bcrypt check.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r, false) { // a login form on another site must not log a browser in
		s.counters.csrf.Inc()
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
		return
	}
	if len(s.cfg.Auth.Users) == 0 {
		http.Error(w, "no users are configured (api.auth.users): nothing to log in to", http.StatusNotFound)
		return
	}
	if ok, wait := s.limiter.allow(clientIP(r)); !ok {
		s.counters.login.WithLabelValues("limited").Inc()
		w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		http.Error(w, "too many login attempts; try again later", http.StatusTooManyRequests)
		return
	}
	c, isJSON, err := readCredentials(w, r)
	if err != nil {
		s.counters.login.WithLabelValues("failed").Inc()
		http.Error(w, "bad login request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if !checkPassword(s.cfg.Auth.Users, c.User, c.Password) {
		s.counters.login.WithLabelValues("failed").Inc()
		s.log.Warn("login refused", "user", c.User, "remote", r.RemoteAddr)
		if !isJSON {
			http.Redirect(w, r, LoginPath+"?failed=1&next="+urlEscape(localPath(c.Next)), http.StatusSeeOther)
			return
		}
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "wrong user or password"})
		return
	}
	id, exp, err := s.sessions.create(c.User)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	s.counters.login.WithLabelValues("ok").Inc()
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/", Expires: exp,
		MaxAge: int(time.Until(exp).Seconds()), HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	if !isJSON {
		http.Redirect(w, r, localPath(c.Next), http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": c.User, "expires": exp.UTC().Format(time.RFC3339)})
}

// logout ends the caller's session and clears its cookie.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.sessions.end(r)
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
		http.Redirect(w, r, LoginPath, http.StatusSeeOther)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func readCredentials(w http.ResponseWriter, r *http.Request) (credentials, bool, error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var c credentials
	if ct == "application/json" {
		err := json.NewDecoder(r.Body).Decode(&c)
		return c, true, err
	}
	if err := r.ParseForm(); err != nil {
		return c, false, err
	}
	c.User, c.Password, c.Next = r.PostForm.Get("user"), r.PostForm.Get("password"), r.PostForm.Get("next")
	return c, false, nil
}

// localPath keeps a redirect target on this server: a path, not a URL.
// "//host" leaves it, and so may "/\\host" or a tab or newline, which
// browsers drop or turn into "/", so those are refused too.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") ||
		strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return "/"
	}
	return p
}

// clientIP is the client's address without its port; requests on a unix
// socket share one bucket.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil || host == "" {
		return "local"
	}
	return host
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client went away: nothing to do
}

func urlEscape(s string) string { return url.QueryEscape(s) }

// loginPage serves the login form: no script, no external resource.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	q := r.URL.Query()
	_ = loginTemplate.Execute(w, map[string]any{ // the client went away: nothing to do
		"Next": localPath(q.Get("next")), "Failed": q.Has("failed"), "Action": LoginAPIPath,
		"NoUsers": len(s.cfg.Auth.Users) == 0,
	})
}

var loginTemplate = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>sluice · log in</title>
<style>
:root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--fg:#1d2330;--muted:#667085;--accent:#2563eb;--err:#b42318}
@media (prefers-color-scheme:dark){:root{--bg:#0f1320;--card:#171c2c;--fg:#e6e9f0;--muted:#98a2b3;--accent:#60a5fa;--err:#f97066}}
body{margin:0;min-height:100vh;display:grid;place-items:center;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,sans-serif}
form{background:var(--card);padding:2rem;border-radius:12px;box-shadow:0 8px 30px rgb(0 0 0/.12);width:min(340px,90vw)}
h1{margin:0 0 1.25rem;font-size:1.3rem}h1 span{color:var(--accent)}
label{display:block;margin:.75rem 0 .25rem;color:var(--muted);font-size:.85rem}
input{box-sizing:border-box;width:100%;padding:.55rem .7rem;border:1px solid #8884;border-radius:8px;background:transparent;color:inherit;font:inherit}
button{margin-top:1.25rem;width:100%;padding:.6rem;border:0;border-radius:8px;background:var(--accent);color:#fff;font:inherit;font-weight:600;cursor:pointer}
.err{color:var(--err);margin:0 0 .5rem}
</style></head><body>
<form method="post" action="{{.Action}}">
<h1><span>sluice</span> · log in</h1>
{{if .NoUsers}}<p class="err">No users are configured (api.auth.users).</p>{{end}}
{{if .Failed}}<p class="err">Wrong user or password.</p>{{end}}
<input type="hidden" name="next" value="{{.Next}}">
<label for="user">User</label><input id="user" name="user" autocomplete="username" required autofocus>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Log in</button>
</form></body></html>
`))
