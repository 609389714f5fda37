package live

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sluice-log/sluice/internal/atomicfile"
)

// The backlog file keeps the rings across a restart: Close writes it
// under the sink's data directory (atomically: a crash leaves the previous
// file or the new one), New reads it back. It is written at shutdown only,
// so a crash or kill -9 loses what arrived since the last clean stop.
//
// Version 2 keeps each stream's sequence numbers (its first seq), so a
// viewer's resume cursor (after=STREAM:SEQ) stays right across a clean
// restart; version 1 files are still read, numbered from 0.
//
//	"sluice-live-backlog 2\n"
//	per stream: uvarint len(name) name  uvarint first  uvarint lines
//	            per line: varint ts  uvarint len(record) record
const (
	spillMagic   = "sluice-live-backlog 2\n"
	spillMagicV1 = "sluice-live-backlog 1\n"
)

// spillFile is the backlog file's name in the sink's data directory.
const spillFile = "backlog"

var errBadSpill = errors.New("bad backlog file")

// encodeSpill serialises every stream's kept records, oldest first.
func encodeSpill(st *Store) []byte {
	buf := []byte(spillMagic)
	for _, s := range st.Streams() {
		s.mu.RLock()
		buf = binary.AppendUvarint(buf, uint64(len(s.name)))
		buf = append(buf, s.name...)
		buf = binary.AppendUvarint(buf, s.r.first)
		buf = binary.AppendUvarint(buf, uint64(s.r.lines()))
		for seq := s.r.first; seq < s.r.next; seq++ {
			rec, ts := s.r.at(seq)
			buf = binary.AppendVarint(buf, ts)
			buf = binary.AppendUvarint(buf, uint64(len(rec)))
			buf = append(buf, rec...)
		}
		s.mu.RUnlock()
	}
	return buf
}

// decodeSpill appends the streams of a backlog file to st, as if their
// records had just arrived at now, with the seqs they had. Records that do
// not parse, or exceed the store's bounds, fail the whole file.
func decodeSpill(st *Store, data []byte, now time.Time) error {
	rest, v2 := bytes.CutPrefix(data, []byte(spillMagic))
	if !v2 {
		var v1 bool
		if rest, v1 = bytes.CutPrefix(data, []byte(spillMagicV1)); !v1 {
			return fmt.Errorf("%w: no header", errBadSpill)
		}
	}
	for len(rest) > 0 {
		name, r, err := lenPrefixed(rest)
		if err != nil {
			return fmt.Errorf("%w: stream name", errBadSpill)
		}
		var first uint64
		if v2 {
			var k int
			// A seq near 2^64 would wrap within the ring's lifetime;
			// no stream ever gets there (2^62 lines).
			if first, k = binary.Uvarint(r); k <= 0 || first > 1<<62 {
				return fmt.Errorf("%w: first seq", errBadSpill)
			}
			r = r[k:]
		}
		n, k := binary.Uvarint(r)
		if k <= 0 {
			return fmt.Errorf("%w: line count", errBadSpill)
		}
		rest = r[k:]
		s := st.stream(string(name), now.UnixNano())
		s.mu.Lock()
		s.r.startAt(first)
		s.mu.Unlock()
		for range n {
			ts, k := binary.Varint(rest)
			if k <= 0 {
				return fmt.Errorf("%w: timestamp", errBadSpill)
			}
			var rec []byte
			if rec, rest, err = lenPrefixed(rest[k:]); err != nil {
				return fmt.Errorf("%w: record", errBadSpill)
			}
			if _, err := parseRecord(rec); err != nil {
				return fmt.Errorf("%w: record", errBadSpill)
			}
			if len(rec) > st.lim.MaxBytes/4 {
				continue // kept under a larger max_bytes: too long now
			}
			s.mu.Lock()
			copy(s.r.reserve(len(rec), ts), rec)
			s.mu.Unlock()
		}
	}
	return nil
}

// save writes the backlog file; nothing to keep removes it.
func (s *Sink) save() error {
	if s.deps.DataDir == "" {
		return nil
	}
	path := filepath.Join(s.deps.DataDir, spillFile)
	if len(s.store.Streams()) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("removing the live backlog file: %w", err)
		}
		return nil
	}
	if err := atomicfile.Write(path, encodeSpill(s.store), 0o600); err != nil {
		return fmt.Errorf("saving the live backlog: %w", err)
	}
	return nil
}

// load reads the backlog file, if any. A file that does not parse is
// logged, counted and set aside (renamed *.bad), and the sink starts with
// what it read before the damage.
func (s *Sink) load() {
	if s.deps.DataDir == "" {
		return
	}
	path := filepath.Join(s.deps.DataDir, spillFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return
	}
	if err == nil {
		err = decodeSpill(s.store, data, s.now())
	}
	if err != nil {
		s.deps.Metrics.Errors.Inc()
		s.deps.Logger.Error("reading the live backlog; set aside as backlog.bad", "path", path, "error", err)
		_ = os.Rename(path, path+".bad") // best effort: the next save replaces the file anyway
		return
	}
	s.deps.Logger.Info("live backlog restored", "streams", len(s.store.Streams()))
}
