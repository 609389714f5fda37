package api

import (
	"net/http"
	"strings"
	"sync"
)

// Mounts is a table of handlers that components put on the api listener at
// run time (the live sink's routes), by path prefix. It outlives both the
// pipeline's components and the api server, which a reload may rebuild
// independently: the app mounts it once per server, under MountsPrefix, and
// passes it to components as a component.Mounter.
//
// Each prefix holds a stack: the newest mount answers, and unmounting any
// entry removes only that entry, so a component replaced by a reload can
// close after its successor has mounted without taking the routes away.
type Mounts struct {
	mu     sync.RWMutex
	stacks map[string][]*mount
}

type mount struct{ h http.Handler }

// MountsPrefix is the path under which the app serves a Mounts table;
// every prefix mounted must start with it.
const MountsPrefix = "/api/v1/"

// NewMounts returns an empty table.
func NewMounts() *Mounts { return &Mounts{stacks: map[string][]*mount{}} }

// Mount serves h for every path under prefix until unmount is called.
func (m *Mounts) Mount(prefix string, h http.Handler) (unmount func()) {
	e := &mount{h: h}
	m.mu.Lock()
	m.stacks[prefix] = append(m.stacks[prefix], e)
	m.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			m.mu.Lock()
			defer m.mu.Unlock()
			s := m.stacks[prefix]
			for i := range s {
				if s[i] == e {
					s = append(s[:i:i], s[i+1:]...)
					break
				}
			}
			if len(s) == 0 {
				delete(m.stacks, prefix)
				return
			}
			m.stacks[prefix] = s
		})
	}
}

// ServeHTTP dispatches to the newest handler of the longest mounted prefix
// of the path, or answers 404.
func (m *Mounts) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := m.lookup(r.URL.Path); h != nil {
		h.ServeHTTP(w, r)
		return
	}
	http.NotFound(w, r)
}

func (m *Mounts) lookup(path string) http.Handler {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var best string
	var h http.Handler
	for prefix, s := range m.stacks {
		if strings.HasPrefix(path, prefix) && len(prefix) > len(best) {
			best, h = prefix, s[len(s)-1].h
		}
	}
	return h
}
