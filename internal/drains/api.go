package drains

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"unicode/utf8"
)

// RoutePrefix is where the drains API is mounted on the api listener.
const RoutePrefix = "/api/v1/apps/"

// maxBody bounds a POST body; a drain URL is far shorter.
const maxBody = 64 << 10

var (
	errExists = errors.New("this app already has a drain with that URL")
	errClosed = errors.New("drains are shutting down")
)

// Drain is a drain as the API shows it, in Heroku's shape plus status.
type Drain struct {
	ID  string `json:"id"`
	App string `json:"app"`
	// URL has its password replaced by <redacted>.
	URL    string `json:"url"`
	Origin string `json:"origin"`
	// Status is connected (the last write went through, or none failed
	// yet), failing (the last write failed; it is being retried) or
	// closing.
	Status    string `json:"status"`
	Buffered  int    `json:"buffered"`
	Delivered int64  `json:"delivered"`
	Dropped   int64  `json:"dropped"`
	Rejected  int64  `json:"rejected"`
	LastError string `json:"last_error,omitempty"`
	CreatedAt string `json:"created_at"`
}

// Handler serves the drains API:
//
//	GET    /api/v1/apps/{app}/drains
//	POST   /api/v1/apps/{app}/drains       {"url": "<drain URL>"} → 201
//	GET    /api/v1/apps/{app}/drains/{id}
//	DELETE /api/v1/apps/{app}/drains/{id}  → 204
func (r *Router) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+RoutePrefix+"{app}/drains", r.list)
	mux.HandleFunc("POST "+RoutePrefix+"{app}/drains", r.create)
	mux.HandleFunc("GET "+RoutePrefix+"{app}/drains/{id}", r.get)
	mux.HandleFunc("DELETE "+RoutePrefix+"{app}/drains/{id}", r.delete)
	return mux
}

func (r *Router) list(w http.ResponseWriter, req *http.Request) {
	app := req.PathValue("app")
	r.mu.RLock()
	out := []Drain{}
	for id, rt := range r.routes {
		if rt.App == app {
			out = append(out, r.view(id, rt))
		}
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt < out[j].CreatedAt })
	writeJSON(w, http.StatusOK, out)
}

func (r *Router) get(w http.ResponseWriter, req *http.Request) {
	app, id := req.PathValue("app"), req.PathValue("id")
	r.mu.RLock()
	rt, ok := r.routes[id]
	var d Drain
	if ok && rt.App == app {
		d = r.view(id, rt)
	}
	r.mu.RUnlock()
	if !ok || rt.App != app {
		writeError(w, http.StatusNotFound, "no such drain")
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (r *Router) create(w http.ResponseWriter, req *http.Request) {
	app := req.PathValue("app")
	if app == "" || !utf8.ValidString(app) {
		writeError(w, http.StatusUnprocessableEntity, "app name must be non-empty UTF-8")
		return
	}
	var body struct {
		URL string `json:"url"`
	}
	dec := json.NewDecoder(io.LimitReader(req.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "want a JSON body {\"url\": \"<drain URL>\"}: "+err.Error())
		return
	}
	if body.URL == "" {
		writeError(w, http.StatusUnprocessableEntity, "url is required")
		return
	}
	id, err := r.add(app, body.URL, OriginAPI, "")
	switch {
	case errors.Is(err, errExists):
		writeError(w, http.StatusConflict, err.Error()+" (id "+id+")")
		return
	case errors.Is(err, errClosed):
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	case err != nil:
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	if err := r.store.save(r); err != nil {
		r.remove(app, id)
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	r.mu.RLock()
	d := r.view(id, r.routes[id])
	r.mu.RUnlock()
	writeJSON(w, http.StatusCreated, d)
}

func (r *Router) delete(w http.ResponseWriter, req *http.Request) {
	app, id := req.PathValue("app"), req.PathValue("id")
	rt, ok := r.remove(app, id)
	switch {
	case rt == nil || rt.App != app:
		writeError(w, http.StatusNotFound, "no such drain")
		return
	case !ok && rt.Origin == OriginPostgres:
		writeError(w, http.StatusConflict, "this drain comes from the drains table (drains.postgres); delete its row there")
		return
	case !ok:
		writeError(w, http.StatusConflict, "this drain comes from the config (drains.static); remove it there and reload")
		return
	}
	if err := r.store.save(r); err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// view is the API's picture of a drain; the caller holds mu.
func (r *Router) view(id string, rt *route) Drain {
	d := Drain{ID: id, App: rt.App, Origin: rt.Origin, CreatedAt: rt.CreatedAt, Status: "closing"}
	if in := r.instances[id]; in != nil {
		d.URL = in.url
		d.Status, d.LastError = in.status()
		d.Buffered = in.q.len()
		d.Delivered = in.delivered.Load()
		d.Dropped = in.q.droppedTotal()
		d.Rejected = in.rejected.Load()
	}
	return d
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}
