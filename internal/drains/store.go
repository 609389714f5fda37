package drains

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/sluice-log/sluice/internal/atomicfile"
)

// storeFile holds the routes added through the API, under the router's
// data directory (<data_dir>/sinks/drains/).
const storeFile = "routes.json"

// store persists the API's routes. Each change rewrites the whole file
// atomically, so a crash leaves the old or the new list, never a mix. The
// file holds drain URLs with their credentials and is private (0600).
type store struct {
	dir string
	mu  sync.Mutex // orders saves, so the last change is the one on disk
}

func (s *store) path() string { return filepath.Join(s.dir, storeFile) }

// load reads the saved routes; a missing file is an empty list.
func (s *store) load() ([]route, error) {
	if s.dir == "" {
		return nil, nil
	}
	data, err := os.ReadFile(s.path())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading saved drains: %w", err)
	}
	var out []route
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("reading saved drains %s: %w", s.path(), err)
	}
	return out, nil
}

// save writes the API routes of r.
func (s *store) save(r *Router) error {
	if s.dir == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r.mu.RLock()
	list := make([]route, 0, len(r.routes))
	for _, rt := range r.routes {
		if rt.Origin == OriginAPI {
			list = append(list, *rt)
		}
	}
	r.mu.RUnlock()
	sort.Slice(list, func(i, j int) bool {
		if list[i].App != list[j].App {
			return list[i].App < list[j].App
		}
		return list[i].CreatedAt < list[j].CreatedAt
	})
	data, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding drains: %w", err)
	}
	if err := atomicfile.Write(s.path(), append(data, '\n'), 0o600); err != nil {
		return fmt.Errorf("saving drains: %w", err)
	}
	return nil
}

func nowString() string { return time.Now().UTC().Format(time.RFC3339Nano) }
