// Package fifo implements the fifo source: lines written into a named pipe
// become events.
//
// Programs that can only log to a path (`--log-file`) write into the pipe,
// one after another or several at once; the source keeps reading across
// writers for as long as it runs, and emits a writer's unterminated last
// line when that writer closes. A pipe keeps nothing, so nothing waits for
// the ack token each batch carries; while sluice is not reading, writers
// block on open.
package fifo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sluice-log/sluice/internal/component"
	"github.com/sluice-log/sluice/internal/source/linesource"
)

func init() {
	component.MustRegister(component.SourceSpec("fifo",
		"read lines from a named pipe (FIFO), across successive writers", New))
}

// Config is the fifo source's configuration.
type Config struct {
	// Path is the named pipe to read. Required.
	Path string `yaml:"path"`
	// Create makes the pipe, with mode 0600, when Path does not exist.
	// Default true.
	Create bool `yaml:"create"`
	// Stream is the stream of the events. Default: Path.
	Stream string `yaml:"stream"`
	// Config holds batch_lines, batch_bytes, flush_interval,
	// max_line_bytes and long_lines.
	linesource.Config `yaml:",inline"`
}

// Defaults sets the documented defaults.
func (c *Config) Defaults() {
	c.Create = true
	c.Config.Defaults()
}

// Validate checks the options.
func (c *Config) Validate() error {
	if c.Path == "" {
		return errors.New("path is required: the named pipe to read")
	}
	return c.Config.Validate()
}

// Source reads one named pipe. Start creates the pipe if asked and opens
// it (without waiting for a writer), so a path that is not a pipe or
// cannot be created or opened fails start-up. Run reads the pipe Start
// opened until ctx is cancelled, and closes it, also when ctx is done
// already; Run without Start opens it first. In once mode Run returns when
// the first writer closes the pipe.
type Source struct {
	path   string
	create bool
	once   bool
	opts   linesource.Options

	mu   sync.Mutex
	held *os.File // opened by Start for the next Run
}

// New builds a fifo source.
func New(cfg *Config, deps component.Deps) (component.Source, error) {
	stream := cfg.Stream
	if stream == "" {
		stream = cfg.Path
	}
	return &Source{path: cfg.Path, create: cfg.Create, once: deps.Once, opts: cfg.Options(deps, stream)}, nil
}

// Start implements component.Starter: it makes the pipe if asked and
// opens it for Run.
func (s *Source) Start(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held != nil {
		return nil
	}
	f, err := s.open()
	if err != nil {
		return err
	}
	s.held = f
	return nil
}

// take hands the pipe Start opened to Run, opening it when Start was not
// called (or an earlier Run used it).
func (s *Source) take(ctx context.Context) (*os.File, error) {
	if err := s.Start(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.held
	s.held = nil
	return f, nil
}

// Run reads lines from the pipe until ctx is cancelled (returning nil) or
// reading fails.
func (s *Source) Run(ctx context.Context, emit component.Emit) error {
	f, err := s.take(ctx)
	if err != nil {
		return err
	}
	defer f.Close()
	if ctx.Err() != nil {
		return nil
	}
	r, err := newPipeReader(f)
	if err != nil {
		return err
	}
	in := linesource.Input{
		R: r,
		// Wakes the Read parked in the poller; the file is closed after.
		Interrupt: func() { _ = f.SetReadDeadline(time.Unix(1, 0)) },
		Follow:    !s.once,
	}
	err = linesource.Pump(ctx, in, emit, &s.opts)
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("fifo %s: %w", s.path, err)
	}
	return nil
}

// open makes the pipe if asked and opens it for reading.
//
// Opening a FIFO read-only blocks in open(2) until a writer appears, in a
// system call that cancellation cannot interrupt. O_RDWR would not block
// (on Linux), but it makes sluice a writer of its own pipe, so it would
// never see a writer close: an unterminated last line would be glued to the
// next writer's first. So the pipe is opened O_RDONLY|O_NONBLOCK, which
// returns at once, and stays non-blocking: Go's poller then parks the
// reading goroutine without holding a thread, and a read deadline wakes it
// on cancellation. See pipeReader for how "no writer yet" is told apart
// from "the writer closed".
func (s *Source) open() (*os.File, error) {
	if s.create {
		if err := unix.Mkfifo(s.path, 0o600); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("creating fifo %s: %w", s.path, err)
		}
	}
	// Check before opening: opening some other file type can have effects.
	if err := checkFIFO(os.Stat(s.path)); err != nil {
		return nil, fmt.Errorf("fifo %s: %w", s.path, err)
	}
	f, err := os.OpenFile(s.path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("opening fifo: %w", err) // the error names the path
	}
	if err := checkFIFO(f.Stat()); err != nil {
		f.Close()
		return nil, fmt.Errorf("fifo %s: %w", s.path, err)
	}
	return f, nil
}

// errNotFIFO reports a path that exists but is not a named pipe.
var errNotFIFO = errors.New("not a named pipe")

func checkFIFO(fi fs.FileInfo, err error) error {
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeNamedPipe == 0 {
		return fmt.Errorf("%w (it is a %s)", errNotFIFO, fi.Mode().Type())
	}
	return nil
}

var (
	_ component.Source  = (*Source)(nil)
	_ component.Starter = (*Source)(nil)
)
