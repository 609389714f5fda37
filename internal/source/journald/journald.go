// Package journald reads the systemd journal through `journalctl
// --output=json`, the way Vector and CrowdSec do: a pure-Go reader would lag
// the journal format, and the cgo reader would break the static binary.
//
// The cursor of the last acknowledged entry is the checkpoint: it is written
// atomically to the data dir only once every entry up to it has been taken
// by the sinks, and journalctl resumes --after-cursor it, so a restart
// neither loses nor repeats entries. If journalctl exits it is restarted
// with backoff from the last cursor read.
package journald

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/sluice-log/sluice/internal/ack"
	"github.com/sluice-log/sluice/internal/atomicfile"
	"github.com/sluice-log/sluice/internal/backoff"
	"github.com/sluice-log/sluice/internal/checkpoint"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
)

// Config configures the journald source.
type Config struct {
	// Units limits the entries to these systemd units (journalctl --unit).
	Units []string `yaml:"units"`
	// Matches are journal field matches such as "_TRANSPORT=kernel",
	// passed to journalctl as they are (entries matching any of them).
	Matches []string `yaml:"matches"`
	// Files reads these journal files instead of the system journal
	// (journalctl --file), e.g. files collected by systemd-journal-remote.
	Files []string `yaml:"files"`
	// Directory reads the journal files in this directory (journalctl -D).
	Directory string `yaml:"directory"`
	// ReadFrom is where to start without a saved cursor: beginning (the
	// whole journal) or end (new entries only). Default end.
	ReadFrom string `yaml:"read_from"`
	// Journalctl is the program to run. Default journalctl (from PATH).
	Journalctl string `yaml:"journalctl"`
	// BatchSize is the most entries emitted at once. Default 500.
	BatchSize int `yaml:"batch_size"`
	// RestartBackoff is the first wait before restarting journalctl after it
	// exits; it doubles up to one minute. Default 1s.
	RestartBackoff config.Duration `yaml:"restart_backoff"`
}

// Defaults implements component.Defaulter.
func (c *Config) Defaults() {
	c.ReadFrom = "end"
	c.Journalctl = "journalctl"
	c.BatchSize = 500
	c.RestartBackoff = config.Duration(time.Second)
}

// Validate implements component.Validator.
func (c *Config) Validate() error {
	if c.ReadFrom != "beginning" && c.ReadFrom != "end" {
		return fmt.Errorf("read_from must be beginning or end, not %q", c.ReadFrom)
	}
	if c.BatchSize < 1 {
		return errors.New("batch_size must be at least 1")
	}
	for _, m := range c.Matches {
		if !strings.Contains(m, "=") || strings.HasPrefix(m, "-") {
			return fmt.Errorf("match %q is not FIELD=value", m)
		}
	}
	return nil
}

// Source follows the journal.
type Source struct {
	cfg     *Config
	deps    component.Deps
	path    string // cursor file
	tracker *checkpoint.Tracker[string]

	writeMu   sync.Mutex // serializes cursor file writes, so none goes backwards
	mu        sync.Mutex
	committed string // cursor of the last acknowledged entry
	written   time.Time
	flushSoon *time.Timer // writes an acknowledged cursor that a burst limit held back
	lastRead  string      // cursor of the last entry emitted
	restarts  interface{ Inc() }
	// acks gets a value (without blocking) after each release, for finish
	// to wait on.
	acks chan struct{}
}

// ackWait bounds how long a stopping source waits for the
// acknowledgements of entries it emitted.
const ackWait = 30 * time.Second

// New returns a journald source.
func New(c *Config, d component.Deps) (component.Source, error) {
	s := &Source{cfg: c, deps: d, path: filepath.Join(d.DataDir, "cursor"), tracker: checkpoint.NewTracker(""),
		acks:     make(chan struct{}, 1),
		restarts: d.Metrics.Counter("journald_restarts_total", "Times journalctl exited and was started again.", nil)}
	data, err := os.ReadFile(s.path)
	switch {
	case err == nil:
		s.committed = strings.TrimSpace(string(data))
		s.lastRead = s.committed
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("reading journald cursor: %w", err)
	}
	return s, nil
}

