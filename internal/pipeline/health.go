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

// healthView is what Health reads: the nodes of the graph last applied
// and the sources of the last reload that could not start. It is swapped
// whole at the end of every apply, so Health never waits for a reload or
// a shutdown, which hold the pipeline's lock for as long as they drain.
type healthView struct {
	nodes         []*node
	startFailures []Health
}

// publishHealth makes the graph just applied the one Health reports. After
// Stop it keeps the stopped nodes, whose final states tell a batch job
// (--once) how it went.
func (p *Pipeline) publishHealth(nodes map[string]*node, keep bool) {
	v := &healthView{startFailures: p.startFailures}
	if keep {
		if old := p.health.Load(); old != nil {
			v.nodes = old.nodes
		}
	}
	for _, n := range nodes {
		v.nodes = append(v.nodes, n)
	}
	p.health.Store(v)
}

// Health reports the state of every running component, sorted by kind and
// ID, and of components whose start failed on a reload; after Stop, the
// final state of the components that ran last.
func (p *Pipeline) Health() []Health {
	v := p.health.Load()
	if v == nil {
		return nil
	}
	out := make([]Health, 0, len(v.nodes)+len(v.startFailures))
	for _, n := range v.nodes {
		st, err, since, restarts := n.health.snapshot()
		out = append(out, Health{ID: n.cfg.ID, Kind: string(n.cfg.Kind), Type: n.cfg.Type,
			State: st, Error: err, Since: since, Restarts: restarts})
	}
	out = append(out, v.startFailures...)
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
