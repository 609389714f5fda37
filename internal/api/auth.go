package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/sluice-log/sluice/internal/config"
)

// public reports whether r may be served without credentials: the health
// probe, the login page and the login call itself.
func public(r *http.Request) bool {
	switch r.URL.Path {
	case "/healthz":
		return true
	case LoginPath:
		return r.Method == http.MethodGet || r.Method == http.MethodHead
	case LoginAPIPath:
		return r.Method == http.MethodPost
	}
	return false
}

// authenticate requires, on every path but the public ones and when any
// credential is configured, a valid bearer token, basic-auth user or login
// session. A session cookie is sent by the browser on its own, so a
// cookie-authenticated request must also come from this origin (CSRF):
// explicit credentials (Authorization) cannot be forged by another page.
func (s *Server) authenticate(next http.Handler) http.Handler {
	if !s.cfg.Auth.Enabled() {
		return next
	}
	tokens := make([][32]byte, len(s.cfg.Auth.Tokens))
	for i, t := range s.cfg.Auth.Tokens {
		tokens[i] = sha256.Sum256([]byte(t.Reveal()))
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if public(r) {
			next.ServeHTTP(w, r)
			return
		}
		if r.Header.Get("Authorization") != "" {
			if Authorized(r, s.cfg.Auth.Users, tokens) {
				next.ServeHTTP(w, r)
				return
			}
			s.unauthorized(w, r)
			return
		}
		if _, ok := s.sessions.lookup(r); ok {
			if !sameOrigin(r, !safeMethod(r.Method)) {
				s.counters.csrf.Inc()
				http.Error(w, "cross-origin request refused", http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		s.unauthorized(w, r)
	})
}

// unauthorized answers 401; a browser navigating to a page is sent to the
// login page instead when users (who can log in) are configured.
func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request) {
	if len(s.cfg.Auth.Users) > 0 && r.Method == http.MethodGet && r.Header.Get("Sec-Fetch-Mode") == "navigate" {
		http.Redirect(w, r, LoginPath+"?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if r.Header.Get("Sec-Fetch-Mode") == "" { // not a browser's script: offer basic auth
		w.Header().Set("WWW-Authenticate", `Basic realm="sluice", charset="UTF-8"`)
	}
	http.Error(w, "unauthorized", http.StatusUnauthorized)
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// sameOrigin reports whether r comes from a page of this server: its
// Origin header, or else its Referer, names this scheme and host. With
// neither, a safe request (a navigation) passes and, when strict, an
// unsafe one does not.
func sameOrigin(r *http.Request, strict bool) bool {
	scheme := "http://"
	if r.TLS != nil {
		scheme = "https://"
	}
	self := scheme + r.Host
	if o := r.Header.Get("Origin"); o != "" {
		return o == self
	}
	if ref := r.Header.Get("Referer"); ref != "" {
		return ref == self || strings.HasPrefix(ref, self+"/") || strings.HasPrefix(ref, self+"?")
	}
	return !strict
}

// Authorized checks r's credentials: a bearer token compared in constant
// time (as SHA-256 digests, so length leaks nothing), or a basic-auth user
// whose password matches its bcrypt hash.
func Authorized(r *http.Request, users map[string]config.Secret, tokens [][32]byte) bool {
	h := r.Header.Get("Authorization")
	if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
		sum := sha256.Sum256([]byte(tok))
		match := 0
		for _, t := range tokens {
			match |= subtle.ConstantTimeCompare(sum[:], t[:])
		}
		return match == 1
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	return checkPassword(users, user, pass)
}

// checkPassword reports whether pass is user's password. An unknown user
// costs the same bcrypt comparison, so user names cannot be probed.
func checkPassword(users map[string]config.Secret, user, pass string) bool {
	hash, known := users[user]
	if !known {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(pass))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash.Reveal()), []byte(pass)) == nil
}

// dummyHash is a bcrypt hash at bcrypt.DefaultCost, computed once by hand:
// generating it at init cost every sluice command 55 ms at start-up.
var dummyHash = []byte("$2a$10$g/bop6nBRjgJiG77TyZ2euvJWBqFOp39K8HGAz/4/HK41eYGl9zPC")
