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
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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

// Source is the file source. Build it with New; Run it once.
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

// Run follows the files until ctx is cancelled (or, in once mode, until
// every file was read to its end and acknowledged). It then waits up to
// 30s for outstanding acknowledgements and writes the final checkpoint.
func (s *Source) Run(ctx context.Context, emit component.Emit) error {
	t, err := newTailer(s, emit)
	if err != nil {
		return err
	}
	return t.run(ctx)
}

var _ component.Source = (*Source)(nil)