// args builds journalctl's command line, resuming after cursor.
func (s *Source) args(cursor string) []string {
	a := []string{"--output=json", "--all", "--no-pager"}
	if !s.deps.Once {
		a = append(a, "--follow")
	}
	switch {
	case cursor != "":
		a = append(a, "--after-cursor="+cursor)
	case s.cfg.ReadFrom == "beginning":
		a = append(a, "--lines=all")
	default:
		a = append(a, "--lines=0")
	}
	for _, f := range s.cfg.Files {
		a = append(a, "--file="+f)
	}
	if s.cfg.Directory != "" {
		a = append(a, "--directory="+s.cfg.Directory)
	}
	for _, u := range s.cfg.Units {
		a = append(a, "--unit="+u)
	}
	for i, m := range s.cfg.Matches {
		if i > 0 {
			a = append(a, "+")
		}
		a = append(a, m)
	}
	return a
}

// Start implements component.Starter: it checks that journalctl can be
// found and run, and that the data dir can hold the cursor, so neither
// fails only after sluice reported itself started. It acquires nothing, so
// Run does not need it: a journalctl that cannot be started then is
// restarted with backoff, as one that exits.
func (s *Source) Start(context.Context) error {
	if _, err := exec.LookPath(s.cfg.Journalctl); err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) {
			err = ee.Err
		}
		return fmt.Errorf("journalctl %q: %w", s.cfg.Journalctl, err)
	}
	if s.deps.DataDir == "" {
		return nil // nowhere to keep a cursor: every start reads per read_from
	}
	return checkWritable(s.deps.DataDir)
}

// checkWritable creates dir and proves a file can be written in it.
func checkWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating data dir: %w", err)
	}
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("data dir %s is not writable: %w", dir, err)
	}
	if err := errors.Join(f.Close(), os.Remove(f.Name())); err != nil {
		return fmt.Errorf("data dir %s: removing write test: %w", dir, err)
	}
	return nil
}

// Run implements component.Source. It returns at once when ctx is already
// done.
func (s *Source) Run(ctx context.Context, emit component.Emit) error {
	if ctx.Err() != nil {
		return nil
	}
	bo := backoff.Exponential{Base: s.cfg.RestartBackoff.D(), Max: time.Minute, Jitter: true}
	for {
		started := time.Now()
		err := s.runOnce(ctx, emit)
		if ctx.Err() != nil || s.deps.Once {
			return s.finish(err)
		}
		s.restarts.Inc()
		s.deps.Metrics.Errors.Inc()
		if time.Since(started) > time.Minute {
			bo.Reset()
		}
		wait := bo.Next()
		s.deps.Logger.Warn("journalctl exited; restarting", "error", err, "in", wait)
		if !backoff.Sleep(ctx, wait) {
			return s.finish(nil)
		}
	}
}

