// Package checkpoint keeps a source's read position safe across restarts
// and crashes.
//
// A Store holds one JSON document in a file that is always replaced
// atomically (temporary file, fsync, rename, directory fsync), so after a
// crash or kill -9 the file holds either the previous or the new state,
// never a mix. A Tracker turns acknowledgements of emitted batches, which
// arrive in any order on any goroutine, into a position that only ever
// moves over the contiguous prefix of batches that were taken for good.
package checkpoint

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/sluice-log/sluice/internal/atomicfile"
)

// Store is a JSON document persisted atomically in one file. It is safe
// for concurrent use; Save skips the write when nothing changed.
type Store struct {
	path string

	mu   sync.Mutex
	last []byte
}

// Open returns the store for dir/name, creating dir (mode 0700) if needed.
func Open(dir, name string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating checkpoint directory: %w", err)
	}
	return &Store{path: filepath.Join(dir, name)}, nil
}

// Path is the file the store writes.
func (s *Store) Path() string { return s.path }

// Load decodes the stored document into v. It reports false, and leaves v
// alone, when nothing was stored yet. A document that does not decode is
// renamed to <name>.corrupt, so the next Save does not destroy the
// evidence, and returned as an error.
func (s *Store) Load(v any) (bool, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading checkpoint: %w", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		if rerr := os.Rename(s.path, s.path+".corrupt"); rerr != nil {
			return false, fmt.Errorf("decoding checkpoint %s: %w (and moving it aside: %w)", s.path, err, rerr)
		}
		return false, fmt.Errorf("decoding checkpoint %s (moved to %s.corrupt): %w", s.path, filepath.Base(s.path), err)
	}
	s.mu.Lock()
	s.last = data
	s.mu.Unlock()
	return true, nil
}

// Save encodes v and replaces the stored document with it atomically.
func (s *Store) Save(v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding checkpoint: %w", err)
	}
	data = append(data, '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if bytes.Equal(data, s.last) {
		return nil
	}
	if err := atomicfile.Write(s.path, data, 0o600); err != nil {
		return err
	}
	s.last = data
	return nil
}
