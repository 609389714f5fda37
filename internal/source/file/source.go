// Package file implements the file source: it follows log files matched by
// globs, through rotation by rename and by truncation, and checkpoints how
// far each file was read once the events are acknowledged.
//
// One goroutine does all the reading, whatever the number of files: it
// polls the files' sizes, reads those that grew in turns of a bounded
// quantum, and keeps at most max_open_files descriptors open. A file is
// known by its device and inode, verified against a checksum of its first
// bytes so a reused inode or a truncated file is never mistaken for the one
// read before. The checkpoint of a file advances only over the contiguous
// prefix of acknowledged batches, so a restart, even after kill -9, neither
// loses nor (beyond unacknowledged events) repeats lines.
package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/checkpoint"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/lines"
)

func init() {
	component.MustRegister(component.SourceSpec("file",
		"follow log files by glob, through rotation, with checkpoints and multi-line joining", New))
}

// shutdownWait bounds how long Run waits for outstanding acknowledgements
// after its context is cancelled.
const shutdownWait = 30 * time.Second

// readQuantum is how many bytes one file may be read in a turn before the
// next file with new data gets its turn.
const readQuantum = 256 << 10

// Source is the file source. Build it with New.
//
// Start creates the component's data directory, checks that it can write
// its checkpoint there and opens the checkpoint store, so an unwritable
// data_dir fails start-up with an error naming the directory. Run uses that
// store (opening it first when Start was not called); with its context
// already done it returns at once without reading.
type Source struct {
	cfg     *Config
	deps    component.Deps
	log     *slog.Logger
	host    string
	mode    lines.Mode
	joiner  *joiner
	now     func() time.Time
	waitMax time.Duration

	rotations, truncations, longLines prometheus.Counter
	errs                              *rateLimited

	mu    sync.Mutex
	store *checkpoint.Store // opened by Start
}

// New builds a file source from a validated config.
func New(cfg *Config, deps component.Deps) (component.Source, error) {
	host, err := os.Hostname()
	if err != nil {
		host = ""
	}
	m := deps.Metrics
	s := &Source{cfg: cfg, deps: deps, log: deps.Logger, host: host, now: time.Now, waitMax: shutdownWait,
		rotations:   m.Counter("file_rotations_total", "Files the file source saw renamed away from their path (rotation).", nil),
		truncations: m.Counter("file_truncations_total", "Files the file source saw truncated or overwritten.", nil),
		longLines:   m.Counter("file_long_lines_total", "Lines longer than max_line_bytes, split or truncated.", nil),
		errs:        &rateLimited{log: deps.Logger, counter: m.Errors, every: 10 * time.Second, now: time.Now},
	}
	if cfg.LongLines == "truncate" {
		s.mode = lines.Truncate
	}
	if re := cfg.Multiline.start; re != nil {
		s.joiner = &joiner{start: re, maxLines: cfg.Multiline.MaxLines,
			maxBytes: int(cfg.Multiline.MaxBytes), timeout: cfg.Multiline.Timeout.D()}
	}
	return s, nil
}

// Start implements component.Starter: it opens the checkpoint store in
// the data dir, creating the directory and checking it is writable.
func (s *Source) Start(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.store != nil {
		return nil
	}
	store, err := openStore(s.deps.DataDir)
	if err != nil {
		return err
	}
	s.store = store
	return nil
}

// openStore opens the checkpoint store in dir, creating dir, and proves
// that a checkpoint can be written there: a checkpoint that cannot be
// saved would make every restart read the files again.
func openStore(dir string) (*checkpoint.Store, error) {
	if dir == "" {
		return nil, errors.New("the file source needs a data dir for its checkpoints")
	}
	store, err := checkpoint.Open(dir, checkpointFile)
	if err != nil {
		return nil, fmt.Errorf("data dir %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return nil, fmt.Errorf("data dir %s is not writable: %w", dir, pathCause(err))
	}
	name := f.Name()
	err = errors.Join(f.Close(), os.Remove(name))
	if err != nil {
		return nil, fmt.Errorf("data dir %s: removing write test: %w", dir, err)
	}
	return store, nil
}

// pathCause strips the path an *fs.PathError repeats.
func pathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Run follows the files until ctx is cancelled (or, in once mode, until
// every file was read to its end and acknowledged). It then waits up to
// 30s for outstanding acknowledgements and writes the final checkpoint.
func (s *Source) Run(ctx context.Context, emit component.Emit) error {
	if err := s.Start(ctx); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil
	}
	s.mu.Lock()
	store := s.store
	s.mu.Unlock()
	return newTailer(s, store, emit).run(ctx)
}

var (
	_ component.Source  = (*Source)(nil)
	_ component.Starter = (*Source)(nil)
)
