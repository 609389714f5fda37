// Package file implements the file sink: events appended, one encoded line
// each, to files whose path is a template of the event's timestamp and
// fields (/var/log/sluice/{{ .stream }}-%Y-%m-%d.log).
//
// Open files are kept in a small cache, closed when idle or least recently
// used. A Write returns nil only once every line of the batch has been
// written to its file (and fsynced, with fsync: true). When logrotate or a
// person renames or deletes a file, the sink notices within a second (it
// compares the path's inode with the open one) and creates a new file at
// the path; Reopen, called on SIGHUP, does the same for every file at once.
package file

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/codec"
	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/config"
	"github.com/sluice-log/sluice/internal/event"
)

func init() {
	component.MustRegister(component.SinkSpec[Config]("file",
		"Append events to files named by a path template, with rotation support.", New))
}

// Config configures the file sink.
type Config struct {
	// Path of the file to append to. strftime verbs (%Y %y %m %d %H %M %S
	// %j %F %T %s, %% for a percent sign) are taken from the event timestamp
	// in UTC; {{ .name }} inserts an attribute (stream, host, ...) or field,
	// with '/', '..' and control bytes replaced so that a value cannot leave
	// the directory. Required.
	Path string `yaml:"path"`
	// Encoding of each line: json (default), text, logfmt, or any other
	// registered encoding (see docs/encodings.md).
	Encoding string `yaml:"encoding"`
	// MaxOpenFiles is how many files are kept open at once; opening one
	// more closes the least recently used. Default 256.
	MaxOpenFiles int `yaml:"max_open_files"`
	// IdleTimeout closes a file nobody wrote to for this long. Default 30s;
	// 0 keeps files open until evicted, reopened or the sink closes.
	IdleTimeout config.Duration `yaml:"idle_timeout"`
	// Fsync makes every Write fsync the files it wrote before reporting
	// success. Default false: data is handed to the kernel, which survives a
	// crash of sluice but not of the machine.
	Fsync bool `yaml:"fsync"`

	// tmpl and enc are what Validate parsed, for the constructor.
	tmpl pathRenderer
	enc  codec.Encoder
}

// Defaults sets the documented defaults.
func (c *Config) Defaults() {
	c.Encoding = "json"
	c.MaxOpenFiles = 256
	c.IdleTimeout = config.Duration(30 * time.Second)
}

// Validate checks the path template, the encoding and the limits, and
// keeps the parsed template and the encoder for the constructor.
func (c *Config) Validate() error {
	tmpl, err := parsePath(c.Path)
	if err != nil {
		return err
	}
	enc, err := codec.Lookup(c.Encoding)
	if err != nil {
		return fmt.Errorf("encoding: %w", err)
	}
	if c.MaxOpenFiles < 1 {
		return fmt.Errorf("max_open_files must be at least 1, got %d", c.MaxOpenFiles)
	}
	c.tmpl, c.enc = tmpl, enc
	return nil
}

// statInterval is how often, at most, a file's path is compared with the
// open file to notice rotation.
const statInterval = time.Second

var errClosed = errors.New("file sink is closed")

