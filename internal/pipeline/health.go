package pipeline

import (
	"sort"
	"sync"
	"time"
)

// State is where a running component stands, for /healthz.
type State string

// Component states. Failed is the only unhealthy one.
const (
	// StateRunning: a source reading, a transform or sink whose last
	// attempt went through.
	StateRunning State = "running"
	// StateFailed: a source whose Run failed (it is restarted with
	// backoff), or a sink whose writes keep failing (they are retried).
	StateFailed State = "failed"
	// StateFinished: a source whose input ended (stdin at EOF, --once).
	StateFinished State = "finished"
)

// Health is one component's state.
type Health struct {
	ID    string `json:"id"`
	Kind  string `json:"kind"`
	Type  string `json:"type"`
	State State  `json:"state"`
	// Error is the failure that put the component into StateFailed.
	Error string `json:"error,omitempty"`
	// Since is when the component entered State.
	Since time.Time `json:"since"`
	// Restarts counts how often a failed source was started again.
	Restarts int `json:"restarts,omitempty"`
}

// health is a node's state, written by its own goroutine and read by the
// API's.
type health struct {
	mu       sync.Mutex
	state    State
	err      string
	since    time.Time
	restarts int
}

func (h *health) set(s State, err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.state != s || h.err != msg {
		h.state, h.err, h.since = s, msg, time.Now()
	}
}

func (h *health) restarted() {
	h.mu.Lock()
	h.restarts++
	h.mu.Unlock()
}

func (h *health) snapshot() (State, string, time.Time, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.state, h.err, h.since, h.restarts
}

// Health reports the state of every running component, sorted by kind and
// ID, and of components whose start failed on a reload.
func (p *Pipeline) Health() []Health {
	p.mu.Lock()
	out := make([]Health, 0, len(p.nodes)+len(p.startFailures))
	for _, n := range p.nodes {
		st, err, since, restarts := n.health.snapshot()
		out = append(out, Health{ID: n.cfg.ID, Kind: string(n.cfg.Kind), Type: n.cfg.Type,
			State: st, Error: err, Since: since, Restarts: restarts})
	}
	out = append(out, p.startFailures...)
	p.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// Failed returns the components in StateFailed.
func (p *Pipeline) Failed() []Health {
	var out []Health
	for _, h := range p.Health() {
		if h.State == StateFailed {
			out = append(out, h)
		}
	}
	return out
}
