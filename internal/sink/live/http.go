package live

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sluice-log/sluice/internal/event"
)

// handler serves the live API over a store. The api listener puts it
// behind TLS and auth; the handler itself refuses cross-origin requests.
type handler struct {
	st        *Store
	now       func() time.Time
	interval  time.Duration // least time between two frames to a viewer
	heartbeat time.Duration // a comment after this long without a frame
	mux       *http.ServeMux
}

// Routes lists the live API's routes, for docs and the auth test.
var Routes = []string{
	"GET " + RoutePrefix + "streams",
	"GET " + RoutePrefix + "follow",
	"GET " + RoutePrefix + "backlog",
	"GET " + RoutePrefix + "search",
}

// Handler returns the live API over the sink's store.
func (s *Sink) Handler() http.Handler { return NewHandler(s.store, s.now) }

// NewHandler returns the live API over st.
func NewHandler(st *Store, now func() time.Time) http.Handler {
	h := &handler{st: st, now: now, interval: 75 * time.Millisecond, heartbeat: 15 * time.Second, mux: http.NewServeMux()}
	h.mux.HandleFunc(Routes[0], h.streams)
	h.mux.HandleFunc(Routes[1], h.followHTTP)
	h.mux.HandleFunc(Routes[2], h.backlog)
	h.mux.HandleFunc(Routes[3], h.search)
	return h
}

// ServeHTTP refuses cross-origin requests, then routes. The routes change
// nothing, but a page on another origin must not read a viewer's logs
// with its credentials: a request whose Origin header is present and names
// another host than the one it was sent to is answered 403.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			http.Error(w, "cross-origin request refused", http.StatusForbidden)
			return
		}
	}
	h.mux.ServeHTTP(w, r)
}

func (h *handler) streams(w http.ResponseWriter, _ *http.Request) {
	now := h.now()
	ss := h.st.Streams()
	out := make([]Info, len(ss))
	for i, s := range ss {
		out[i] = s.Info(now)
	}
	writeJSON(w, http.StatusOK, map[string]any{"streams": out})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client went away: nothing to do
}

func queryOr400(w http.ResponseWriter, r *http.Request) (Query, bool) {
	q, err := ParseQuery(r.URL.Query())
	if err != nil {
		code := http.StatusBadRequest
		if !errors.Is(err, ErrBadQuery) {
			code = http.StatusInternalServerError
		}
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return q, false
	}
	return q, true
}

func (h *handler) followHTTP(w http.ResponseWriter, r *http.Request) {
	q, ok := queryOr400(w, r)
	if !ok {
		return
	}
	f := newFollower(h.st, q, h.now())
	out := startSSE(w)
	hello := []byte("event: hello\ndata: {\"server_time\":\"" + h.now().UTC().Format(time.RFC3339Nano) + "\"}\n\n")
	if out.write(hello) != nil {
		return
	}
	_ = h.follow(r.Context(), out, f) // the viewer went away or stalled
}

// backlog answers a window of one stream as JSON: up to limit lines
// (default 1000) before seq `before` (default: the newest), oldest first,
// filtered by grep and expr if given.
func (h *handler) backlog(w http.ResponseWriter, r *http.Request) {
	q, ok := queryOr400(w, r)
	if !ok {
		return
	}
	if len(q.Streams) != 1 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "backlog: give exactly one stream=NAME"})
		return
	}
	s := h.st.Get(q.Streams[0])
	if s == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no stream " + strconv.Quote(q.Streams[0])})
		return
	}
	first, next := s.Bounds()
	before := next
	if q.Before > 0 {
		before = q.Before
	}
	start, buf, recs := s.ReadBefore(before, q.Limit, nil, nil)
	m := matcher{q: &q}
	out := []byte(`{"stream":`)
	out = event.AppendJSONString(out, s.name)
	out = append(out, `,"first_seq":`...)
	out = strconv.AppendUint(out, first, 10)
	out = append(out, `,"next_seq":`...)
	out = strconv.AppendUint(out, next, 10)
	out = append(out, `,"window_first_seq":`...)
	out = strconv.AppendUint(out, start, 10)
	out = append(out, `,"lines":[`...)
	n := 0
	for i := range recs {
		rec, err := parseRecord(buf[recs[i].off : recs[i].off+recs[i].n])
		if err != nil || !m.match(&rec, recs[i].TS) {
			continue
		}
		if n > 0 {
			out = append(out, ',')
		}
		out = appendLine(out, s.name, recs[i].Seq, &rec, recs[i].TS)
		n++
	}
	out = append(out, "]}\n"...)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}