// Sink appends events to templated files. All state is guarded by mu: Write
// is never concurrent, but Reopen (from the signal handler) and the idle
// janitor are.
type Sink struct {
	tmpl         pathRenderer
	enc          codec.Encoder
	fsync        bool
	maxOpen      int
	idle         time.Duration
	statInterval time.Duration
	log          *slog.Logger
	openGauge    prometheus.Gauge
	rotations    prometheus.Counter

	mu      sync.Mutex
	files   map[string]*handle
	closed  bool
	seq     uint64    // batches written, to find a handle's first touch per batch
	tick    uint64    // LRU clock
	pathBuf []byte    // rendered path of the current event
	touched []*handle // handles with pending data in the current batch
	owners  []*handle // the handle of each event of the current batch
	failed  []byte    // path that failed to open in the current batch
	failErr error     // and why, so its other events do not retry the open

	done      chan struct{}
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// New creates a file sink from a validated config.
func New(cfg *Config, deps component.Deps) (component.Sink, error) {
	return newSink(cfg, deps), nil
}

func newSink(cfg *Config, deps component.Deps) *Sink {
	m := deps.Metrics
	s := &Sink{
		tmpl: cfg.tmpl, enc: cfg.enc, fsync: cfg.Fsync, maxOpen: cfg.MaxOpenFiles,
		idle: cfg.IdleTimeout.D(), statInterval: statInterval, log: deps.Logger,
		files: make(map[string]*handle), done: make(chan struct{}),
		openGauge: m.Gauge("file_sink_open_files", "Files the file sink holds open.", nil),
		rotations: m.Counter("file_sink_rotations_total", "Files reopened because their path was moved away or deleted.", nil),
	}
	if s.idle > 0 {
		s.wg.Add(1)
		go s.janitor(max(s.idle/2, 10*time.Millisecond))
	}
	return s
}

// Write appends every event of b to its file. Events whose file could not
// be opened or written are reported for retry (all of them as a plain
// error, some of them as a component.PartialError); the others are done.
func (s *Sink) Write(_ context.Context, b *event.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	s.seq++
	now := time.Now()
	s.touched, s.owners = s.touched[:0], s.owners[:0]
	s.failed, s.failErr = s.failed[:0], nil
	var firstErr error
	for i := range b.Events {
		e := &b.Events[i]
		h, err := s.handleFor(e, now)
		if err != nil {
			firstErr = cmpErr(firstErr, err)
			s.owners = append(s.owners, nil)
			continue
		}
		h.pending = s.enc.Encode(h.pending, e)
		h.pending = append(h.pending, '\n')
		s.owners = append(s.owners, h)
	}
	for _, h := range s.touched {
		s.flush(h)
	}
	clear(s.touched) // drop references to handles that may be closed
	return s.outcome(firstErr)
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// handleFor returns the open handle for e's path, opening it if needed and
// reopening it when the path was moved away since the last check.
func (s *Sink) handleFor(e *event.Event, now time.Time) (*handle, error) {
	s.pathBuf = s.tmpl.appendPath(s.pathBuf[:0], e)
	h := s.files[string(s.pathBuf)]
	if h != nil && h.batch != s.seq && now.Sub(h.checked) >= s.statInterval {
		h.checked = now
		if h.moved() {
			s.log.Info("file was moved away or deleted; reopening", "path", h.path)
			s.remove(h)
			h = nil
			s.rotations.Inc()
		}
	}
	if h == nil {
		if s.failErr != nil && string(s.failed) == string(s.pathBuf) {
			return nil, s.failErr
		}
		var err error
		if h, err = s.open(string(s.pathBuf), now); err != nil {
			s.failed, s.failErr = append(s.failed[:0], s.pathBuf...), err
			return nil, err
		}
	}
	if h.batch != s.seq {
		h.batch, h.err = s.seq, nil
		s.touched = append(s.touched, h)
	}
	s.tick++
	h.lastUsed = s.tick
	h.usedAt = now
	return h, nil
}

func (s *Sink) open(path string, now time.Time) (*handle, error) {
	if len(s.files) >= s.maxOpen {
		s.evictLRU()
	}
	h, err := openHandle(path, s.fsync)
	if err != nil {
		return nil, err
	}
	h.checked = now
	s.files[path] = h
	s.setGauge()
	s.log.Debug("opened file", "path", path)
	return h, nil
}

// evictLRU closes the least recently used file, writing its pending lines
// first when the current batch already has some for it.
func (s *Sink) evictLRU() {
	var lru *handle
	for _, h := range s.files {
		if lru == nil || h.lastUsed < lru.lastUsed {
			lru = h
		}
	}
	if lru == nil {
		return
	}
	if lru.batch == s.seq {
		s.flush(lru)
	}
	s.remove(lru)
}

// flush writes h's pending lines; a handle that failed is closed so that
// the retry reopens its file.
func (s *Sink) flush(h *handle) {
	if err := h.flush(s.fsync); err != nil {
		h.err = err
		if s.files[h.path] == h {
			s.remove(h)
		}
	}
}

// remove closes h and forgets it.
func (s *Sink) remove(h *handle) {
	if err := h.close(); err != nil {
		s.log.Warn("closing file", "path", h.path, "error", err)
	}
	if s.files[h.path] == h {
		delete(s.files, h.path)
	}
	s.setGauge()
}

func (s *Sink) setGauge() {
	s.openGauge.Set(float64(len(s.files)))
}

// outcome sums up the batch: nil when every event was written, else which
// events to retry.
func (s *Sink) outcome(firstErr error) error {
	failed := 0
	for _, h := range s.owners {
		if h == nil {
			failed++
		} else if h.err != nil {
			failed++
			firstErr = cmpErr(firstErr, h.err)
		}
	}
	if failed == 0 {
		clear(s.owners)
		return nil
	}
	err := fmt.Errorf("writing to file: %w", firstErr)
	if failed < len(s.owners) {
		out := make([]component.Outcome, len(s.owners))
		for i, h := range s.owners {
			if h == nil || h.err != nil {
				out[i] = component.Retry
			}
		}
		err = &component.PartialError{Outcomes: out, Err: err}
	}
	clear(s.owners)
	return err
}

// Reopen closes every open file, so that the next Write reopens each path:
// after logrotate moved the files away, new ones are created. It is called
// on SIGHUP. Nothing is lost: between Writes no data is pending.
func (s *Sink) Reopen() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.files {
		s.remove(h)
	}
}

// janitor closes idle files until the sink closes.
func (s *Sink) janitor(every time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			s.closeIdle(time.Now())
		}
	}
}

func (s *Sink) closeIdle(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.files {
		if now.Sub(h.usedAt) >= s.idle {
			s.log.Debug("closing idle file", "path", h.path)
			s.remove(h)
		}
	}
}

// Close stops the janitor and closes every file. It is idempotent.
func (s *Sink) Close(context.Context) error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.done)
		s.mu.Unlock()
		s.wg.Wait()
		s.mu.Lock()
		defer s.mu.Unlock()
		var errs []error
		for _, h := range s.files {
			errs = append(errs, h.close())
			delete(s.files, h.path)
		}
		s.setGauge()
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

var (
	_ component.Sink     = (*Sink)(nil)
	_ component.Reopener = (*Sink)(nil)
)
