package api

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// SessionCookie is the name of the login session cookie.
const SessionCookie = "sluice_session"

// maxSessions bounds the server-side sessions; the oldest expiring one
// makes room for a new login.
const maxSessions = 10000

// sessions holds the login sessions on the server. The cookie carries 32
// random bytes; the table is keyed by their SHA-256, so looking one up
// compares digests, not the secret, and the table never holds a value a
// cookie could be made from.
type sessions struct {
	ttl time.Duration
	now func() time.Time

	mu   sync.Mutex
	byID map[[32]byte]session
}

type session struct {
	user    string
	expires time.Time
}

func newSessions(ttl time.Duration) *sessions {
	if ttl <= 0 {
		ttl = 12 * time.Hour
	}
	return &sessions{ttl: ttl, now: time.Now, byID: map[[32]byte]session{}}
}

// create starts a session for user and returns its cookie value.
func (ss *sessions) create(user string) (string, time.Time, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", time.Time{}, errors.New("no randomness for a session id")
	}
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	now := ss.now()
	exp := now.Add(ss.ttl)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.byID) >= maxSessions {
		ss.sweep(now)
	}
	ss.byID[sha256.Sum256([]byte(id))] = session{user: user, expires: exp}
	return id, exp, nil
}

// sweep drops expired sessions, and when that frees nothing the one
// closest to expiry. Called with mu held.
func (ss *sessions) sweep(now time.Time) {
	var oldest [32]byte
	var oldestExp time.Time
	for k, s := range ss.byID {
		if !now.Before(s.expires) {
			delete(ss.byID, k)
			continue
		}
		if oldestExp.IsZero() || s.expires.Before(oldestExp) {
			oldest, oldestExp = k, s.expires
		}
	}
	if len(ss.byID) >= maxSessions {
		delete(ss.byID, oldest)
	}
}

// lookup returns the user of r's session cookie, if it names a live one.
func (ss *sessions) lookup(r *http.Request) (string, bool) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return "", false
	}
	key := sha256.Sum256([]byte(c.Value))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.byID[key]
	if !ok {
		return "", false
	}
	if !ss.now().Before(s.expires) {
		delete(ss.byID, key)
		return "", false
	}
	return s.user, true
}

// end forgets r's session, if any.
func (ss *sessions) end(r *http.Request) {
	if c, err := r.Cookie(SessionCookie); err == nil {
		key := sha256.Sum256([]byte(c.Value))
		ss.mu.Lock()
		delete(ss.byID, key)
		ss.mu.Unlock()
	}
}

// Login attempts per client IP: a burst of loginBurst, then one per
// loginEvery.
const (
	loginBurst = 5
	loginEvery = 12 * time.Second
	maxClients = 10000
)

// limiter is a token bucket per client IP for login attempts.
type limiter struct {
	burst float64
	every time.Duration
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(burst int, every time.Duration) *limiter {
	return &limiter{burst: float64(burst), every: every, now: time.Now, buckets: map[string]bucket{}}
}

// allow takes one attempt from ip's bucket; when it is empty it returns
// false and how long until the next attempt is allowed.
func (l *limiter) allow(ip string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[ip]
	if !ok {
		if len(l.buckets) >= maxClients {
			l.prune(now)
		}
		b = bucket{tokens: l.burst, at: now}
	}
	b.tokens = min(l.burst, b.tokens+float64(now.Sub(b.at))/float64(l.every))
	b.at = now
	if b.tokens < 1 {
		l.buckets[ip] = b
		return false, time.Duration((1 - b.tokens) * float64(l.every))
	}
	b.tokens--
	l.buckets[ip] = b
	return true, 0
}

// prune forgets clients whose bucket has refilled, or all of them when
// none has (a flood of addresses). Called with mu held.
func (l *limiter) prune(now time.Time) {
	for ip, b := range l.buckets {
		if b.tokens+float64(now.Sub(b.at))/float64(l.every) >= l.burst {
			delete(l.buckets, ip)
		}
	}
	if len(l.buckets) >= maxClients {
		clear(l.buckets)
	}
}

// counters are the api's own metrics.
type counters struct {
	login *prometheus.CounterVec // by result: ok, failed, limited
	csrf  prometheus.Counter
}

func newCounters(g prometheus.Gatherer) counters {
	c := counters{
		login: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "sluice_api_login_attempts_total",
			Help: "Login attempts on the api listener, by result (ok, failed, limited)."}, []string{"result"}),
		csrf: prometheus.NewCounter(prometheus.CounterOpts{Name: "sluice_api_cross_origin_refused_total",
			Help: "Requests authenticated by a session cookie refused for coming from another origin."}),
	}
	reg, ok := g.(prometheus.Registerer)
	if !ok {
		return c
	}
	// A reload builds a new server on the same registry: keep counting on
	// the collectors already there.
	var are prometheus.AlreadyRegisteredError
	if err := reg.Register(c.login); errors.As(err, &are) {
		c.login = are.ExistingCollector.(*prometheus.CounterVec)
	}
	if err := reg.Register(c.csrf); errors.As(err, &are) {
		c.csrf = are.ExistingCollector.(prometheus.Counter)
	}
	return c
}