// finish waits (bounded) for outstanding acknowledgements and commits.
func (s *Source) finish(err error) error {
	s.waitAcks()
	s.mu.Lock()
	if s.flushSoon != nil {
		// A replacement instance may write the same file after we return.
		s.flushSoon.Stop()
		s.flushSoon = nil
	}
	s.mu.Unlock()
	if cerr := s.commit(); cerr != nil && err == nil {
		err = cerr
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// waitAcks waits until every emitted batch is released, at most ackWait.
func (s *Source) waitAcks() {
	if s.tracker.Pending() == 0 {
		return
	}
	timer := time.NewTimer(ackWait)
	defer timer.Stop()
	for s.tracker.Pending() > 0 {
		select {
		case <-s.acks:
		case <-timer.C:
			s.deps.Logger.Warn("gave up waiting for acknowledgements; unacknowledged entries will be read again",
				"batches", s.tracker.Pending())
			return
		}
	}
}

// runOnce runs journalctl until it exits or ctx is done.
func (s *Source) runOnce(ctx context.Context, emit component.Emit) error {
	s.mu.Lock()
	cursor := s.lastRead
	s.mu.Unlock()
	cmd := exec.Command(s.cfg.Journalctl, s.args(cursor)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr strings.Builder
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("starting journalctl: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting journalctl: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) })
	defer stop()
	readErr := s.read(ctx, out, emit)
	if readErr != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
	waitErr := cmd.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if readErr != nil {
		return readErr
	}
	if waitErr != nil {
		return fmt.Errorf("journalctl: %w: %s", waitErr, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// read turns journalctl's JSON lines into batches. A batch is emitted when
// it is full or when no more output is immediately available.
func (s *Source) read(ctx context.Context, r io.Reader, emit component.Emit) error {
	br := bufio.NewReaderSize(r, 256<<10)
	var b *event.Batch
	var last string
	flush := func() error {
		if b == nil || len(b.Events) == 0 {
			return nil
		}
		seq := s.tracker.Add(last)
		b.Ack = ack.New(func(st ack.Status) { s.acked(seq, st) })
		s.mu.Lock()
		s.lastRead = last
		s.mu.Unlock()
		err := emit(ctx, b)
		b = nil
		return err
	}
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// An entry over 256KiB: read the rest of it.
			rest, err2 := br.ReadBytes('\n')
			line, err = append(append([]byte(nil), line...), rest...), err2
		}
		if len(line) > 1 {
			e, cursor, perr := decodeEntry(line)
			if perr != nil {
				s.deps.Metrics.Errors.Inc()
				s.deps.Logger.Warn("skipping journal entry", "error", perr)
			} else {
				if b == nil {
					b = &event.Batch{}
				}
				b.Events = append(b.Events, e)
				last = cursor
			}
		}
		if err != nil {
			if ferr := flush(); ferr != nil {
				return ferr
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading journalctl output: %w", err)
		}
		if b != nil && (len(b.Events) >= s.cfg.BatchSize || br.Buffered() == 0) {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// acked advances the committed cursor. The file is written at most once
// a second, the last cursor of a burst a second later at the latest, and
// always when the source stops: a burst of acks does not become a burst of
// fsyncs, and a crash repeats at most about a second of entries.
func (s *Source) acked(seq uint64, st ack.Status) {
	defer func() { // after committed is updated: finish commits it next
		select {
		case s.acks <- struct{}{}:
		default:
		}
	}()
	if !s.tracker.Done(seq, st) {
		return
	}
	s.mu.Lock()
	s.committed = s.tracker.Committed()
	due := time.Since(s.written) >= time.Second
	if due {
		s.written = time.Now()
	} else if s.flushSoon == nil {
		s.flushSoon = time.AfterFunc(time.Second, func() {
			s.mu.Lock()
			s.flushSoon, s.written = nil, time.Now()
			s.mu.Unlock()
			s.saveCursor()
		})
	}
	s.mu.Unlock()
	if due {
		s.saveCursor()
	}
}

func (s *Source) saveCursor() {
	if err := s.commit(); err != nil {
		s.deps.Metrics.Errors.Inc()
		s.deps.Logger.Error("saving journald cursor", "error", err)
	}
}

// commit writes the committed cursor. Writes are serialized and each reads
// the cursor under the lock, so a slow earlier write cannot land last.
func (s *Source) commit() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	s.mu.Lock()
	cursor := s.committed
	s.mu.Unlock()
	if cursor == "" {
		return nil
	}
	return atomicfile.Write(s.path, []byte(cursor+"\n"), 0o600)
}

// limitedWriter keeps the first n bytes written to it and discards the
// rest, so it never fails: a strings.Builder's Write cannot.
type limitedWriter struct {
	w *strings.Builder
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

func init() {
	component.MustRegister(component.SourceSpec("journald", "the systemd journal via journalctl, resuming from its cursor", New))
}

var (
	_ component.Source  = (*Source)(nil)
	_ component.Starter = (*Source)(nil)
)
